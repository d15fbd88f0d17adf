import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class Announcement(Base):
    """A notice shown from ``starts_at`` until ``ends_at`` (forever when it has none)."""

    __tablename__ = "announcements_announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # the schema checks this too; the constraint also holds for code that skips it
        sa.CheckConstraint(sa.text("ends_at IS NULL OR ends_at > starts_at"),
                           name="ends_after_start"),
    )
