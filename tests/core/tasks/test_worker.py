"""A real `emporium worker` (and `emporium beat`) on the real Redis, sharing a database.

The worker is a separate process started from an ini file, like production: the
test sends tasks from its own application built from the same ini, and watches
their effects in the database and in a real SMTP server.
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
from pyramid.paster import get_appsettings

from core.config import configure
from core.db import get_tm_session
from core.notifications import SENT, Notification, notify
from core.tasks import SKIPPED, TaskContext, celery_app, send_after_commit
from tests.conftest import JWT_SECRET, plugin_modules
from tests.core.notifications.smtp import MailCatcher, parts
from tests.core.test_cli import ROOT, subprocess_env
from tests.fixtures.plugins.tasker.tasks import record

pytestmark = pytest.mark.slow

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


@pytest.fixture(scope="module")
def redis_db():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"these tests need Redis at {REDIS_URL} (EMPORIUM_TEST_REDIS_URL)",
                    pytrace=False)
    yield client


class Shop:
    def __init__(self, ini, registry, log_path):
        self.ini = ini
        self.registry = registry
        self.app = celery_app(registry)
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
        return self.app.tasks[name].apply_async(args).get(timeout=20)


@pytest.fixture(scope="module")
def catcher():
    server = MailCatcher().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shop(make_database, tmp_path_factory, redis_db, catcher):
    folder = tmp_path_factory.mktemp("worker")
    # a queue of this module's own, so that two test runs sharing the Redis
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
    shop = Shop(ini, config.registry, folder / "worker.log")
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


def test_a_task_runs_in_the_worker_after_commit_and_never_after_rollback(shop):
    with shop.transaction(commit=False) as ctx:
        send_after_commit(ctx, record, "rolled back")
    with shop.transaction() as ctx:
        send_after_commit(ctx, record, "committed")
    wait_until(lambda: "committed" in shop.labels(), 20, "the committed task's row")
    # one worker process takes the queue in order: had the rolled-back task been
    # sent, it would have run before the committed one
    assert "rolled back" not in shop.labels()


def test_a_task_of_a_disabled_plugin_is_skipped_by_the_worker(shop):
    emporium(shop.ini, "plugins", "disable", "tasker")  # another process, as an operator would
    try:
        # the worker's watcher thread notices within its refresh interval
        wait_until(lambda: shop.run("tasker.record", "probe") == {
            SKIPPED: "plugin tasker is not enabled"}, 10, "the worker seeing tasker disabled")
        assert shop.run("tasker.record", "while disabled") == {
            SKIPPED: "plugin tasker is not enabled"}
        assert "while disabled" not in shop.labels()
    finally:
        emporium(shop.ini, "plugins", "enable", "tasker")
    wait_until(lambda: shop.run("tasker.record", "enabled again") == "enabled again", 10,
               "the worker seeing tasker enabled again")


def test_beat_sends_the_periodic_job_and_the_worker_runs_it(shop, tmp_path):
    before = shop.labels().count("tick")
    with open(tmp_path / "beat.log", "w") as log:
        beat = start(shop.ini, log, "beat", "--", "--schedule", str(tmp_path / "schedule"),
                     "--loglevel", "INFO")
    try:
        # tasker.tick runs every second
        wait_until(lambda: shop.labels().count("tick") >= before + 2, 30,
                   "two runs of the periodic job")
    finally:
        stop(beat)
    assert "Scheduler: Sending due task tasker.tick" in (tmp_path / "beat.log").read_text()


def test_a_notification_is_sent_by_the_worker_through_smtp(shop, catcher):
    with shop.transaction() as ctx:
        notification_id = notify(ctx, "tasker/hello", "worker@example.com", {"name": "Wo"}).id
    [message] = catcher.wait_for("worker@example.com")
    assert message["From"] == "Worker Shop <shop@example.com>"
    assert set(parts(message)) == {"text/plain", "text/html"}

    def state():  # the worker commits it just after the server took the message
        with shop.registry["db_engine"].connect() as connection:
            return connection.execute(sa.select(Notification.state, Notification.attempts).where(
                Notification.id == notification_id)).one()

    assert wait_until(lambda: state().state == SENT, 10, "the notification marked sent")
    assert state().attempts == 1
