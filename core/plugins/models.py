"""Per-installation plugin state, stored in the database."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

AVAILABLE, ENABLED, DISABLED = "available", "enabled", "disabled"
STATES = (AVAILABLE, ENABLED, DISABLED)


class PluginState(Base):
    """One row per plugin this installation has ever installed."""

    __tablename__ = "core_plugin"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=AVAILABLE)
    installed_version: Mapped[str | None] = mapped_column(sa.String(64))
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    installed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.CheckConstraint(sa.text("state IN ('available', 'enabled', 'disabled')"), name="state"),)


class PluginRevision(Base):
    """A single counter bumped by every change of plugin state or settings.

    Processes poll it (one indexed row) to learn that their cached snapshot is
    stale; bumping it first also serializes concurrent lifecycle operations.
    """

    __tablename__ = "core_plugin_revision"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(sa.BigInteger, default=0)
