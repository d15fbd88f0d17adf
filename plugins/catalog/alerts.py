"""The staff's low-stock alert: one e-mail about the variants that have just run low.

A variant is low when its product is active and at most ``low_stock_threshold``
units are available (``inventory.low_stock``, as on the admin dashboard). Staff
hear of each variant once while it stays low: ``catalog_stock_alert`` remembers
it. Restocked above the threshold it is forgotten, so a later drop is told again.
"""
import logging

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.db import utcnow
from core.notifications import notify
from core.security import User

from . import inventory
from .models import Stock, StockAlert

log = logging.getLogger(__name__)

TEMPLATE = "catalog/low_stock"
MAX_LISTED = 200  # a mail lists these, fewest available first, and counts the rest
DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}  # their INSERT ... ON CONFLICT


def forget_restocked(dbsession, threshold):
    """Forget the variants told about that are above the threshold again; their count."""
    restocked = sa.select(Stock.variant_id).where(Stock.on_hand - Stock.reserved > threshold)
    return dbsession.execute(
        sa.delete(StockAlert).where(StockAlert.variant_id.in_(restocked))
        .execution_options(synchronize_session=False)).rowcount


def claim_new(dbsession, threshold, now=None):
    """The low variants nobody was told about, now marked told: ``low_stock`` rows,
    fewest available first.

    Two runs at once claim each variant once: the primary key decides. On
    PostgreSQL the second run's insert waits for the first run's transaction and
    skips the rows it committed (and takes them if it rolled back); SQLite has one
    writer at a time.
    """
    told = set(dbsession.scalars(sa.select(StockAlert.variant_id)))
    fresh = [row for row in inventory.low_stock(dbsession, threshold, limit=None)
             if row.id not in told]
    if not fresh:
        return []
    now = now or utcnow()
    dialect = DIALECTS[dbsession.get_bind().dialect.name]
    claimed = set(dbsession.scalars(
        dialect.insert(StockAlert.__table__).on_conflict_do_nothing(
            index_elements=["variant_id"]).returning(StockAlert.variant_id),
        # in variant id order, as every run inserts: two runs never deadlock
        [{"variant_id": row.id, "available": row.available, "alerted_at": now}
         for row in sorted(fresh, key=lambda row: row.id)]))
    return [row for row in fresh if row.id in claimed]


def staff_addresses(dbsession):
    """The e-mail addresses of the active staff members."""
    # roles is a JSON list: narrowed down in SQL (not loading every customer), decided
    # by User.is_staff, as for signing in
    users = dbsession.scalars(
        sa.select(User).where(User.is_active, sa.cast(User.roles, sa.Text).like('%"staff"%'))
        .order_by(User.id))
    return [user.email for user in users if user.is_staff]


def send_alert(ctx, now=None):
    """Forget restocked variants, claim the newly low ones and mail them to every active
    staff member. Returns what it did, as JSON."""
    settings = ctx.plugins.settings("catalog")
    if not settings["low_stock_alerts"]:
        return {"skipped": "the setting low_stock_alerts is off"}
    dbsession = ctx.dbsession
    threshold = settings["low_stock_threshold"]
    forgotten = forget_restocked(dbsession, threshold)
    recipients = staff_addresses(dbsession)
    if not recipients:
        # nothing is claimed: the first staff member to sign up hears of it all
        log.warning("low-stock alert: there is no active staff member to tell")
        return {"forgotten": forgotten, "alerted": [], "mailed": 0}
    claimed = claim_new(dbsession, threshold, now)
    if claimed:
        context = {
            "threshold": threshold,
            "count": len(claimed),
            "variants": [{"sku": row.sku, "name": row.name, "available": row.available}
                         for row in claimed[:MAX_LISTED]],
            "more": max(0, len(claimed) - MAX_LISTED),
        }
        for address in recipients:
            notify(ctx, TEMPLATE, address, context)
    return {"forgotten": forgotten, "alerted": [row.sku for row in claimed],
            "mailed": len(recipients) if claimed else 0}
