"""The cart's background work: deleting expired guest carts (and old ordered ones)."""
from core.tasks import crontab, periodic, task

from . import services


@periodic(schedule=crontab(minute=17))
@task
def purge_expired(ctx):
    """Hourly: expiry is in days, so an hour late costs nothing, and one DELETE per run
    stays small. Idempotent: two workers running it at once delete each cart once."""
    days = ctx.plugins.settings("cart")["guest_cart_days"]
    return {"deleted": services.purge_expired(ctx.dbsession, days)}
