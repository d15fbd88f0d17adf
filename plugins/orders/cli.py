"""``emporium orders fail-stale``: what the periodic job does, run by hand or by cron.

Fails the orders that waited for their payment longer than their provider allows
(settings ``payment_pending_minutes``, ``manual_payment_pending_minutes``) and
releases their stock. Safe to run while workers run the periodic job too.
"""
from core.cli import CommandError, emit


def register(subparsers):
    orders = subparsers.add_parser("orders", help="the orders plugin: stale payments")
    actions = orders.add_subparsers(dest="action", required=True, metavar="ACTION")
    stale = actions.add_parser("fail-stale", help="fail the orders whose payment is overdue "
                                                  "and release their stock")
    stale.set_defaults(func=cmd_fail_stale)


def cmd_fail_stale(ctx, args):
    from core.plugins.registry import RequestPlugins, read_snapshot
    from core.tasks import TaskContext

    from . import services

    with ctx.session() as (dbsession, manager):
        snapshot = read_snapshot(dbsession)
        if "orders" not in snapshot.enabled:
            raise CommandError("the orders plugin is not enabled "
                               "(emporium plugins install orders)")
        plugins = RequestPlugins(ctx.plugins, snapshot)
        task_ctx = TaskContext(ctx.registry, dbsession, manager, plugins, None)
        failed = services.fail_stale_orders(task_ctx)
    emit(args, {"failed": failed},
         f"Failed {len(failed)} order(s)" + (": " + ", ".join(failed) if failed else "."))
