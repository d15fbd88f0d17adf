"""Background work: Celery tasks and periodic jobs, sent after the transaction commits.

A plugin declares its tasks in its package's ``tasks`` module; the kernel finds
them there (for every loaded plugin) and registers them on the application's
Celery app, named ``<plugin>.<function>``::

    from core.tasks import crontab, periodic, send_after_commit, task

    @task
    def release_stock(ctx, order_id):           # ctx: TaskContext, like a request
        order = ctx.dbsession.get(Order, order_id)
        ...

    @periodic(schedule=crontab(minute="*/5"))
    @task
    def fail_stale_orders(ctx):
        ...

    # in a view or service: sent only if this transaction commits
    send_after_commit(request, release_stock, order.id)

Each run has its own transaction (committed when the function returns, replayed on
serialization failures and deadlocks) and sees the enabled plugins as they are
when it starts: a task of a plugin that is not enabled does nothing and returns
``{"skipped": "plugin <name> is not enabled"}``.
"""
from celery.schedules import crontab

from .app import (SKIPPED, EmporiumTask, TaskContext, celery_app, celery_settings,
                  send_after_commit)
from .declare import KERNEL, TaskDeclaration, periodic, task

__all__ = ["task", "periodic", "crontab", "send_after_commit", "celery_app", "TaskContext",
           "TaskDeclaration", "EmporiumTask", "SKIPPED", "KERNEL", "celery_settings"]


def includeme(config):
    """``config.include("core.tasks")``, after core.plugins: builds the Celery app at
    start-up, so that a bad ``celery.*`` setting stops the process at once."""
    celery_app(config.registry)
