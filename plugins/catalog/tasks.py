"""The catalog's background work: telling staff which variants run low on stock."""
from core.tasks import crontab, periodic, task

from . import alerts


@periodic(schedule=crontab(minute="*/15"))
@task
def low_stock_alert(ctx):
    """Every quarter of an hour: one e-mail to each active staff member listing the
    variants that ran low since the last run (setting ``low_stock_alerts``). Each
    variant is told once while it stays low. Idempotent, and safe with two workers
    at once (a variant is claimed by one run: catalog_stock_alert's primary key)."""
    return alerts.send_alert(ctx)
