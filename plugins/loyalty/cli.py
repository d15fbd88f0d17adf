"""``emporium loyalty expire`` and ``emporium loyalty check``.

``expire`` does what the hourly job ``loyalty.expire_points`` does, by hand or from
cron; it is safe to run while workers run the job. ``check`` compares every
account's balance with the sum of its ledger and exits with 1 if one differs.
"""
from core.cli import CommandError, emit


def register(subparsers):
    loyalty = subparsers.add_parser("loyalty", help="the loyalty plugin: expiry, checks")
    actions = loyalty.add_subparsers(dest="action", required=True, metavar="ACTION")
    expire = actions.add_parser("expire", help="take off the points past their expiry date")
    expire.add_argument("--limit", type=int, default=10_000,
                        help="look at this many accounts at most (default 10000)")
    expire.set_defaults(func=cmd_expire)
    check = actions.add_parser("check", help="check that every balance is the sum of its "
                                             "ledger")
    check.set_defaults(func=cmd_check)


def _enabled(dbsession):
    from core.plugins.registry import read_snapshot

    if "loyalty" not in read_snapshot(dbsession).enabled:
        raise CommandError("the loyalty plugin is not enabled "
                           "(emporium plugins install loyalty)")


def cmd_expire(ctx, args):
    from . import services

    if args.limit < 1:
        raise CommandError("--limit must be at least 1")
    with ctx.session() as (dbsession, manager):
        _enabled(dbsession)
        expired = services.expire_due(dbsession, limit=args.limit)
    points = sum(points for _, points in expired)
    emit(args, {"accounts": len(expired), "points": points},
         f"{points} point(s) expired on {len(expired)} account(s).")


def cmd_check(ctx, args):
    from . import services

    with ctx.session() as (dbsession, manager):
        _enabled(dbsession)
        wrong = services.ledger_mismatches(dbsession)
    items = [{"user_id": row[0], "balance": row[1], "ledger": int(row[2] or 0)}
             for row in wrong]
    emit(args, {"mismatches": items},
         "Every balance is the sum of its ledger." if not items else
         "\n".join(f"user {i['user_id']}: balance {i['balance']}, ledger {i['ledger']}"
                   for i in items))
    if items:
        raise CommandError(f"{len(items)} account(s) differ from their ledger")
