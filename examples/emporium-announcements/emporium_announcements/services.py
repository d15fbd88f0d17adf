"""The announcements logic, callable without HTTP (hooks, the CLI, other plugins)."""
import datetime as dt

import sqlalchemy as sa
from marshmallow import ValidationError

from core.db import utcnow

from .models import Announcement

WELCOME_TITLE = "Welcome"
DEMO_TITLE = "Free shipping week"
# ids beyond a 32-bit integer cannot exist, and PostgreSQL refuses to compare with them
MAX_ID = 2**31 - 1


def check_period(starts_at, ends_at):
    """Raise a ValidationError on ``ends_at`` unless the period ends after it starts."""
    if ends_at is not None and starts_at is not None and ends_at <= starts_at:
        raise ValidationError("Must be later than starts_at.", field_name="ends_at")


def _utc(when):
    # converted now, so the object reads the same before and after a reload
    if when.tzinfo is None:
        raise ValueError("naive datetime given; pass an aware one (core.db.utcnow())")
    return when.astimezone(dt.timezone.utc)


def active(dbsession, limit, now=None):
    """The announcements showing at ``now``, newest first, at most ``limit`` of them."""
    now = now or utcnow()
    return dbsession.scalars(
        sa.select(Announcement)
        .where(Announcement.starts_at <= now,
               sa.or_(Announcement.ends_at.is_(None), Announcement.ends_at > now))
        .order_by(Announcement.starts_at.desc(), Announcement.id.desc())
        .limit(limit)
    ).all()


def create(dbsession, title, body, starts_at, ends_at=None):
    check_period(starts_at, ends_at)
    starts_at = _utc(starts_at)
    ends_at = _utc(ends_at) if ends_at is not None else None
    announcement = Announcement(title=title, body=body, starts_at=starts_at, ends_at=ends_at)
    dbsession.add(announcement)
    dbsession.flush()
    return announcement


def get(dbsession, announcement_id):
    if not 0 < announcement_id <= MAX_ID:
        return None
    return dbsession.get(Announcement, announcement_id)


def delete(dbsession, announcement_id):
    """Delete one announcement; False if there was none with that id."""
    announcement = get(dbsession, announcement_id)
    if announcement is None:
        return False
    dbsession.delete(announcement)
    dbsession.flush()
    return True


def ensure(dbsession, title, body):
    """Add an announcement starting now unless one with ``title`` exists (safe to repeat)."""
    existing = dbsession.scalars(
        sa.select(Announcement).where(Announcement.title == title).limit(1)).first()
    if existing is not None:
        return existing
    return create(dbsession, title, body, starts_at=utcnow())
