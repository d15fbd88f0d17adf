"""``emporium payments_stripe reconcile``: what the periodic job does, run by hand or cron.

Asks Stripe about each order still waiting for its card payment and applies what
Stripe says (paid, failed, still waiting). Safe while workers run the job too.
"""
from core.cli import CommandError, emit

from . import NAME


def register(subparsers):
    parser = subparsers.add_parser(NAME, help="the Stripe payments plugin: reconciliation")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    reconcile = actions.add_parser("reconcile", help="ask Stripe about the orders still "
                                                     "waiting for their card payment")
    reconcile.add_argument("--limit", type=int, default=200,
                           help="at most this many orders (default 200)")
    reconcile.set_defaults(func=cmd_reconcile)


def cmd_reconcile(ctx, args):
    from core.plugins.registry import RequestPlugins, read_snapshot
    from core.tasks import TaskContext

    from . import services

    if not 1 <= args.limit <= 10000:
        raise CommandError("--limit is between 1 and 10000")
    with ctx.session() as (dbsession, manager):
        snapshot = read_snapshot(dbsession)
        if NAME not in snapshot.enabled:
            raise CommandError(f"the {NAME} plugin is not enabled "
                               f"(emporium plugins install {NAME})")
        plugins = RequestPlugins(ctx.plugins, snapshot)
        task_ctx = TaskContext(ctx.registry, dbsession, manager, plugins, None)
        report = services.reconcile(task_ctx, limit=args.limit)
    lines = [f"Checked {report['checked']} order(s)."]
    lines += [f"  {number}: {outcome}" for number, outcome in report["results"].items()]
    lines += [f"  {number}: error {code}" for number, code in report["errors"].items()]
    if report.get("skipped"):
        lines = [f"Skipped: {report['skipped']}."]
    emit(args, report, "\n".join(lines))
