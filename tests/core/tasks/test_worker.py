"""A real `emporium worker` (and `emporium beat`) on the real Redis, sharing a database.

The worker (conftest.py) is a separate process started from an ini file, like
production: the test sends tasks from its own application built from the same ini,
and watches their effects in the database and in a real SMTP server.
"""
import pytest
import sqlalchemy as sa

from core.notifications import SENT, Notification, notify
from core.tasks import SKIPPED, send_after_commit
from tests.core.notifications.smtp import parts
from tests.fixtures.plugins.tasker.tasks import record

from .conftest import emporium, start, stop, wait_until

pytestmark = pytest.mark.slow


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
