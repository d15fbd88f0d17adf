"""The kernel's task that sends one queued notification."""
import logging

from core.db import utcnow
from core.tasks import task

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
            ctx.retry_later(countdown=delay)
    else:
        notification.error = None
        notification.sent_at = utcnow()
        _finish(notification, SENT)
    return {"id": notification.id, "state": notification.state,
            "attempts": notification.attempts}


def _finish(notification, state):
    notification.state = state
    if notification.sensitive:
        notification.body_text = ""
        notification.body_html = None
