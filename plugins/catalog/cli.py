"""``emporium catalog import FILE [--format csv|json] [--partial]``.

Prints the report (created, updated, rejected rows with their reasons). With
rejected products and no ``--partial`` nothing is written and the exit status is 1.
"""
import pathlib

from core.cli import CommandError, emit


def register(subparsers):
    catalog = subparsers.add_parser("catalog", help="the catalog plugin: import products")
    actions = catalog.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = actions.add_parser("import", help="create or update products from a CSV or JSON file")
    imp.add_argument("file", help="the file (see docs/catalog.md for the columns)")
    imp.add_argument("--format", choices=["csv", "json"],
                     help="default: from the file name's extension")
    imp.add_argument("--partial", action="store_true",
                     help="keep the good products even if some are rejected")
    imp.set_defaults(func=cmd_import)


def _format(path, given):
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "json"):
        return suffix
    raise CommandError(f"cannot tell the format of {path.name}: use --format csv or json")


def cmd_import(ctx, args):
    from core.plugins.registry import read_snapshot

    from . import importer

    path = pathlib.Path(args.file)
    fmt = _format(path, args.format)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        with ctx.session() as (dbsession, manager):
            snapshot = read_snapshot(dbsession)
            if "catalog" not in snapshot.enabled:
                raise CommandError("the catalog plugin is not enabled "
                                   "(emporium plugins install catalog)")
            currency = ctx.plugins.plugin_settings("catalog", snapshot)["default_currency"]
            report = importer.import_file(dbsession, content, fmt, currency,
                                          partial=args.partial,
                                          hook=ctx.plugins.relay(snapshot))
    except importer.ImportRejected as exc:
        emit(args, exc.report, _text(exc.report))
        raise CommandError(exc.message) from None
    emit(args, report, _text(report))


def _text(report):
    counts = report["counts"]
    lines = [f"Created {counts['created']}, updated {counts['updated']}, "
             f"rejected {counts['rejected']} product(s)."]
    for entry in report["rejected"]:
        lines.append(f"  row {entry['row']}: {entry['reason']}")
    if report["rejected"] and not report["applied"]:
        lines.append("Nothing was imported.")
    return "\n".join(lines)
