"""The hook reference stays complete, and hooks run in their documented order."""
import pathlib
import re

import pytest

from core import hookspecs
from core.plugins import hookdoc, hookimpl

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"


def test_hook_reference_is_generated_from_the_hookspecs():
    assert (DOCS / "hooks.md").read_text() == hookdoc.render(), (
        "docs/hooks.md is stale: run `python -m core.plugins.hookdoc > docs/hooks.md`")


def test_every_hook_and_argument_is_documented():
    text = (DOCS / "hooks.md").read_text()
    sections = dict(re.findall(r"^## `(\w+)`\n(.*?)(?=^#+ |\Z)", text, re.S | re.M))
    specs = hookdoc.hooks()
    assert len(specs) >= 15
    assert ("catalog", "catalog_product_changed") in {(s[0], s[1]) for s in specs}
    for owner, name, signature, _, doc in specs:
        assert name in sections, f"hook {name} of {owner} is missing from docs/hooks.md"
        for argument in signature.parameters:
            assert f"`{argument}`" in sections[name], f"{name}({argument}) is not documented"
            assert argument in doc, f"the docstring of {name} does not explain {argument}"


def test_the_checkout_protocol_is_complete():
    names = {name for name, fn in vars(hookspecs).items() if hasattr(fn, "emporium_spec")}
    assert {"checkout_validate", "checkout_price_lines", "checkout_discounts",
            "checkout_shipping_options", "checkout_tax", "checkout_tenders", "order_placed",
            "order_status_changed", "order_refunded", "payment_providers"} <= names
    assert {"configure", "install", "uninstall", "serialize", "user_logged_in"} <= names


class Probe:
    """A plugin registered for one test only, as pytest and datasette do."""

    def __init__(self):
        self.calls = []

    @hookimpl(trylast=True)
    def serialize(self, kind, obj, data):
        self.calls.append((kind, dict(data)))
        return {"probe": True}


def test_a_plugin_registered_for_one_test_runs_last_with_trylast(testapp, staff, registry):
    testapp.post_json("/api/v1/admin/plugins/gamma/install", {}, headers=staff.headers)
    pm = registry["plugins"].pm
    probe = Probe()
    pm.register(probe, name="probe")
    try:
        item = testapp.get("/api/v1/alpha/items").json["items"][0]
    finally:
        pm.unregister(probe)
    assert item["probe"] is True
    assert list(item) == ["id", "name", "beta_seen", "gamma_seen", "probe"]
    assert probe.calls == [("alpha.item", {"id": item["id"], "name": item["name"]})]
    item = testapp.get("/api/v1/alpha/items").json["items"][0]
    assert "probe" not in item


class BatchProbe:
    """serialize_many for a whole list, serialize for each object."""

    def __init__(self):
        self.batches = []

    @hookimpl
    def serialize_many(self, kind, objs, data):
        if kind != "x.thing":
            return None
        self.batches.append(list(objs))
        return [{"square": obj * obj, "who": "many"} if obj else None for obj in objs]

    @hookimpl
    def serialize(self, kind, obj, data):
        return {"who": "one", "seen_square": data.get("square")} if kind == "x.thing" else None


def test_serialize_many_is_called_once_for_a_list_before_serialize(register_hooks, registry):
    probe = register_hooks(BatchProbe())
    plugins = registry["plugins"].current()
    data = plugins.extend_many("x.thing", [2, 0, 3], [{}, {}, {"square": "mine"}])
    assert probe.batches == [[2, 0, 3]]
    assert data == [{"square": 4, "who": "many", "seen_square": 4},
                    {"who": "one", "seen_square": None},
                    {"square": "mine", "who": "many", "seen_square": "mine"}]
    # one object: the same hooks, with a list of one
    assert plugins.extend("x.thing", 5, {}) == {"square": 25, "who": "many",
                                                "seen_square": 25}
    assert probe.batches[-1] == [5]
    assert plugins.extend_many("x.thing", [], []) == [] and len(probe.batches) == 2


def test_serialize_many_must_answer_one_result_per_object(register_hooks, registry):
    class Short:
        @hookimpl
        def serialize_many(self, objs):
            return [{}]

    register_hooks(Short())
    with pytest.raises(TypeError, match="2 objects"):
        registry["plugins"].current().extend_many("x.thing", [1, 2], [{}, {}])
