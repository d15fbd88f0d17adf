"""Outgoing mail, until the notifications plugin lands: one file per message.

``send_mail`` writes an RFC 5322 message (``.eml``) into ``emporium.mail_dir``
(default ``var/mail``, relative to the working directory), where a developer opens
it with any mail reader. It is the kernel's only way to send mail; replacing it
with real delivery changes this function alone.
"""
import os
import pathlib
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from core.db import utcnow

DEFAULT_MAIL_DIR = "var/mail"
DEFAULT_SENDER = "Emporium <noreply@localhost>"


def send_mail(settings, to, subject, body):
    """Write one plain-text message to the mail folder; returns its path."""
    message = EmailMessage()
    message["From"] = settings.get("emporium.mail_from") or DEFAULT_SENDER
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="emporium.local")
    message.set_content(body)
    folder = pathlib.Path(settings.get("emporium.mail_dir") or DEFAULT_MAIL_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    # written under another name first, so that a reader never sees half a message
    partial = path.with_suffix(".part")
    partial.write_bytes(bytes(message))
    os.replace(partial, path)
    return path
