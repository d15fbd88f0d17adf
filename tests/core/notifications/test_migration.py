"""The kernel's notification revisions build what the model describes, and go down again;
0004 gives the messages already queued the time their attempt was due."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import core.notifications.models  # noqa: F401  (the table, in the metadata)
from core import migrations
from core.db import get_engine, metadata


def only_notifications(obj, name, type_, reflected, compare_to):
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is not None and table.name == "core_notification"


def differences(connection):
    context = MigrationContext.configure(connection, opts={
        "compare_type": True, "include_object": only_notifications})
    return compare_metadata(context, metadata)


def columns(connection):
    return {c["name"] for c in sa.inspect(connection).get_columns("core_notification")}


def test_the_revisions_match_the_model_and_fill_in_queued_messages(make_database):
    engine = get_engine({"sqlalchemy.url": make_database()})
    try:
        with engine.begin() as connection:
            config = migrations.alembic_config([], connection)
            migrations.upgrade(config, "0003_notifications")
            connection.execute(sa.text(
                "INSERT INTO core_notification (template, recipient, subject, body_text, "
                "sensitive, message_id, state, attempts, created_at, updated_at) VALUES "
                "('core/x', :to, 's', 'b', false, '<m@x>', :state, 1, :at, :at)"),
                [{"to": "queued@example.com", "state": "queued", "at": "2026-01-02 03:04:05"},
                 {"to": "sent@example.com", "state": "sent", "at": "2026-01-02 03:04:05"}])

            migrations.upgrade(config, "0004_notification_resends")
            assert differences(connection) == []
            rows = dict(connection.execute(sa.text(
                "SELECT recipient, next_attempt_at IS NOT NULL AND resends = 0 "
                "FROM core_notification")).all())
            assert rows == {"queued@example.com": True, "sent@example.com": False}

            migrations.downgrade(config, "0003_notifications")
            assert not {"next_attempt_at", "resends"} & columns(connection)
            migrations.upgrade(config, "kernel@head")
            assert differences(connection) == []
    finally:
        engine.dispose()
