"""What the tests of this repository add to the kit's fixtures (core/testing).

The generic fixtures (``testapp``, ``dbsession``, ``registry``, ``staff``,
``customer``, ``make_database``, ``install_plugin``, ...) come from Emporium's
pytest plugin, ``core.testing.pytest_plugin``, registered through the ``pytest11``
entry point. Here: the test plugins of tests/fixtures/plugins, which the
application of every test session loads (``emporium.plugins.extra``).
"""
from core.testing import JWT_SECRET, initialize  # noqa: F401  (imported by tests)
from core.testing import app_settings as kit_app_settings

FIXTURE_PLUGINS = "tests.fixtures.plugins"
GOOD_TEST_PLUGINS = ["alpha", "beta", "gamma", "failing", "tasker", "checkout_probe"]
BROKEN_TEST_PLUGINS = ["broken_import", "bad_manifest", "unknown_dep", "cycle_a", "cycle_b",
                       "bad_hook", "incompatible"]


def plugin_modules(names):
    return " ".join(f"{FIXTURE_PLUGINS}.{name}" for name in names)


def app_settings(database_url, extra_plugins=GOOD_TEST_PLUGINS + BROKEN_TEST_PLUGINS, **more):
    """The kit's settings, with test plugins named as in tests/fixtures/plugins."""
    return kit_app_settings(database_url, plugin_modules(extra_plugins).split(), **more)


def pytest_configure(config):
    # an ini option rather than an overridden fixture: the session's one application
    # is then the same whichever test (here or in examples/) happens to start it
    for module in plugin_modules(GOOD_TEST_PLUGINS + BROKEN_TEST_PLUGINS).split():
        config.addinivalue_line("emporium_plugins", module)
