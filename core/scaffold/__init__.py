"""``emporium plugins new NAME``: a new plugin as its own distribution, ready to install.

The files come from ``template/`` (``string.Template``: ``$name``, ``${package}``;
``$$`` is a dollar sign). In paths, ``__package__`` and ``__name__`` stand for the
package and the plugin name, and the ``.tmpl`` suffix is dropped: the templates
are data, never imported or collected by pytest.
"""
import datetime as dt
import pathlib
import string
from importlib.metadata import PackageNotFoundError, version

from packaging.version import Version

from core.plugins.manifest import NAME, RESERVED_NAMES

TEMPLATE_DIR = pathlib.Path(__file__).parent / "template"
SUFFIX = ".tmpl"


class ScaffoldError(ValueError):
    """A one-line reason the plugin cannot be made."""


def kernel_range():
    """The kernel versions a new plugin declares it works with: this major version."""
    try:
        current = Version(version("emporium"))
    except PackageNotFoundError:  # running from a checkout that was never installed
        current = Version("0.1")
    return f">={current.major}.{current.minor},<{current.major + 1}"


def variables(name):
    words = name.split("_")
    return {
        "name": name,
        "package": f"emporium_{name}",
        "distribution": f"emporium-{name.replace('_', '-')}",
        "title": " ".join(word.capitalize() for word in words if word),
        "class_prefix": "".join(word.capitalize() for word in words),
        "url": name.replace("_", "-"),
        "kernel_range": kernel_range(),
        "today": dt.date.today().isoformat(),
    }


def check_name(name):
    # the rules of core.plugins.manifest, said before any file is written
    if not NAME.match(name):
        raise ScaffoldError(f"plugin name {name!r} must be 2-40 lowercase letters, digits or _, "
                            "starting with a letter")
    if name in RESERVED_NAMES:
        raise ScaffoldError(f"plugin name {name!r} is reserved for the kernel")


def create(name, target=None):
    """Write the plugin ``name`` into the new directory ``target`` (default
    ``./emporium-<name>``); returns (directory, the files written, relative)."""
    check_name(name)
    values = variables(name)
    target = pathlib.Path(target or values["distribution"])
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another directory with --dir")
    rendered = []
    for source in sorted(TEMPLATE_DIR.rglob(f"*{SUFFIX}")):
        relative = source.relative_to(TEMPLATE_DIR).as_posix()[:-len(SUFFIX)]
        relative = relative.replace("__package__", values["package"]).replace(
            "__name__", name)
        try:
            text = string.Template(source.read_text()).substitute(values)
        except (KeyError, ValueError) as exc:  # a broken template is the kernel's bug
            raise RuntimeError(f"scaffold template {source}: {exc!r}") from None
        rendered.append((relative, text))
    try:
        target.mkdir(parents=True)
    except OSError as exc:
        raise ScaffoldError(f"cannot create {target}: {exc.strerror}") from None
    for relative, text in rendered:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return target, [relative for relative, _ in rendered]
