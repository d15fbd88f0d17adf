"""``core_notification``: every message the shop sends, and what became of it."""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

QUEUED, SENT, FAILED = "queued", "sent", "failed"


class Notification(Base):
    __tablename__ = "core_notification"
    __table_args__ = (
        sa.CheckConstraint("state IN ('queued', 'sent', 'failed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(sa.String(200))  # "<owner>/<name>"
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(998))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    # the bodies of a sensitive message (a one-time link) are erased once it is done
    sensitive: Mapped[bool] = mapped_column(default=False)
    # the same Message-ID on every attempt lets a mail system drop a duplicate
    message_id: Mapped[str] = mapped_column(sa.String(255))
    state: Mapped[str] = mapped_column(sa.String(10), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # while queued: when its task should next run. Long past that, the task was lost
    # (the broker was down when the transaction committed, say) and the sweep
    # (tasks.resend_stuck) sends it again, counting in ``resends``.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resends: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)  # the last failure's reason
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def as_dict(self):
        return {"id": self.id, "template": self.template, "recipient": self.recipient,
                "subject": self.subject, "state": self.state, "attempts": self.attempts,
                "resends": self.resends, "error": self.error, "created_at": self.created_at,
                "sent_at": self.sent_at}
