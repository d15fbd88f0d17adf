"""Notifications: e-mail rendered from templates, recorded, sent by a task after commit.

``notify(request, "core/password_reset", "ann@example.com", {...})`` renders the
message now (a template error shows up where the mail is asked for), stores it in
``core_notification`` as *queued*, and sends it from a task once the transaction
commits: a rolled-back request sends nothing. The task retries with a growing
delay while the mail server is unreachable or answers 4xx, and records the row as
*sent*, or *failed* with the reason (a 5xx answer, or too many attempts). A message
whose task was lost (the broker was down at the commit) is sent again by the
periodic sweep ``core.resend_stuck_notifications``.

Templates are looked up as described in ``core.notifications.rendering``.
"""
from email.utils import make_msgid

from core.db import utcnow
from core.tasks import send_after_commit

from .mailer import MailSettings
from .models import FAILED, QUEUED, SENT, Notification
from .rendering import render
from .tasks import send_notification

__all__ = ["notify", "Notification", "QUEUED", "SENT", "FAILED", "MailSettings"]


def notify(request, template, to, context=None, *, sensitive=False):
    """Queue the e-mail ``template`` (``"<owner>/<name>"``) to one address ``to``.

    ``request``: a request or a TaskContext (``registry``, ``dbsession``, ``tm``).
    ``context``: the template's variables (``shop_name`` is always there).
    ``sensitive``: the message holds a secret (a one-time link): its bodies are
    erased from the table once it is sent or has failed.
    Returns the Notification row (flushed, so it has an id).
    """
    if not isinstance(to, str) or "@" not in to or any(c in to for c in "\r\n,;"):
        raise ValueError(f"notify() takes one e-mail address, not {to!r}")
    mail = MailSettings.from_settings(request.registry.settings)
    subject, text, html = render(request.registry, template, context or {})
    notification = Notification(
        template=template, recipient=to, subject=subject, body_text=text, body_html=html,
        sensitive=sensitive, state=QUEUED, attempts=0, next_attempt_at=utcnow(),
        message_id=make_msgid(domain=_domain_of(mail.sender)))
    request.dbsession.add(notification)
    request.dbsession.flush()
    send_after_commit(request, send_notification, notification.id)
    return notification


def _domain_of(sender):
    # make_msgid would otherwise ask DNS for this host's name, which can be slow
    return sender.rpartition("@")[2].strip("> ") or "localhost"


def includeme(config):
    """``config.include("core.notifications")``: checks the mail settings at start-up."""
    MailSettings.from_settings(config.get_settings())
