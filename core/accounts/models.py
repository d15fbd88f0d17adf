"""The kernel's account tables beside ``core_user``: refresh tokens, one-time tokens
(password reset, e-mail verification), addresses and login-failure counters.

Tokens are stored only as SHA-256 hashes: a copy of the database gives no one a
working token.
"""
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.security import User  # noqa: F401  (core_user, which the foreign keys refer to)

PASSWORD_RESET, VERIFY_EMAIL = "password_reset", "verify_email"
TOKEN_PURPOSES = (PASSWORD_RESET, VERIFY_EMAIL)


class RefreshToken(Base):
    """One refresh token. A login starts a family; each refresh marks the used token
    rotated and adds the next one to the same family, so presenting a rotated token
    again (a stolen copy, or the original after the thief used it) revokes the family."""

    __tablename__ = "core_refresh_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AccountToken(Base):
    """A single-use, expiring token sent by e-mail (password reset, e-mail verification)."""

    __tablename__ = "core_account_token"
    __table_args__ = (
        sa.CheckConstraint("purpose IN ('password_reset', 'verify_email')", name="purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(20))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Address(Base):
    __tablename__ = "core_address"
    __table_args__ = (
        # at most one default address per user, also under concurrent requests
        sa.Index("uq_core_address_user_id_default", "user_id", unique=True,
                 sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    line1: Mapped[str] = mapped_column(sa.String(200))
    line2: Mapped[str] = mapped_column(sa.String(200), default="")
    city: Mapped[str] = mapped_column(sa.String(100))
    state: Mapped[str] = mapped_column(sa.String(100), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(2))
    is_default: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LoginAttempt(Base):
    """Failed sign-ins counted per key (an account or a client address, hashed), in
    the database so that every process sees the same counts."""

    __tablename__ = "core_login_attempt"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
