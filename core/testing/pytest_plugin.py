"""pytest fixtures for Emporium and its plugins (pytest plugin ``emporium``).

One application and one throwaway database per test session: SQLite in a temporary
folder, or a new PostgreSQL database when ``EMPORIUM_TEST_DATABASE_URL`` names a
server (``postgresql+psycopg://user@host:5432/postgres``; its user may create
databases); the database is migrated and the default plugins are installed, as
``emporium init`` does. Every test runs in one transaction that is rolled back
afterwards, requests of ``testapp`` included, so tests never see each other's rows.

Plugins that are importable modules but not installed distributions are loaded with
the ini option ``emporium_plugins`` (dotted module names, one per line) or
``--emporium-plugins``; other application settings come from the session fixture
``emporium_settings``, which a project's top-level conftest.py may override.
"""
import pytest

from .app import DatabaseFactory, PASSWORD, app_settings, initialize, run_lifecycle

TEST_HOST = "shop.test"


def pytest_addoption(parser):
    parser.addini("emporium_plugins", type="linelist", default=[],
                  help="Emporium: dotted module names of plugins to load that are not "
                       "installed distributions (emporium.plugins.extra)")
    parser.getgroup("emporium").addoption(
        "--emporium-plugins", action="append", default=[], metavar="MODULES",
        help="Emporium: more plugin modules to load, separated by spaces or commas")


# --- the application, once per session -------------------------------------------------


@pytest.fixture(scope="session")
def emporium_plugins(pytestconfig):
    """Dotted module names of the extra plugins the test application loads."""
    names = list(pytestconfig.getini("emporium_plugins"))
    for value in pytestconfig.getoption("emporium_plugins"):
        names += value.replace(",", " ").split()
    return list(dict.fromkeys(names))


@pytest.fixture(scope="session")
def emporium_settings():
    """More ini settings for the test application (override it in a conftest.py)."""
    return {}


@pytest.fixture(scope="session")
def make_database(tmp_path_factory):
    """A factory of fresh, empty databases (dropped at the end of the session)."""
    factory = DatabaseFactory(make_dir=lambda: tmp_path_factory.mktemp("db"))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def database_url(make_database):
    """The URL of the session's database."""
    return make_database()


@pytest.fixture(scope="session")
def app_config(database_url, emporium_plugins, emporium_settings):
    """The configured application (a Pyramid Configurator) on the session's database,
    migrated, with the default plugins installed."""
    from core.config import configure

    config = configure(app_settings(database_url, emporium_plugins, **emporium_settings))
    config.commit()
    initialize(config)
    config.registry["plugins"].load(config.registry["db_engine"])
    yield config
    config.registry["db_engine"].dispose()


@pytest.fixture(scope="session")
def wsgi_app(app_config):
    return app_config.make_wsgi_app()


@pytest.fixture(scope="session")
def registry(app_config):
    """The application's Pyramid registry: ``registry["plugins"]``, ``registry.settings``."""
    return app_config.registry


# --- one rolled-back transaction per test ----------------------------------------------


@pytest.fixture
def db_connection(registry):
    """Everything a test does happens in one transaction that is rolled back."""
    from sqlalchemy.orm import sessionmaker

    engine = registry["db_engine"]
    connection = engine.connect()
    outer = connection.begin()
    original_factory = registry["dbsession_factory"]
    plugins = registry["plugins"]
    original_snapshot = plugins.snapshot
    registry["dbsession_factory"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield connection
    finally:
        registry["dbsession_factory"] = original_factory
        plugins.set_snapshot(original_snapshot)
        registry.get("openapi_cache", {}).clear()
        outer.rollback()
        connection.close()


@pytest.fixture
def dbsession(db_connection):
    """A session in the test's transaction: ``flush()``, never ``commit()``."""
    from sqlalchemy.orm import sessionmaker

    session = sessionmaker(bind=db_connection, join_transaction_mode="create_savepoint")()
    yield session
    session.close()


@pytest.fixture
def testapp(wsgi_app, db_connection):
    """A WebTest client of the application, anonymous."""
    import webtest

    return webtest.TestApp(wsgi_app, extra_environ={"HTTP_HOST": TEST_HOST})


# --- users and signed-in clients -------------------------------------------------------


@pytest.fixture
def make_user(dbsession, registry):
    """``make_user(staff=False, email=None, password=PASSWORD, name="Test")``: a new user
    with ``.headers`` carrying a Bearer access token."""
    from .factories import make_user as make

    def make_one(staff=False, email=None, password=PASSWORD, name="Test"):
        return make(dbsession, registry, staff=staff, email=email, password=password,
                    name=name)

    return make_one


@pytest.fixture
def staff(make_user):
    """A staff user (every permission); ``staff.headers`` signs a request in."""
    return make_user(staff=True)


@pytest.fixture
def customer(make_user):
    """A customer; ``customer.headers`` signs a request in."""
    return make_user(staff=False)


def _signed_in(wsgi_app, user):
    import webtest

    app = webtest.TestApp(wsgi_app, extra_environ={
        "HTTP_HOST": TEST_HOST, "HTTP_AUTHORIZATION": user.headers["Authorization"]})
    app.user = user
    return app


@pytest.fixture
def staff_app(wsgi_app, db_connection, staff):
    """A WebTest client signed in as ``staff`` (``staff_app.user``)."""
    return _signed_in(wsgi_app, staff)


@pytest.fixture
def customer_app(wsgi_app, db_connection, customer):
    """A WebTest client signed in as ``customer`` (``customer_app.user``)."""
    return _signed_in(wsgi_app, customer)


# --- measuring ---------------------------------------------------------------------------


class Statements(list):
    """The SQL statements run inside a ``count_statements()`` block, in order."""

    def __str__(self):
        return "\n".join(f"{number:3}. {' '.join(statement.split())[:300]}"
                         for number, statement in enumerate(self, 1))


@pytest.fixture
def count_statements(registry):
    """``with count_statements() as seen: ...``: ``seen`` lists the SQL statements the
    application's engine ran inside the block (the requests of ``testapp`` included),
    so ``len(seen)`` is their number; ``str(seen)`` numbers them, one a line, for an
    assertion's message."""
    import contextlib

    import sqlalchemy as sa

    engine = registry["db_engine"]

    @contextlib.contextmanager
    def counting():
        seen = Statements()

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield seen
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return counting


# --- plugins for one test --------------------------------------------------------------


@pytest.fixture
def plugin_lifecycle(registry, db_connection):
    """``plugin_lifecycle(operation, name, cascade=False, purge=False, settings=None)``:
    install, enable, disable, uninstall or upgrade a plugin for this test only, as the
    admin API does (dependencies first, migrations, hooks); returns the steps."""

    def run(operation, name, settings=None, **options):
        return run_lifecycle(registry, operation, name, settings=settings, **options)

    return run


@pytest.fixture
def install_plugin(plugin_lifecycle):
    """``install_plugin(name, settings=None)``: install and enable a plugin (and what it
    depends on) for this test only; ``settings`` are stored first. Returns the steps."""

    def install(name, settings=None):
        return plugin_lifecycle("install", name, settings=settings)

    return install


@pytest.fixture
def register_hooks(registry):
    """``register_hooks(obj)``: add an object's ``@hookimpl`` methods to the hooks for
    this test only (they run whatever plugins are enabled)."""
    pm = registry["plugins"].pm
    added = []

    def register(obj, name=None):
        pm.register(obj, name=name or f"test-hooks-{len(added)}-{id(obj)}")
        added.append(obj)
        return obj

    yield register
    for obj in reversed(added):
        pm.unregister(obj)


# --- factories -------------------------------------------------------------------------


@pytest.fixture
def catalog_factory(registry, dbsession, install_plugin):
    """A ``core.testing.factories.CatalogFactory``; installs the catalog plugin first if
    this database does not have it enabled."""
    from .factories import CatalogFactory

    plugins = registry["plugins"]
    if not plugins.current().is_enabled("catalog"):
        install_plugin("catalog")
    return CatalogFactory(dbsession, plugins.plugin_settings("catalog")["default_currency"])


@pytest.fixture
def make_product(catalog_factory):
    """``make_product(name=None, category=None, variants=None, brand=None, ...)``: a catalog
    product; ``variants=[{"price": "9.99", "options": {...}, "stock": 3}]`` (default: one
    variant at 10.00 with 5 in stock)."""
    return catalog_factory.product


@pytest.fixture
def make_category(catalog_factory):
    """``make_category(name, parent=None, slug=None, position=0)``: a catalog category."""
    return catalog_factory.category


@pytest.fixture
def make_cart(registry, dbsession, catalog_factory, install_plugin):
    """``make_cart(user=None, items=[(variant, quantity), ...])``: an open cart of the cart
    plugin (installed first if need be); a guest cart's token is ``cart.token``."""
    from .factories import CartFactory

    plugins = registry["plugins"]
    if not plugins.current().is_enabled("cart"):
        install_plugin("cart")
    return CartFactory(dbsession, plugins.plugin_settings("cart"),
                       catalog_factory.currency).cart


@pytest.fixture
def make_order(registry, dbsession, catalog_factory, make_cart, install_plugin):
    """``make_order(items=None, customer=None, status="processing", payment_method="manual",
    shipping_address=None, **body)``: an order placed by the orders plugin's services from
    the customer's cart and moved on to ``status`` (``payment_pending``, ``paid``,
    ``shipped``, ``delivered``, ``cancelled``, ``failed``, ``returned``, ``refunded``).
    Default: one unit of a new product, a new customer, a manual payment marked paid.
    Installs the orders plugin first if need be; skips the test if the application does
    not load it."""
    from .factories import OrderFactory

    plugins = registry["plugins"]
    if plugins.get("orders") is None:
        pytest.skip("make_order needs the orders plugin, which this application does not "
                    "load")
    if not plugins.current().is_enabled("orders"):
        install_plugin("orders")
    return OrderFactory(dbsession, registry, make_cart, catalog_factory).order
