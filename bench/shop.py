"""The benchmark's database and configuration: create it, set it up as ``emporium init``
does, switch plugins, and configure what the checkout needs (a shipping zone).

The ini file written here is production.ini's, with values instead of
``${EMPORIUM_...}`` placeholders: PostgreSQL, WARN logging, tasks sent to Redis
(no worker runs during the benchmark; the queued tasks are deleted afterwards),
e-mail to files. Everything is done through the kernel's own lifecycle, in this
process, as the ``emporium`` command does.
"""
import contextlib
import json
import secrets

import sqlalchemy as sa

from . import seed

# every built-in plugin, and the ones the overhead is measured against
CORE_PLUGINS = ("catalog", "cart", "orders")
OPTIONAL_PLUGINS = ("coupons", "shipping", "loyalty", "giftcards", "payments_stripe")
SHIPPING_METHOD = "bench-standard"
COUNTRY = "DE"
ADDRESS = {"name": "Ada Bench", "line1": "Hauptstrasse 1", "city": "Berlin",
           "postal_code": "10115", "country": COUNTRY}
SEED_VERSION = 2  # bump when seed.py writes other rows: --reuse then seeds again

INI = """\
# written by bench/run.py: production.ini with values instead of placeholders
[app:main]
use = egg:emporium
pyramid.reload_templates = false
pyramid.debug_notfound = false
pyramid.debug_routematch = false
pyramid.default_locale_name = en

sqlalchemy.url = {database_url}
sqlalchemy.pool_size = 10
sqlalchemy.max_overflow = 10
sqlalchemy.pool_pre_ping = true

emporium.jwt_secret = {jwt_secret}
emporium.admin.session_secret = {session_secret}
emporium.redis_url = {redis_url}
emporium.plugins.refresh_interval = 1
emporium.api.max_body_bytes = 1048576
retry.attempts = 3

celery.broker_url = {redis_url}
celery.task_always_eager = false

emporium.mail.backend = file
emporium.mail_dir = {mail_dir}

[server:main]
use = egg:waitress#main
threads = {threads}
max_request_body_size = 10485760

[loggers]
keys = root, waitress_queue

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

# waitress warns "Task queue depth is N" for every request that waits for a thread,
# which is every request once the clients outnumber the threads; production.ini
# logs it (see docs/performance.md), the benchmark does not
[logger_waitress_queue]
level = ERROR
handlers =
qualname = waitress.queue

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s:%(lineno)s][%(process)d] %(message)s
"""


def write_ini(path, database_url, redis_url, mail_dir, threads):
    path.write_text(INI.format(
        database_url=database_url, redis_url=redis_url, mail_dir=mail_dir, threads=threads,
        jwt_secret=secrets.token_urlsafe(48), session_secret=secrets.token_urlsafe(48)))
    return str(path)


# --- the database ---------------------------------------------------------------------------


def _server(database_url):
    url = sa.engine.make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        raise SystemExit("bench: the benchmark runs on PostgreSQL (--database-url "
                         "postgresql+psycopg://user@host:5432/name)")
    return url.database, sa.create_engine(url.set(database="postgres"),
                                          isolation_level="AUTOCOMMIT")


def seed_marker(sizes):
    return f"emporium-bench {json.dumps({'seed': SEED_VERSION, **sizes.as_dict()})}"


def prepare_database(database_url, sizes, reuse=False):
    """Create the database (dropping an old one); with ``reuse``, keep one that was
    seeded completely with the same sizes. Returns True when it still needs seeding."""
    name, admin = _server(database_url)
    try:
        with admin.connect() as connection:
            if reuse:
                comment = connection.execute(sa.text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :name"), {"name": name}).scalar()
                if comment == seed_marker(sizes):
                    return False
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return True


def mark_seeded(database_url, sizes):
    """Only a completely seeded database is marked, so --reuse never takes a half one."""
    name, admin = _server(database_url)
    try:
        with admin.connect() as connection:
            marker = seed_marker(sizes).replace("'", "''")
            connection.exec_driver_sql(f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
    finally:
        admin.dispose()


def drop_database(database_url):
    name, admin = _server(database_url)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def server_version(engine):
    with engine.connect() as connection:
        return connection.exec_driver_sql("SHOW server_version").scalar()


# --- the application's side: plugins and settings ------------------------------------------


class Shop:
    """The configured application of the ini file, for setting the database up."""

    def __init__(self, ini):
        from core.cli import Context

        self.context = Context(ini)
        self.settings = self.context.registry.settings
        self.engine = self.context.registry["db_engine"]

    def close(self):
        self.engine.dispose()

    @contextlib.contextmanager
    def lifecycle(self):
        with self.context.session() as (dbsession, manager):
            yield self.context.lifecycle(dbsession, manager), dbsession

    def initialize(self):
        """``emporium init``: the kernel's and default plugins' migrations."""
        with self.lifecycle() as (life, _):
            life.initialize()

    def use_plugins(self, names):
        """Enable exactly the built-in plugins ``names`` (installing them if needed)."""
        for name in CORE_PLUGINS + OPTIONAL_PLUGINS:
            with self.lifecycle() as (life, _):
                if name in names:
                    life.run("install", name)  # installs, or enables a disabled one
                elif life.snapshot().state(name) == "enabled":
                    life.run("disable", name)
        with self.lifecycle() as (life, _):
            return sorted(life.snapshot().enabled)

    def configure_shipping(self):
        """One zone (Germany) with a flat-rate method, as a merchant would set up."""
        from plugins.shipping import services
        from plugins.shipping.models import ShippingMethod
        from plugins.shipping.schemas import MethodBody, ZoneBody

        with self.lifecycle() as (_, dbsession):
            if dbsession.scalar(sa.select(ShippingMethod.id).where(
                    ShippingMethod.code == SHIPPING_METHOD)) is not None:
                return
            zone = services.create_zone(dbsession, ZoneBody().load(
                {"name": "Germany", "areas": [{"country": COUNTRY}]}))
            services.create_method(dbsession, zone, MethodBody().load({
                "code": SHIPPING_METHOD, "name": "Standard", "kind": "flat", "price": "4.90",
                "min_days": 1, "max_days": 3}), seed.CURRENCY)


def checkout_body(plugins, payment=False):
    """The quote (or, with ``payment``, the order) body for this set of plugins: with
    shipping enabled, its method must be chosen."""
    body = {"shipping_address": ADDRESS}
    if "shipping" in plugins:
        body["shipping_method"] = SHIPPING_METHOD
    if payment:
        body["payment_method"] = "manual"
    return body
