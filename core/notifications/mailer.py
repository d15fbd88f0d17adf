"""Delivering one message: by SMTP, or into a folder of ``.eml`` files (development)."""
import dataclasses
import os
import pathlib
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import format_datetime

from pyramid.exceptions import ConfigurationError

from core.db import utcnow
from core.settings import as_float, as_int

PREFIX = "emporium.mail."
BACKENDS = ("smtp", "file")
TLS_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


@dataclasses.dataclass(frozen=True)
class MailSettings:
    backend: str = "file"
    sender: str = "Emporium <noreply@localhost>"
    mail_dir: str = "var/mail"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = dataclasses.field(default="", repr=False)
    smtp_timeout: float = 30.0
    max_attempts: int = 5
    retry_delay: float = 60.0  # doubled after every failed attempt
    # a message still queued this long after its attempt was due lost its task
    resend_after_minutes: float = 30.0
    max_resends: int = 3  # then it is failed

    @classmethod
    def from_settings(cls, settings):
        def get(name, default=""):
            return (settings.get(PREFIX + name) or default).strip()

        backend = get("backend", "file")
        tls = get("smtp_tls", "starttls")
        if backend not in BACKENDS:
            raise ConfigurationError(f"{PREFIX}backend must be one of {', '.join(BACKENDS)}")
        if tls not in TLS_MODES:
            raise ConfigurationError(f"{PREFIX}smtp_tls must be one of {', '.join(TLS_MODES)}")
        return cls(
            backend=backend,
            sender=get("sender", cls.sender),
            # the key the accounts mail has always used, so both write to one folder
            mail_dir=(settings.get("emporium.mail_dir") or cls.mail_dir).strip(),
            smtp_host=get("smtp_host", cls.smtp_host),
            smtp_port=as_int(get("smtp_port"), DEFAULT_PORTS[tls]),
            smtp_tls=tls,
            smtp_username=get("smtp_username"),
            smtp_password=settings.get(PREFIX + "smtp_password") or "",
            smtp_timeout=as_float(get("smtp_timeout"), cls.smtp_timeout),
            max_attempts=max(1, as_int(get("max_attempts"), cls.max_attempts)),
            retry_delay=max(0.0, as_float(get("retry_delay"), cls.retry_delay)),
            resend_after_minutes=max(1.0, as_float(get("resend_after_minutes"),
                                                   cls.resend_after_minutes)),
            max_resends=max(0, as_int(get("max_resends"), cls.max_resends)),
        )


def build_message(mail, notification):
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = notification.recipient
    message["Subject"] = notification.subject
    message["Date"] = format_datetime(notification.created_at)
    message["Message-ID"] = notification.message_id
    message.set_content(notification.body_text)
    if notification.body_html:
        message.add_alternative(notification.body_html, subtype="html")
    return message


def deliver(mail, message):
    if mail.backend == "file":
        return write_eml(pathlib.Path(mail.mail_dir), message)
    context = ssl.create_default_context()
    if mail.smtp_tls == "ssl":
        client = smtplib.SMTP_SSL(mail.smtp_host, mail.smtp_port, timeout=mail.smtp_timeout,
                                  context=context)
    else:
        client = smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=mail.smtp_timeout)
    with client:
        if mail.smtp_tls == "starttls":
            client.starttls(context=context)
        if mail.smtp_username:
            client.login(mail.smtp_username, mail.smtp_password)
        client.send_message(message)


def write_eml(folder, message):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    # written under another name first, so that a reader never sees half a message
    partial = path.with_suffix(".part")
    partial.write_bytes(bytes(message))
    os.replace(partial, path)
    return path


def is_permanent(exc):
    """A 5xx answer will not change on a retry (unknown mailbox, refused sender)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500
