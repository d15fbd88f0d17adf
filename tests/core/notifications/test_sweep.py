"""The sweep for lost notifications: a message whose task never ran (the broker was down
when its transaction committed) is sent again, and failed after too many re-sends.

Tasks run eagerly here; "the broker is down" is a broker address nobody listens at,
so sending the task after the commit really fails, as it does when Redis is down.
"""
import contextlib
import datetime as dt
import logging

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.notifications import FAILED, QUEUED, SENT, Notification, notify
from core.notifications.tasks import resend_stuck, send_notification
from core.tasks import celery_app, crontab

from .committing import mailing_app, run_at_once
from .smtp import free_port, parts

MINUTES = dt.timedelta(minutes=1)


def row(dbsession, notification_id):
    dbsession.expire_all()
    return dbsession.execute(
        sa.select(Notification).where(Notification.id == notification_id)).scalar_one()


@pytest.fixture
def broker_down(registry):
    """``with broker_down():`` tasks sent after a commit go to a broker that is not there."""
    app = celery_app(registry)
    saved = app.conf.task_always_eager, app.conf.broker_url

    def forget_connections():
        # even eager sends take a producer from the pool, which keeps the broker
        # address it was made with (and a RabbitMQ may answer at the default one)
        app._pool = None
        app.amqp._producer_pool = None

    @contextlib.contextmanager
    def down():
        forget_connections()
        app.conf.task_always_eager = False
        app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
        try:
            yield
        finally:
            forget_connections()
            app.conf.task_always_eager, app.conf.broker_url = saved

    return down


def sweep(in_transaction, minutes_later):
    with in_transaction() as ctx:
        return resend_stuck(ctx, now=utcnow() + minutes_later * MINUTES)


def test_a_message_whose_task_was_lost_is_sent_by_the_sweep(smtp, in_transaction, dbsession,
                                                            broker_down, caplog):
    caplog.set_level(logging.ERROR, logger="core.tasks")
    with broker_down():
        with in_transaction() as ctx:
            notification = notify(ctx, "tasker/hello", "lost@example.com", {"name": "Lu"})
    assert "task core.send_notification could not be sent after commit" in caplog.text
    assert smtp.to("lost@example.com") == []
    assert (row(dbsession, notification.id).state, row(dbsession, notification.id).attempts
            ) == (QUEUED, 0)

    # not yet: a message is given resend_after_minutes (30 by default) to go
    assert sweep(in_transaction, 29) == {"resent": [], "failed": []}
    assert sweep(in_transaction, 31) == {"resent": [notification.id], "failed": []}
    [message] = smtp.to("lost@example.com")
    assert message["Message-ID"] == notification.message_id  # the same message, not a copy
    assert "Hello Lu" in parts(message)["text/plain"]
    stored = row(dbsession, notification.id)
    assert (stored.state, stored.attempts, stored.resends) == (SENT, 1, 1)
    assert stored.next_attempt_at is None
    assert sweep(in_transaction, 120) == {"resent": [], "failed": []}  # sent: left alone
    assert len(smtp.to("lost@example.com")) == 1


def test_after_max_resends_the_message_is_failed_with_the_reason(smtp, mail_settings,
                                                                 in_transaction, dbsession,
                                                                 broker_down):
    mail_settings(resend_after_minutes="10", max_resends="2")
    with broker_down():
        with in_transaction() as ctx:
            notification = notify(ctx, "core/password_reset", "gone@example.com", {
                "name": "", "link": "https://shop.example/r?t=s3cret", "token": "s3cret",
                "endpoint": "/x", "minutes": 60}, sensitive=True)
        # the broker stays down: every re-send is lost as well, and counted
        assert sweep(in_transaction, 11)["resent"] == [notification.id]
        assert row(dbsession, notification.id).resends == 1
        assert sweep(in_transaction, 15)["resent"] == []  # re-sent 4 minutes ago
        assert sweep(in_transaction, 22)["resent"] == [notification.id]
        assert sweep(in_transaction, 33) == {"resent": [], "failed": [notification.id]}
    stored = row(dbsession, notification.id)
    assert (stored.state, stored.resends, stored.attempts) == (FAILED, 2, 0)
    assert stored.error == "not sent: still queued after 2 re-sends (0 attempts)"
    assert (stored.body_text, stored.body_html) == ("", None)  # the one-time link is gone
    assert smtp.to("gone@example.com") == []


def test_a_message_waiting_for_its_retry_is_left_to_it(smtp, mail_settings, in_transaction,
                                                      dbsession):
    mail_settings(retry_delay="3600")
    smtp.answers["later@example.com"] = ["451 4.3.0 Try again later"]
    with in_transaction() as ctx:
        queued = Notification(template="tasker/hello", recipient="later@example.com",
                              subject="Later", body_text="b", message_id="<later@example.com>",
                              state=QUEUED, attempts=0, next_attempt_at=utcnow())
        ctx.dbsession.add(queued)
        ctx.dbsession.flush()
        # the task itself, called without Celery: refused for now, it asks for a retry
        send_notification(ctx, queued.id)
        assert ctx.retry_request == (None, 3600)
    stored = row(dbsession, queued.id)
    assert (stored.state, stored.attempts) == (QUEUED, 1)
    due = stored.next_attempt_at - utcnow()
    assert 59 * MINUTES < due <= 60 * MINUTES
    # its retry is due in an hour: 60 minutes on it is not stuck, 91 minutes on it is
    assert sweep(in_transaction, 60)["resent"] == []
    assert sweep(in_transaction, 91)["resent"] == [queued.id]
    stored = row(dbsession, queued.id)
    assert (stored.state, stored.attempts, stored.resends) == (SENT, 2, 1)


def test_the_sweep_is_a_periodic_kernel_job(registry):
    app = celery_app(registry)
    entry = app.conf.beat_schedule["core.resend_stuck_notifications"]
    assert entry["schedule"] == crontab(minute="*/5")
    assert app.tasks[entry["task"]].apply().get() == {"resent": [], "failed": []}


# --- two workers at once, on a database whose transactions really commit ----------------


@pytest.fixture(scope="module")
def shop(make_database, catcher, tmp_path_factory):
    with mailing_app(make_database(), catcher, tmp_path_factory.mktemp("mail")) as registry:
        yield registry


def test_two_sweeps_at_once_send_each_lost_message_once(shop, catcher):
    catcher.messages.clear()
    factory = shop["dbsession_factory"]
    with factory() as session, session.begin():
        lost = [Notification(template="tasker/hello", recipient=f"race{n}@example.com",
                             subject=f"Lost {n}", body_text="b", state=QUEUED, attempts=0,
                             message_id=f"<race{n}@example.com>",
                             next_attempt_at=utcnow() - 45 * MINUTES) for n in range(12)]
        session.add_all(lost)
        session.flush()
        ids = sorted(n.id for n in lost)

    results = run_at_once(celery_app(shop).tasks["core.resend_stuck_notifications"], 2)
    resent = results[0]["resent"] + results[1]["resent"]
    assert sorted(resent) == ids  # each once, whichever sweep took it
    with factory() as session:
        rows = session.execute(sa.select(Notification.state, Notification.resends,
                                         Notification.attempts)
                               .where(Notification.id.in_(ids))).all()
    assert set(rows) == {(SENT, 1, 1)}
    received = sorted(rcpt for rcpts, _ in catcher.messages for rcpt in rcpts)
    assert received == sorted(f"race{n}@example.com" for n in range(12))

