"""The Stripe plugin's background work: reconciling orders whose webhook never came."""
from core.tasks import crontab, periodic, task

from . import services


@periodic(schedule=crontab(minute="*/5"))
@task
def reconcile(ctx):
    """Every five minutes: ask Stripe about the orders still waiting for their card payment
    (setting ``reconcile_after_minutes`` after they were placed) and apply what it says.
    Idempotent, and safe next to the webhook and to another worker."""
    return services.reconcile(ctx)
