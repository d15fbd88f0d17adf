"""The loyalty plugin's background work: taking off expired points."""
from core.tasks import crontab, periodic, task

from . import services


@periodic(schedule=crontab(minute=41))
@task
def expire_points(ctx):
    """Hourly: expiry is in months, so an hour late costs nothing. Idempotent, and safe
    with two workers at once (each account is taken under its row lock and what
    expires is worked out from the ledger again)."""
    expired = services.expire_due(ctx.dbsession)
    return {"accounts": len(expired), "points": sum(points for _, points in expired)}
