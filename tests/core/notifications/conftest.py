"""Fixtures of the notification tests: a real SMTP server, mail settings per test."""
import contextlib

import pytest
import transaction

from core.db import get_tm_session
from core.tasks import TaskContext

from .smtp import MailCatcher


@pytest.fixture(scope="session")
def catcher():
    server = MailCatcher().start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(registry, tmp_path):
    """``mail_settings(**values)`` sets ``emporium.mail.*`` for this test only."""
    settings = registry.settings
    saved = dict(settings)

    def configure(**values):
        for key, value in values.items():
            settings[key if key.startswith("emporium.") else f"emporium.mail.{key}"] = value
        registry.pop("mail_templates", None)  # rebuilt with the new settings

    configure(**{"emporium.mail_dir": str(tmp_path / "mail")})
    yield configure
    settings.clear()
    settings.update(saved)
    registry.pop("mail_templates", None)


@pytest.fixture
def smtp(catcher, mail_settings):
    catcher.messages.clear()
    catcher.answers.clear()
    mail_settings(backend="smtp", smtp_host="127.0.0.1", smtp_port=str(catcher.port),
                  smtp_tls="none", sender="Test Shop <shop@example.com>", retry_delay="0")
    return catcher


@pytest.fixture
def in_transaction(registry, db_connection):
    """``with in_transaction() as ctx:`` a request-like context whose transaction commits
    when the block ends (aborts if it raises), inside the test's rolled-back one."""

    @contextlib.contextmanager
    def run(commit=True):
        manager = transaction.TransactionManager(explicit=True)
        manager.begin()
        dbsession = get_tm_session(registry["dbsession_factory"], manager)
        ctx = TaskContext(registry, dbsession, manager, registry["plugins"].current(), None)
        try:
            yield ctx
        except BaseException:
            manager.abort()
            raise
        if commit:
            manager.commit()
        else:
            manager.abort()

    return run
