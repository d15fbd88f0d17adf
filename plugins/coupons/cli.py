"""``emporium coupons generate COUPON_ID --count N [--prefix P] [--length L]
[--uses-per-code U] [--output FILE]`` and ``emporium coupons export COUPON_ID
[--batch B] [--output FILE]``.

Both write the codes as CSV (code, batch, usage_limit, times_used, created_at) to
FILE or to standard output; ``--json`` prints the batch and the codes instead.
"""
import pathlib

from core.cli import CommandError, emit


def register(subparsers):
    coupons = subparsers.add_parser("coupons", help="the coupons plugin: campaign codes")
    actions = coupons.add_subparsers(dest="action", required=True, metavar="ACTION")
    gen = actions.add_parser("generate", help="generate unique codes for a coupon (a campaign)")
    gen.add_argument("coupon_id", type=int, help="the coupon (its id in the staff API)")
    gen.add_argument("--count", type=int, required=True, help="how many codes (at most 10000)")
    gen.add_argument("--prefix", default="", help="letters and digits the codes start with")
    gen.add_argument("--length", type=int, help="random characters (default: setting "
                                                "code_length)")
    gen.add_argument("--uses-per-code", type=int, default=1, help="default: single-use codes")
    gen.add_argument("--output", help="the CSV file to write (default: standard output)")
    gen.set_defaults(func=cmd_generate)
    exp = actions.add_parser("export", help="write a coupon's codes as CSV")
    exp.add_argument("coupon_id", type=int)
    exp.add_argument("--batch", help="only the codes of this generation run")
    exp.add_argument("--output", help="the CSV file to write (default: standard output)")
    exp.set_defaults(func=cmd_export)


def _enabled(ctx, dbsession):
    from core.plugins.registry import read_snapshot

    snapshot = read_snapshot(dbsession)
    if "coupons" not in snapshot.enabled:
        raise CommandError("the coupons plugin is not enabled (emporium plugins install "
                           "coupons)")
    return snapshot


def _coupon(dbsession, coupon_id, lock=False):
    from . import services

    coupon = services.find_coupon(dbsession, coupon_id, lock=lock)
    if coupon is None:
        raise CommandError(f"there is no coupon {coupon_id}")
    return coupon


def _write(args, text):
    if not args.output:
        print(text, end="")
        return
    try:
        pathlib.Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None


def cmd_generate(ctx, args):
    from . import services
    from .schemas import GenerateBody

    body = {"count": args.count, "prefix": args.prefix, "uses_per_code": args.uses_per_code}
    if args.length is not None:
        body["length"] = args.length
    body = GenerateBody().load(body)  # the API's bounds; a ValidationError exits 1
    with ctx.session() as (dbsession, manager):
        snapshot = _enabled(ctx, dbsession)
        coupon = _coupon(dbsession, args.coupon_id, lock=True)
        length = body.get("length") or ctx.plugins.plugin_settings("coupons",
                                                                   snapshot)["code_length"]
        batch, codes = services.generate_codes(dbsession, coupon, body["count"],
                                               prefix=body["prefix"], length=length,
                                               uses_per_code=body["uses_per_code"])
        text = services.codes_csv(dbsession, coupon, batch)
    if args.json:
        emit(args, {"coupon_id": args.coupon_id, "batch": batch, "count": len(codes),
                    "codes": codes}, "")
        return
    _write(args, text)
    if args.output:
        print(f"{len(codes)} codes generated (batch {batch}) in {args.output}.")


def cmd_export(ctx, args):
    from . import services

    with ctx.session() as (dbsession, manager):
        _enabled(ctx, dbsession)
        coupon = _coupon(dbsession, args.coupon_id)
        text = services.codes_csv(dbsession, coupon, args.batch)
    _write(args, text)
