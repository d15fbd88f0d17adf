"""What a plugin says about itself."""
import dataclasses
import functools
import importlib
import importlib.metadata
import pathlib
import re
from types import ModuleType

from marshmallow import Schema
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
RESERVED_NAMES = {"core", "kernel", "admin", "api"}


class ManifestError(ValueError):
    pass


class IncompatiblePlugin(ManifestError):
    """The plugin declares kernel versions that exclude the running one."""


@functools.cache
def kernel_version():
    """The running kernel's version (the ``emporium`` distribution); None if unknown."""
    try:
        return Version(importlib.metadata.version("emporium"))
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclasses.dataclass(frozen=True)
class Manifest:
    """Declared as ``manifest = Manifest(...)`` in a plugin package's ``__init__``.

    ``settings`` is a marshmallow Schema class; a field with
    ``metadata={"secret": True}`` is write-only through the API.
    ``default`` plugins are installed by ``emporium init``.
    ``requires_kernel`` is a PEP 440 specifier set (``">=0.1,<1"``) of the kernel
    versions the plugin works with; on any other it is broken, never installable.
    """

    name: str
    version: str
    title: str
    summary: str = ""
    depends: tuple[str, ...] = ()
    default: bool = False
    settings: type[Schema] | None = None
    requires_kernel: str | None = None

    def validate(self):
        if not isinstance(self.name, str) or not NAME.match(self.name):
            raise ManifestError(
                f"name {self.name!r} must be 2-40 lowercase letters, digits or _, "
                "starting with a letter"
            )
        if self.name in RESERVED_NAMES:
            raise ManifestError(f"name {self.name!r} is reserved for the kernel")
        try:
            Version(self.version)
        except (InvalidVersion, TypeError):
            raise ManifestError(f"version {self.version!r} is not a PEP 440 version")
        if not self.title or not isinstance(self.title, str):
            raise ManifestError("title is required")
        if isinstance(self.depends, str) or not all(
            isinstance(dep, str) for dep in self.depends
        ):
            raise ManifestError("depends must be a list of plugin names")
        if self.name in self.depends:
            raise ManifestError("a plugin cannot depend on itself")
        if self.settings is not None and not (
            isinstance(self.settings, type) and issubclass(self.settings, Schema)
        ):
            raise ManifestError("settings must be a marshmallow Schema class")
        if self.requires_kernel is not None:
            try:
                # an empty set would accept every kernel: surely not what was meant
                if not SpecifierSet(self.requires_kernel):
                    raise InvalidSpecifier(self.requires_kernel)
            except (InvalidSpecifier, TypeError):
                raise ManifestError(f"requires_kernel {self.requires_kernel!r} is not a "
                                    "PEP 440 specifier set such as '>=0.1,<1'") from None

    def check_kernel(self, version):
        """Raise IncompatiblePlugin unless kernel ``version`` is in ``requires_kernel``."""
        if self.requires_kernel is None or version is None:
            return
        # a pre-release kernel inside the range is still inside it
        if not SpecifierSet(self.requires_kernel).contains(version, prereleases=True):
            raise IncompatiblePlugin(f"needs Emporium {self.requires_kernel}, "
                                     f"this is {version}")

    @property
    def secret_settings(self):
        if self.settings is None:
            return frozenset()
        return frozenset(
            name
            for name, field in self.settings._declared_fields.items()
            if field.metadata.get("secret")
        )


@dataclasses.dataclass
class Plugin:
    """A discovered plugin whose manifest is valid."""

    manifest: Manifest
    module: ModuleType
    distribution: str | None = None
    hooks: ModuleType | None = None
    hookspecs: ModuleType | None = None  # hooks this plugin offers to its dependents

    @property
    def name(self):
        return self.manifest.name

    @property
    def package(self):
        return self.module.__name__

    @property
    def table_prefix(self):
        return f"{self.name}_"

    @property
    def migrations_dir(self):
        path = pathlib.Path(self.module.__file__).parent / "migrations"
        return path if path.is_dir() else None

    def owns_package(self, package_name):
        return package_name == self.package or package_name.startswith(self.package + ".")

    def as_dict(self):
        manifest = self.manifest
        return {
            "name": manifest.name,
            "title": manifest.title,
            "version": manifest.version,
            "summary": manifest.summary,
            "depends": list(manifest.depends),
            "default": manifest.default,
            "requires_kernel": manifest.requires_kernel,
            "distribution": self.distribution,
        }


@dataclasses.dataclass
class BrokenPlugin:
    """A plugin that could not be loaded; it is listed but never installable."""

    name: str
    reason: str
    distribution: str | None = None

    def as_dict(self):
        return {"name": self.name, "reason": self.reason, "distribution": self.distribution}


def load_plugin(name, module, distribution=None):
    """Build a Plugin from an imported package, raising ManifestError when invalid."""
    manifest = getattr(module, "manifest", None)
    if not isinstance(manifest, Manifest):
        raise ManifestError("the package has no `manifest = Manifest(...)`")
    manifest.validate()
    if manifest.name != name:
        raise ManifestError(
            f"registered as {name!r} but its manifest is named {manifest.name!r}"
        )
    # before its models and hooks are imported: they may use what this kernel lacks
    manifest.check_kernel(kernel_version())
    includeme = getattr(module, "includeme", None)
    if includeme is not None and not callable(includeme):
        raise ManifestError("includeme is not callable")
    # the models join the shared metadata now, so that foreign keys between
    # plugins resolve and a plan can name the plugin's tables
    _import_optional(module, "models")
    return Plugin(manifest=manifest, module=module, distribution=distribution,
                  hooks=_import_optional(module, "hooks"),
                  hookspecs=_import_optional(module, "hookspecs"))


def _import_optional(package, name):
    dotted = f"{package.__name__}.{name}"
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name != dotted:
            raise
        return None
