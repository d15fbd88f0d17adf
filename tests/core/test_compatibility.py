"""The compatibility gate: a plugin declares the kernel versions it works with
(``Manifest.requires_kernel``); on any other kernel it is broken, never installable."""
import importlib.metadata
import sys
import types

import pytest
from packaging.version import Version

from core.plugins import Manifest
from core.plugins.discovery import discover
from core.plugins.manifest import IncompatiblePlugin, ManifestError, kernel_version
from tests.conftest import FIXTURE_PLUGINS
from tests.core.test_cli import run, write_ini

ADMIN = "/api/v1/admin/plugins"
KERNEL = importlib.metadata.version("emporium")
REASON = f"incompatible: needs Emporium >=99,<100, this is {KERNEL}"


def manifest(**fields):
    return Manifest(**{"name": "foo", "version": "1.0", "title": "Foo", **fields})


def test_the_kernel_version_is_the_installed_distributions():
    assert kernel_version() == Version(KERNEL)


@pytest.mark.parametrize("spec", [">=0.1,<1", "~=0.1", "==0.1.*", ">=0.1", None])
def test_a_range_holding_the_kernel_passes(spec):
    found = manifest(requires_kernel=spec)
    found.validate()
    found.check_kernel(Version("0.1.0"))


@pytest.mark.parametrize("spec, kernel", [
    (">=0.2,<1", "0.1.0"), (">=0.1,<1", "1.0.0"), (">=0.1,<1", "1.0.0rc1"), ("<0.1", "0.1.0")])
def test_a_range_without_the_kernel_refuses_it(spec, kernel):
    with pytest.raises(IncompatiblePlugin) as exc:
        manifest(requires_kernel=spec).check_kernel(Version(kernel))
    assert str(exc.value) == f"needs Emporium {spec}, this is {kernel}"


def test_a_pre_release_kernel_inside_the_range_passes():
    manifest(requires_kernel=">=0.1,<1").check_kernel(Version("0.2.0.dev3"))


@pytest.mark.parametrize("spec", ["0.1", ">= banana", "", 1])
def test_a_range_that_is_no_pep440_specifier_makes_the_manifest_invalid(spec):
    with pytest.raises(ManifestError) as exc:
        manifest(requires_kernel=spec).validate()
    assert "requires_kernel" in str(exc.value)
    assert not isinstance(exc.value, IncompatiblePlugin)


def test_discovery_lists_it_as_broken_before_importing_its_models():
    found = discover([f"{FIXTURE_PLUGINS}.incompatible"])
    assert "incompatible" not in found.plugins
    # its models.py raises on import: the gate stopped before it
    assert found.broken["incompatible"].reason == REASON


def test_a_plugin_depending_on_an_incompatible_one_is_broken_too(monkeypatch):
    dependent = types.ModuleType("needs_incompatible")
    dependent.manifest = Manifest(name="needs_incompatible", version="1.0", title="Needs",
                                  depends=("incompatible",))
    monkeypatch.setitem(sys.modules, "needs_incompatible", dependent)
    found = discover([f"{FIXTURE_PLUGINS}.incompatible", "needs_incompatible"])
    assert found.broken["needs_incompatible"].reason == (
        "depends on 'incompatible', which is broken")


def test_the_built_in_plugins_declare_a_range_holding_this_kernel(registry):
    for name in ("catalog", "announcements"):
        plugin = registry["plugins"].get(name)
        assert plugin is not None, registry["plugins"].broken.get(name)
        assert plugin.manifest.requires_kernel
        assert plugin.as_dict()["requires_kernel"] == plugin.manifest.requires_kernel


def test_admin_api_lists_the_reason_and_refuses_to_install(testapp, staff, db_connection):
    items = {p["name"]: p for p in testapp.get(ADMIN, headers=staff.headers).json["items"]}
    assert (items["incompatible"]["state"], items["incompatible"]["reason"]) == (
        "broken", REASON)
    for operation in ("install", "enable"):
        response = testapp.post_json(f"{ADMIN}/incompatible/{operation}", {},
                                     headers=staff.headers, status=422)
        assert response.json["error"]["code"] == "plugin_broken"
        assert REASON in response.json["error"]["message"]
    plan = testapp.get(f"{ADMIN}/incompatible/plan", {"operation": "install"},
                       headers=staff.headers, status=422)
    assert plan.json["error"]["code"] == "plugin_broken"


def test_cli_lists_the_reason_and_refuses_to_install(make_database, tmp_path):
    ini = write_ini(tmp_path / "test.ini", make_database())
    assert run(ini, "init")[0] == 0
    status, out, _ = run(ini, "plugins", "list")
    assert status == 0
    [line] = [line for line in out.splitlines() if line.startswith("incompatible ")]
    assert line.split()[1] == "broken" and line.endswith(REASON)
    status, out, err = run(ini, "plugins", "install", "incompatible")
    assert (status, out) == (1, "")
    assert err == f"emporium: error: Plugin 'incompatible' cannot be used: {REASON}\n"
