"""``emporium cart purge-expired``: delete expired guest carts now.

The periodic job ``cart.purge_expired`` does the same every hour where Celery beat
runs; this command is for shops without it, or to run it once by hand (cron).
"""
from core.cli import CommandError, emit


def register(subparsers):
    cart = subparsers.add_parser("cart", help="the cart plugin: clean up expired carts")
    actions = cart.add_subparsers(dest="action", required=True, metavar="ACTION")
    purge = actions.add_parser(
        "purge-expired", help="delete guest carts unchanged for guest_cart_days (the setting) "
                              "and carts ordered that long ago")
    purge.set_defaults(func=cmd_purge_expired)


def cmd_purge_expired(ctx, args):
    from core.plugins.registry import read_snapshot

    from . import services

    with ctx.session() as (dbsession, manager):
        snapshot = read_snapshot(dbsession)
        if "cart" not in snapshot.enabled:
            raise CommandError("the cart plugin is not enabled (emporium plugins install cart)")
        days = ctx.plugins.plugin_settings("cart", snapshot)["guest_cart_days"]
        deleted = services.purge_expired(dbsession, days)
    emit(args, {"deleted": deleted, "guest_cart_days": days},
         f"Deleted {deleted} expired cart(s) (older than {days} days).")
