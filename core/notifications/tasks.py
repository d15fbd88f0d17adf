"""The kernel's tasks: sending one queued notification, and the sweep for lost ones."""
import datetime as dt
import logging

import sqlalchemy as sa

from core.db import utcnow
from core.tasks import crontab, periodic, send_after_commit, task

from .mailer import MailSettings, build_message, deliver, is_permanent
from .models import FAILED, QUEUED, SENT, Notification

log = logging.getLogger(__name__)


# max_retries=None: the notification's own attempt counter decides when to give up,
# so that a message delivered twice by the broker still counts its attempts once
@task(name="core.send_notification", max_retries=None)
def send_notification(ctx, notification_id):
    mail = MailSettings.from_settings(ctx.settings)
    # the row lock makes a second delivery of this task wait, then find it sent
    notification = ctx.dbsession.get(Notification, notification_id, with_for_update=True)
    if notification is None or notification.state != QUEUED:
        return {"id": notification_id, "state": notification and notification.state}
    notification.attempts += 1
    try:
        deliver(mail, build_message(mail, notification))
    except OSError as exc:  # smtplib's errors, refused connections, timeouts, a full disk
        notification.error = f"{type(exc).__name__}: {exc}"[:2000]
        if is_permanent(exc) or notification.attempts >= mail.max_attempts:
            log.warning("notification %s to %s failed for good: %s", notification.id,
                        notification.recipient, notification.error)
            _finish(notification, FAILED)
        else:
            delay = mail.retry_delay * 2 ** (notification.attempts - 1)
            log.info("notification %s: attempt %s failed (%s), next in %.0f s",
                     notification.id, notification.attempts, notification.error, delay)
            notification.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
            ctx.retry_later(countdown=delay)
    else:
        notification.error = None
        notification.sent_at = utcnow()
        _finish(notification, SENT)
    return {"id": notification.id, "state": notification.state,
            "attempts": notification.attempts}


@periodic(schedule=crontab(minute="*/5"))
@task(name="core.resend_stuck_notifications")
def resend_stuck_notifications(ctx):
    """Every five minutes: send again the messages whose task was lost (the broker was
    down when their transaction committed, a worker died with its retry, ...)."""
    return resend_stuck(ctx)


def resend_stuck(ctx, now=None, limit=500):
    """Send again each message still queued ``emporium.mail.resend_after_minutes`` after
    its attempt was due; one re-sent ``max_resends`` times already is failed instead.
    Returns ``{"resent": [ids], "failed": [ids]}``.

    Safe with two workers at once: each row is taken under its lock, skipping one
    that another sweep or a sending task holds (SKIP LOCKED; SQLite has one writer
    at a time), and is due again only ``resend_after_minutes`` after a re-send.
    """
    mail = MailSettings.from_settings(ctx.settings)
    now = now or utcnow()
    stuck = ctx.dbsession.scalars(
        sa.select(Notification)
        .where(Notification.state == QUEUED,
               Notification.next_attempt_at
               < now - dt.timedelta(minutes=mail.resend_after_minutes))
        .order_by(Notification.next_attempt_at, Notification.id).limit(limit)
        .with_for_update(skip_locked=True)).all()
    resent, failed = [], []
    for notification in stuck:
        if notification.resends >= mail.max_resends:
            last = f"; the last attempt: {notification.error}" if notification.error else ""
            notification.error = (
                f"not sent: still queued after {notification.resends} re-sends "
                f"({notification.attempts} attempts){last}")[:2000]
            log.warning("notification %s to %s failed for good: %s", notification.id,
                        notification.recipient, notification.error)
            _finish(notification, FAILED)
            failed.append(notification.id)
        else:
            notification.resends += 1
            notification.next_attempt_at = now
            send_after_commit(ctx, send_notification, notification.id)
            resent.append(notification.id)
    if resent:
        log.warning("notifications queued too long, sent again: %s", resent)
    return {"resent": resent, "failed": failed}


def _finish(notification, state):
    notification.state = state
    notification.next_attempt_at = None
    if notification.sensitive:
        notification.body_text = ""
        notification.body_html = None
