"""Discovery and the dependency graph, without a database."""
import pytest

from core.plugins.discovery import discover
from core.plugins.graph import CycleError, dependencies, dependents, topological_order
from tests.conftest import BROKEN_TEST_PLUGINS, FIXTURE_PLUGINS, GOOD_TEST_PLUGINS


def test_discovery_orders_dependencies_first_and_reports_broken_plugins():
    found = discover([f"{FIXTURE_PLUGINS}.{n}" for n in GOOD_TEST_PLUGINS + BROKEN_TEST_PLUGINS])
    names = list(found.plugins)
    assert names.index("alpha") < names.index("beta") < names.index("gamma")
    # distributions aside: another test run may have one half-installed (test_scaffold)
    from_modules = {n for n, b in found.broken.items() if b.distribution is None}
    assert set(BROKEN_TEST_PLUGINS) == from_modules
    assert not set(BROKEN_TEST_PLUGINS) & set(found.plugins)


def test_a_plugin_depending_on_a_broken_one_is_broken_too():
    found = discover([f"{FIXTURE_PLUGINS}.beta"])  # alpha not loaded
    assert "beta" in found.broken
    assert found.broken["beta"].reason == "depends on 'alpha', which is not a known plugin"


def test_the_same_name_twice_is_refused():
    found = discover([f"{FIXTURE_PLUGINS}.alpha", f"{FIXTURE_PLUGINS}.alpha"])
    assert "alpha" not in found.plugins
    assert "registered under this name" in found.broken["alpha"].reason


GRAPH = {"orders": ["cart"], "cart": ["catalog"], "catalog": [], "coupons": ["orders"],
         "loyalty": ["orders"], "announcements": []}


def test_topological_order_is_deterministic_and_dependencies_first():
    order = topological_order(GRAPH)
    assert order == ["announcements", "catalog", "cart", "orders", "coupons", "loyalty"]
    assert topological_order(dict(reversed(list(GRAPH.items())))) == order


def test_closures():
    assert dependencies(GRAPH, "coupons") == ["catalog", "cart", "orders"]
    assert dependents(GRAPH, "cart") == ["orders", "coupons", "loyalty"]
    assert dependents(GRAPH, "loyalty") == []


def test_cycle_names_its_members():
    with pytest.raises(CycleError) as exc:
        topological_order({"a": ["b"], "b": ["c"], "c": ["a"]})
    assert str(exc.value) == "dependency cycle: a -> b -> c -> a"
