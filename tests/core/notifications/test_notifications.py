"""notify(): rendered from templates, recorded, sent after commit through a real SMTP server.

Tasks run eagerly here (in this process); tests/core/tasks/test_worker.py sends one
through a real worker.
"""
import email
import email.policy
import logging

import pytest
import sqlalchemy as sa
from jinja2 import TemplateNotFound, UndefinedError
from pyramid.exceptions import ConfigurationError

from core.notifications import FAILED, SENT, MailSettings, Notification, notify
from core.notifications.rendering import render

from .smtp import MailCatcher, parts


def row(dbsession, notification_id):
    return dbsession.execute(
        sa.select(Notification).where(Notification.id == notification_id)
    ).scalar_one()


def test_sent_after_commit_with_text_and_html_parts(smtp, in_transaction, dbsession):
    with in_transaction() as ctx:
        notification = notify(ctx, "tasker/hello", "ann@example.com", {"name": "<Ann>"})
        assert smtp.messages == []  # nothing leaves before the commit
    [message] = smtp.to("ann@example.com")
    assert message["From"] == "Test Shop <shop@example.com>"
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Hello <Ann> from Emporium"
    assert message["Message-ID"] == notification.message_id
    body = parts(message)
    assert body["text/plain"].strip() == "Hello <Ann>, plain and simple."
    # the HTML part escapes what the context brings, and uses the kernel's layout
    assert "<b>&lt;Ann&gt;</b>" in body["text/html"] and "<Ann>" not in body["text/html"]
    assert "<!DOCTYPE html>" in body["text/html"]
    stored = row(dbsession, notification.id)
    assert (stored.state, stored.attempts, stored.error) == (SENT, 1, None)
    assert stored.sent_at is not None and stored.template == "tasker/hello"


def test_rolled_back_transaction_sends_nothing_and_records_nothing(smtp, in_transaction,
                                                                  dbsession):
    with in_transaction(commit=False) as ctx:
        notify(ctx, "tasker/hello", "rollback@example.com", {"name": "Bo"})
    assert smtp.messages == []
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.recipient == "rollback@example.com")) == 0


def test_unreachable_server_is_retried_with_growing_delays_then_failed(
        smtp, mail_settings, in_transaction, dbsession, caplog):
    from .smtp import free_port

    mail_settings(smtp_port=str(free_port()), max_attempts="3", retry_delay="10")
    caplog.set_level(logging.INFO, logger="core.notifications")
    with in_transaction() as ctx:
        notification = notify(ctx, "tasker/hello", "down@example.com", {"name": "Cy"})
    stored = row(dbsession, notification.id)
    assert (stored.state, stored.attempts) == (FAILED, 3)
    assert stored.error.startswith("ConnectionRefusedError")
    delays = [r.getMessage().rsplit("next in ", 1)[1] for r in caplog.records
              if "next in" in r.getMessage()]
    assert delays == ["10 s", "20 s"]  # eager mode does not wait them, a worker does


def test_temporary_refusal_is_retried_and_then_sent(smtp, in_transaction, dbsession):
    smtp.answers["busy@example.com"] = ["451 4.3.0 Mailbox busy, try again"]
    with in_transaction() as ctx:
        notification = notify(ctx, "tasker/hello", "busy@example.com", {"name": "Di"})
    assert len(smtp.to("busy@example.com")) == 1
    stored = row(dbsession, notification.id)
    assert (stored.state, stored.attempts, stored.error) == (SENT, 2, None)


def test_permanent_refusal_fails_at_once_with_the_reason(smtp, in_transaction, dbsession):
    smtp.answers["nobody@example.com"] = "550 5.1.1 No such mailbox"
    with in_transaction() as ctx:
        notification = notify(ctx, "tasker/hello", "nobody@example.com", {"name": "Ed"})
    stored = row(dbsession, notification.id)
    assert (stored.state, stored.attempts) == (FAILED, 1)
    assert "550" in stored.error and "No such mailbox" in stored.error


# the test server has no certificate, so it accepts AUTH in the clear (and says so)
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("password, state", [("s3cret", SENT), ("wrong", FAILED)])
def test_smtp_login(mail_settings, in_transaction, dbsession, password, state):
    server = MailCatcher(login=("shop", "s3cret")).start()
    try:
        mail_settings(backend="smtp", smtp_host="127.0.0.1", smtp_port=str(server.port),
                      smtp_tls="none", smtp_username="shop", smtp_password=password)
        with in_transaction() as ctx:
            notification = notify(ctx, "tasker/hello", "fi@example.com", {"name": "Fi"})
    finally:
        server.stop()
    stored = row(dbsession, notification.id)
    assert (stored.state, stored.attempts) == (state, 1)  # a refused login is final (535)
    assert len(server.to("fi@example.com")) == (1 if state == SENT else 0)


def test_file_backend_writes_an_eml_file(mail_settings, in_transaction, tmp_path):
    mail_settings(backend="file", **{"emporium.mail_dir": str(tmp_path / "outbox")})
    with in_transaction() as ctx:
        notify(ctx, "tasker/hello", "gus@example.com", {"name": "Gus"})
    [path] = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "gus@example.com"
    assert set(parts(message)) == {"text/plain", "text/html"}


def test_kernel_templates_and_sensitive_bodies_erased_once_sent(smtp, in_transaction,
                                                                dbsession):
    link = "https://shop.example/reset?token=abc123"
    with in_transaction() as ctx:
        notification = notify(ctx, "core/password_reset", "hal@example.com",
                              {"name": "Hal", "link": link, "token": "abc123",
                               "endpoint": "/api/v1/auth/password-reset/confirm",
                               "minutes": 60}, sensitive=True)
    [message] = smtp.to("hal@example.com")
    assert message["Subject"] == "Reset your Emporium password"
    body = parts(message)
    assert link in body["text/plain"] and "60 minutes" in body["text/plain"]
    assert f'href="{link}"' in body["text/html"]
    stored = row(dbsession, notification.id)
    assert stored.state == SENT
    assert (stored.body_text, stored.body_html) == ("", None)  # the token is gone


def test_verification_template_without_a_link_gives_the_code(registry):
    subject, text, html = render(registry, "core/verify_email", {
        "name": "", "link": None, "token": "tok<1>", "endpoint": "/api/v1/auth/verify-email",
        "hours": 48})
    assert subject == "Confirm your e-mail address for Emporium"
    assert "tok<1>" in text and "POST /api/v1/auth/verify-email" in text
    assert "tok&lt;1&gt;" in html and "48 hours" in html


def test_template_errors_surface_where_the_mail_is_asked_for(smtp, in_transaction, dbsession):
    with pytest.raises(TemplateNotFound):
        with in_transaction() as ctx:
            notify(ctx, "tasker/no_such_mail", "ivy@example.com", {})
    with pytest.raises(TemplateNotFound):
        with in_transaction() as ctx:
            notify(ctx, "unknown_owner/hello", "ivy@example.com", {"name": "Ivy"})
    with pytest.raises(UndefinedError):  # a missing variable is an error, not a blank
        with in_transaction() as ctx:
            notify(ctx, "tasker/hello", "ivy@example.com", {})
    assert smtp.messages == []
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.recipient == "ivy@example.com")) == 0


@pytest.mark.parametrize("to", ["a@example.com, b@example.com", "a@example.com\r\nBcc: x@y",
                                "not-an-address", None])
def test_one_plain_address_only(smtp, in_transaction, to):
    with pytest.raises(ValueError):
        with in_transaction() as ctx:
            notify(ctx, "tasker/hello", to, {"name": "Jo"})


def test_operator_templates_dir_overrides_a_message(smtp, mail_settings, in_transaction,
                                                    tmp_path):
    (tmp_path / "mail-templates" / "tasker").mkdir(parents=True)
    (tmp_path / "mail-templates" / "tasker" / "hello.subject.jinja2").write_text(
        "Our own greeting for {{ name }}")
    mail_settings(templates_dir=str(tmp_path / "mail-templates"))
    with in_transaction() as ctx:
        notify(ctx, "tasker/hello", "kim@example.com", {"name": "Kim"})
    [message] = smtp.to("kim@example.com")
    assert message["Subject"] == "Our own greeting for Kim"
    assert "plain and simple" in parts(message)["text/plain"]  # the rest is the plugin's


def test_mail_settings_are_checked_and_defaulted():
    with pytest.raises(ConfigurationError, match="backend"):
        MailSettings.from_settings({"emporium.mail.backend": "pigeon"})
    with pytest.raises(ConfigurationError, match="smtp_tls"):
        MailSettings.from_settings({"emporium.mail.smtp_tls": "maybe"})
    assert MailSettings.from_settings({}).backend == "file"
    assert MailSettings.from_settings({}).mail_dir == "var/mail"
    ports = {tls: MailSettings.from_settings({"emporium.mail.smtp_tls": tls}).smtp_port
             for tls in ("ssl", "starttls", "none")}
    assert ports == {"ssl": 465, "starttls": 587, "none": 25}
    assert "hunter2" not in repr(MailSettings.from_settings(
        {"emporium.mail.smtp_password": "hunter2"}))
