"""The orders' background work: failing orders whose payment never came."""
from core.tasks import crontab, periodic, task

from . import services


@periodic(schedule=crontab(minute="*/5"))
@task
def fail_stale(ctx):
    """Every five minutes: orders left in payment_pending past their provider's time
    fail and their stock is released. Idempotent, and safe with two workers at once
    (each order is taken under its row lock and checked again)."""
    return {"failed": services.fail_stale_orders(ctx)}
