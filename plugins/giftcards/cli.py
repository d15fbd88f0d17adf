"""``emporium giftcards issue AMOUNT [--count N] [--expires YYYY-MM-DD | --never-expires]
[--email ADDRESS] [--note TEXT]``.

Prints the new codes (with ``--json``: the cards, each with its ``code``). This is
the only time they are shown, besides the e-mail ``--email`` sends: the shop
keeps their digests and last 4 characters only.
"""
import datetime as dt

from core.cli import CommandError, emit


def register(subparsers):
    giftcards = subparsers.add_parser("giftcards", help="the giftcards plugin: issue cards")
    actions = giftcards.add_subparsers(dest="action", required=True, metavar="ACTION")
    issue = actions.add_parser("issue", help="issue gift cards and print their codes")
    issue.add_argument("amount", help="what each card is worth, in the shop's currency "
                                      "(25.00)")
    issue.add_argument("--count", type=int, default=1, help="how many cards (default 1)")
    expiry = issue.add_mutually_exclusive_group()
    expiry.add_argument("--expires", metavar="YYYY-MM-DD",
                        help="the last day the cards work (default: the setting valid_days)")
    expiry.add_argument("--never-expires", action="store_true")
    issue.add_argument("--email", help="also e-mail the codes to this address")
    issue.add_argument("--note", default="", help="for staff: why they were issued")
    issue.set_defaults(func=cmd_issue)


def _body(args):
    """The body the REST API would get (so that the same schema refuses the same input)."""
    body = {"amount": args.amount, "count": args.count, "note": args.note}
    if args.email:
        body["email"] = args.email
    if args.never_expires:
        body["expires_at"] = None
    elif args.expires:
        try:  # the cards work through that day: they expire when the next one starts
            day = dt.date.fromisoformat(args.expires) + dt.timedelta(days=1)
        except (ValueError, OverflowError):
            raise CommandError(f"--expires {args.expires!r}: give a date as YYYY-MM-DD") \
                from None
        body["expires_at"] = dt.datetime.combine(day, dt.time(),
                                                 tzinfo=dt.timezone.utc).isoformat()
    return body


def cmd_issue(ctx, args):
    from core.plugins.registry import RequestPlugins, read_snapshot
    from core.tasks import TaskContext

    from . import services
    from .representation import card_data, last_day
    from .schemas import IssueBody
    from .views import money

    body = IssueBody().load(_body(args))
    with ctx.session() as (dbsession, manager):
        snapshot = read_snapshot(dbsession)
        if "giftcards" not in snapshot.enabled:
            raise CommandError("the giftcards plugin is not enabled "
                               "(emporium plugins install giftcards)")
        plugins = RequestPlugins(ctx.plugins, snapshot)
        task_ctx = TaskContext(ctx.registry, dbsession, manager, plugins, None)
        config = services.settings(task_ctx)
        amount = money(body["amount"], services.shop_currency(task_ctx))
        expires_at = body["expires_at"] if "expires_at" in body \
            else services.expiry(config["valid_days"])
        issued = services.issue(dbsession, amount, count=body["count"], expires_at=expires_at,
                                note=body["note"], length=config["code_length"],
                                recipient_email=body.get("email"))
        if body.get("email"):
            services.mail_codes(task_ctx, body["email"], issued)
        cards = [card_data(item.card, code=item.code) for item in issued]
        expires = last_day(issued[0].card.expires_at)
    lines = [f"Issued {len(cards)} gift card(s) of {cards[0]['initial_balance']} "
             f"{cards[0]['currency']}, " + (f"valid until {expires}" if expires
                                            else "never expiring") + ":"]
    lines += [f"  {card['code']}" for card in cards]
    if body.get("email"):
        lines.append(f"The codes are e-mailed to {body['email']}.")
    emit(args, cards, "\n".join(lines))
