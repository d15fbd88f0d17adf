"""A real `emporium worker` on the real Redis, sharing a database with this process.

The worker is a separate process started from an ini file, like production: tests
send tasks from their own application built from the same ini (whose tasks go to
Redis, never run here), and watch their effects in the database and in a real SMTP
server. One worker serves every test module of this package.
"""
import contextlib
import os
import subprocess
import sys
import time
import uuid

import pytest
import redis
import sqlalchemy as sa
import transaction
import webtest
from pyramid.paster import get_appsettings

from core.config import configure
from core.db import get_tm_session
from core.security import create_user, issue_access_token
from core.tasks import TaskContext, celery_app
from tests.conftest import JWT_SECRET, plugin_modules
from tests.core.notifications.smtp import MailCatcher
from tests.core.test_cli import ROOT, subprocess_env

REDIS_URL = os.environ.get("EMPORIUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def emporium(ini, *args):
    result = subprocess.run([sys.executable, "-m", "core.cli", "-c", str(ini), *args], cwd=ROOT,
                            env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def start(ini, log, *args):
    return subprocess.Popen([sys.executable, "-m", "core.cli", "-c", str(ini), *args],
                            cwd=ROOT, env=subprocess_env(), stdout=log, stderr=subprocess.STDOUT)


def stop(process):
    process.terminate()  # a warm shutdown: the worker finishes what it runs
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(condition, limit, what):
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {limit} s")
        time.sleep(0.1)


@pytest.fixture(scope="package")
def redis_db():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"these tests need Redis at {REDIS_URL} (EMPORIUM_TEST_REDIS_URL)",
                    pytrace=False)
    yield client


class Shop:
    def __init__(self, ini, config, log_path):
        self.ini = ini
        self.registry = config.registry
        self.app = celery_app(self.registry)
        self.wsgi_app = config.make_wsgi_app()
        self.log_path = log_path

    @contextlib.contextmanager
    def transaction(self, commit=True):
        manager = transaction.TransactionManager(explicit=True)
        manager.begin()
        dbsession = get_tm_session(self.registry["dbsession_factory"], manager)
        yield TaskContext(self.registry, dbsession, manager,
                          self.registry["plugins"].current(), None)
        if commit:
            manager.commit()
        else:
            manager.abort()

    def labels(self):
        with self.registry["db_engine"].connect() as connection:
            return connection.execute(sa.text("SELECT label FROM tasker_record")).scalars().all()

    def run(self, name, *args):
        """Send a task now (not after a commit) and wait for its result."""
        return self.app.tasks[name].apply_async(args).get(timeout=60)

    def client(self, user=None):
        """A WebTest client of this process's application, signed in as ``user``."""
        environ = {"HTTP_HOST": "shop.test"}
        if user is not None:
            token, _ = issue_access_token(self.registry.settings, user)
            environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return webtest.TestApp(self.wsgi_app, extra_environ=environ)

    def user(self, staff=False, name="Test"):
        with self.registry["dbsession_factory"]() as session, session.begin():
            return create_user(session, f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com",
                               "correct horse battery", name=name, staff=staff)


@pytest.fixture(scope="package")
def catcher():
    server = MailCatcher().start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def shop(make_database, tmp_path_factory, redis_db, catcher):
    folder = tmp_path_factory.mktemp("worker")
    # a queue of this run's own, so that two test runs sharing the Redis
    # database never take each other's tasks
    queue = f"emporium-test-{uuid.uuid4().hex[:12]}"
    ini = folder / "worker.ini"
    ini.write_text(f"""
[app:main]
use = egg:emporium
sqlalchemy.url = {make_database()}
emporium.jwt_secret = {JWT_SECRET}
emporium.plugins.extra = {plugin_modules(["tasker"])}
emporium.plugins.refresh_interval = 0.2
celery.broker_url = {REDIS_URL}
celery.result_backend = {REDIS_URL}
celery.task_always_eager = false
celery.task_default_queue = {queue}
celery.result_expires = 600
emporium.mail.backend = smtp
emporium.mail.smtp_host = 127.0.0.1
emporium.mail.smtp_port = {catcher.port}
emporium.mail.smtp_tls = none
emporium.mail.sender = Worker Shop <shop@example.com>
""")
    emporium(ini, "init")
    emporium(ini, "plugins", "install", "tasker")
    config = configure(get_appsettings(str(ini)))
    config.commit()
    shop = Shop(ini, config, folder / "worker.log")
    assert shop.app.conf.task_always_eager is False  # this process only sends
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    with open(shop.log_path, "w") as log:
        # prefork: tasks run in a forked child, as in production
        worker = start(ini, log, "worker", "--", "--pool", "prefork", "--concurrency", "1",
                       "--loglevel", "INFO", "--hostname", name,
                       "--without-gossip", "--without-mingle", "--without-heartbeat")
    try:
        wait_until(lambda: worker.poll() is not None or shop.app.control.ping(
            destination=[name], timeout=0.5), 60, "the worker answering a ping")
        assert worker.poll() is None, shop.log_path.read_text()
        yield shop
    finally:
        stop(worker)
        config.registry["db_engine"].dispose()
        redis_db.delete(queue)


