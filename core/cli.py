"""The ``emporium`` command: set up the database, manage plugins and users.

Every command reads the same ini file as the web application (``-c``, default
development.ini). A user's mistake ends with one line on stderr and exit status
1; ``--json`` prints machine-readable output for scripts.

Plugins add commands of their own: a module ``cli`` in the plugin's package with
``register(subparsers)``, which adds its parser(s) to the argparse subparsers and
sets ``func(ctx, args)`` as the kernel's commands do (raise ``CommandError`` for
a one-line error, print with ``emit``). Every plugin registered under the
``emporium.plugins`` entry points is asked, installed or not: the command itself
says when its plugin is not enabled.
"""
import argparse
import contextlib
import getpass
import importlib
import json
import os
import sys
from importlib.metadata import entry_points

import sqlalchemy as sa
import transaction
from alembic.util import CommandError as AlembicCommandError
from marshmallow import ValidationError
from pyramid.paster import get_appsettings, setup_logging

from core.api.errors import APIError


class CommandError(Exception):
    pass


class Context:
    """The configured application, built once per command."""

    def __init__(self, config_uri):
        from core.config import configure
        from core.settings import MissingEnvironmentVariable

        if not os.path.exists(config_uri.split("#")[0]):
            raise CommandError(f"configuration file {config_uri!r} not found (use -c FILE)")
        with contextlib.suppress(Exception):
            setup_logging(config_uri)
        try:
            self.config = configure(get_appsettings(config_uri))
        except MissingEnvironmentVariable as exc:
            raise CommandError(f"cannot start: {exc}") from None
        self.config.commit()
        self.registry = self.config.registry
        self.plugins = self.registry["plugins"]

    @contextlib.contextmanager
    def session(self):
        """A session in its own transaction: committed on success, aborted on error."""
        from core.db import get_tm_session

        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(self.registry["dbsession_factory"], manager)
            yield dbsession, manager

    def lifecycle(self, dbsession, manager):
        from core.plugins.lifecycle import Lifecycle

        return Lifecycle.for_app(self.registry, dbsession, manager)


def emit(args, data, text):
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(text)


def format_steps(steps, done):
    if not steps:
        return "Nothing to do."
    lines = []
    for step in steps:
        lines.append(("Done: " if done else "Would ") + step.describe())
        for label, items in (("migrations", step.migrations), ("tables", step.tables),
                             ("routes", step.routes), ("hooks", step.hooks)):
            if items:
                lines.append(f"    {label}: {', '.join(items)}")
    return "\n".join(lines)


# --- commands ------------------------------------------------------------------------


def cmd_init(ctx, args):
    with ctx.session() as (dbsession, manager):
        steps = ctx.lifecycle(dbsession, manager).initialize()
    if args.demo:
        with ctx.session() as (dbsession, manager):
            demo_user = _ensure_demo_staff(dbsession)
            from core.plugins.registry import read_snapshot

            enabled = read_snapshot(dbsession).enabled
            for name in ctx.plugins.plugins:
                if name in enabled:
                    ctx.plugins.call_on(name, "demo_data", dbsession=dbsession)
    lines = [format_steps(steps, done=True) if steps else "Database is up to date."]
    if args.demo:
        lines.append(f"Demo data loaded. Staff login: {demo_user[0]} / {demo_user[1]}")
    emit(args, {"changed": [s.as_dict() for s in steps], "demo": bool(args.demo)},
         "\n".join(lines))


DEMO_STAFF = ("admin@example.com", "emporium-demo-admin")


def _ensure_demo_staff(dbsession):
    from core.security import create_user, find_user

    if find_user(dbsession, DEMO_STAFF[0]) is None:
        create_user(dbsession, DEMO_STAFF[0], DEMO_STAFF[1], name="Demo admin", staff=True)
    return DEMO_STAFF


def cmd_db(ctx, args):
    from alembic import command

    from core import migrations

    if args.action == "revision":
        return _new_revision(ctx, args)
    if args.action == "upgrade":
        with ctx.session() as (dbsession, manager):
            steps = ctx.lifecycle(dbsession, manager).upgrade_all()
        emit(args, {"changed": [s.as_dict() for s in steps]},
             format_steps(steps, done=True) if steps else "Database is up to date.")
        return
    with ctx.registry["db_engine"].connect() as connection:
        config = migrations.alembic_config(list(ctx.plugins.plugins.values()), connection)
        if args.action == "current":
            heads = sorted(migrations.current_heads(connection))
            emit(args, {"heads": heads}, "\n".join(heads) or "Nothing applied yet; run `emporium init`.")
        else:
            command.history(config, verbose=args.verbose if hasattr(args, "verbose") else False)


def _new_revision(ctx, args):
    import pathlib

    from core import migrations
    from core.plugins.registry import read_snapshot

    if not args.plugin or not args.message:
        raise CommandError("db revision needs --plugin NAME (or kernel) and -m MESSAGE")
    if args.plugin == migrations.KERNEL_BRANCH:
        version_path = migrations.HERE / "versions"
    else:
        plugin = ctx.plugins.get(args.plugin)
        if plugin is None:
            raise CommandError(f"there is no loaded plugin named {args.plugin!r}")
        version_path = pathlib.Path(plugin.module.__file__).parent / "migrations"
        version_path.mkdir(exist_ok=True)
    with ctx.registry["db_engine"].begin() as connection:
        # autogenerate wants every known branch applied: show it only the installed
        # plugins' branches and the one being written
        installed = read_snapshot(connection).states
        plugins = [p for n, p in ctx.plugins.plugins.items()
                   if n == args.plugin or installed.get(n, "available") != "available"]
        config = migrations.alembic_config(plugins, connection)
        config.set_main_option("version_locations", config.get_main_option(
            "version_locations") + f" {version_path}")
        script = migrations.new_revision(config, args.plugin, args.message, args.autogenerate,
                                         version_path)
    emit(args, {"revision": script.revision, "path": script.path},
         f"Wrote {script.path}")


def cmd_plugins(ctx, args):
    from core.plugins.listing import describe_all, public_settings

    action = args.action
    with ctx.session() as (dbsession, manager):
        life = ctx.lifecycle(dbsession, manager)
        if action == "list":
            items = describe_all(ctx.plugins, life.snapshot())
            emit(args, items, _plugin_table(items))
        elif action == "plan":
            steps = life.plan(args.operation, args.name, cascade=args.cascade, purge=args.purge)
            emit(args, [s.as_dict() for s in steps], format_steps(steps, done=False))
        elif action == "settings":
            life.require(args.name)
            if args.values or args.reset:
                values = dict(_parse_assignment(v) for v in args.values)
                values.update({key: None for key in args.reset})
                life.update_settings(args.name, values)
            data = public_settings(ctx.plugins, life.snapshot(), args.name)
            text = "\n".join(
                f"{key} = {'(secret, set)' if data['secrets'].get(key) else '(secret, not set)' if key in data['secrets'] else json.dumps(value)}"
                for key, value in data["settings"].items()) or f"{args.name} has no settings."
            emit(args, data, text)
        else:
            steps = life.run(action, args.name, cascade=getattr(args, "cascade", False),
                             purge=getattr(args, "purge", False))
            emit(args, [s.as_dict() for s in steps], format_steps(steps, done=True))


def cmd_plugins_new(ctx, args):
    """Scaffold a plugin distribution; needs no ini file and no database."""
    from core.scaffold import ScaffoldError, create

    try:
        target, files = create(args.name, args.dir)
    except ScaffoldError as exc:
        raise CommandError(str(exc)) from None
    emit(args, {"plugin": args.name, "path": str(target), "files": files},
         f"Created plugin {args.name} in {target}/ ({len(files)} files). Next:\n"
         f"    pip install -e \"{target}[test]\"\n"
         f"    emporium plugins install {args.name}\n"
         f"    cd {target} && pytest")


def _parse_assignment(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise CommandError(f"settings are given as KEY=VALUE, not {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _plugin_table(items):
    if not items:
        return "No plugins found."
    rows = [("NAME", "STATE", "VERSION", "DEPENDS", "TITLE")]
    for item in items:
        version = item["version"] or "-"
        if item.get("upgrade_available"):
            version += f" (installed {item['installed_version']}, run `emporium db upgrade`)"
        title = item["title"] if not item.get("reason") else f"{item['title']}: {item['reason']}"
        rows.append((item["name"], item["state"], version, ",".join(item["depends"]) or "-", title))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        for row in rows
    )


def cmd_create_user(ctx, args):
    from core.security import create_user, find_user, validate_password

    password = args.password or os.environ.get("EMPORIUM_NEW_USER_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise CommandError("no password given: use --password or EMPORIUM_NEW_USER_PASSWORD")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            raise CommandError("the passwords differ")
    problems = validate_password(password, args.email)
    if problems:
        raise CommandError("; ".join(problems))
    with ctx.session() as (dbsession, manager):
        if find_user(dbsession, args.email) is not None:
            raise CommandError(f"a user with e-mail {args.email} already exists")
        user = create_user(dbsession, args.email, password, name=args.name or "", staff=args.staff)
        data = user.as_dict()
    emit(args, data, f"Created {'staff' if args.staff else 'customer'} user {data['email']} "
                     f"(id {data['id']}).")


def cmd_users(ctx, args):
    from core.accounts.services import list_users, set_active
    from core.security import find_user

    with ctx.session() as (dbsession, manager):
        if args.action == "list":
            data = [user.as_dict() for user in list_users(dbsession, staff_only=args.staff)]
            emit(args, data, _user_table(data))
            return
        user = find_user(dbsession, args.email)
        if user is None:
            raise CommandError(f"no user with e-mail {args.email}")
        set_active(dbsession, user, args.action == "activate")
        data = user.as_dict()
    emit(args, data, f"{'Activated' if data['is_active'] else 'Deactivated'} user "
                     f"{data['email']} (id {data['id']}).")


def _user_table(items):
    if not items:
        return "No users."
    rows = [("ID", "EMAIL", "ROLES", "ACTIVE", "NAME")]
    rows += [(str(u["id"]), u["email"], ",".join(u["roles"]), "yes" if u["is_active"] else "no",
              u["name"]) for u in items]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        for row in rows
    )


def cmd_celery(ctx, args):
    """``worker`` and ``beat``: Celery's own commands, for this ini's application."""
    from core.tasks import celery_app
    from core.tasks.worker import run

    if args.command == "worker" and celery_app(ctx.registry).conf.task_always_eager:
        # such a worker would wait forever: every process runs its own tasks
        raise CommandError("this ini runs tasks in process (celery.task_always_eager = true); "
                           "a worker needs a broker (celery.broker_url) and eager mode off")
    status = run(ctx.registry, args.command, args.celery_args)
    if status:
        raise CommandError(f"celery {args.command} exited with status {status}")


# --- parsing -------------------------------------------------------------------------


def build_parser():
    parser = argparse.ArgumentParser(prog="emporium", description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", default="development.ini",
                        help="the ini file (default: development.ini)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="create or upgrade the database, install default plugins")
    init.add_argument("--demo", action="store_true", help="also load demo data")
    init.set_defaults(func=cmd_init)

    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "current", "history", "revision"])
    db.add_argument("--plugin", help="revision: the plugin (or kernel) whose branch gets it")
    db.add_argument("-m", "--message", help="revision: what it changes")
    db.add_argument("--autogenerate", action="store_true",
                    help="revision: compare the plugin's models with the database")
    db.set_defaults(func=cmd_db)

    plugins = sub.add_parser("plugins", help="list and manage plugins")
    actions = plugins.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every discovered plugin and its state")
    plan = actions.add_parser("plan", help="show what an operation would do")
    plan.add_argument("operation", choices=["install", "enable", "disable", "uninstall", "upgrade"])
    plan.add_argument("name")
    plan.add_argument("--cascade", action="store_true")
    plan.add_argument("--purge", action="store_true")
    for name, helptext in (("install", "install with its dependencies, then enable"),
                           ("enable", "enable an installed plugin"),
                           ("upgrade", "migrate an installed plugin to its code's version")):
        actions.add_parser(name, help=helptext).add_argument("name")
    disable = actions.add_parser("disable", help="turn a plugin off, keeping its data")
    disable.add_argument("name")
    disable.add_argument("--cascade", action="store_true", help="disable its dependents too")
    uninstall = actions.add_parser("uninstall", help="uninstall a plugin")
    uninstall.add_argument("name")
    uninstall.add_argument("--purge", action="store_true", help="drop its tables and settings")
    settings = actions.add_parser("settings", help="show or change a plugin's settings")
    settings.add_argument("name")
    settings.add_argument("values", nargs="*", metavar="KEY=VALUE")
    settings.add_argument("--reset", action="append", default=[], metavar="KEY",
                          help="back to the default")
    plugins.set_defaults(func=cmd_plugins)
    new = actions.add_parser("new", help="scaffold a plugin as its own distribution")
    new.add_argument("name", help="the plugin's name: 2-40 of a-z, 0-9, _")
    new.add_argument("--dir", help="the directory to create (default: ./emporium-NAME)")
    new.set_defaults(func=cmd_plugins_new, needs_app=False)

    user = sub.add_parser("create-user", help="create a user (the first staff user, say)")
    user.add_argument("--email", required=True)
    user.add_argument("--name", default="")
    user.add_argument("--password", help="or EMPORIUM_NEW_USER_PASSWORD, or asked for")
    user.add_argument("--staff", action="store_true", help="give the staff role")
    user.set_defaults(func=cmd_create_user)

    users = sub.add_parser("users", help="list, deactivate and activate users")
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every user, oldest first").add_argument(
        "--staff", action="store_true", help="only staff users")
    actions.add_parser("deactivate", help="refuse the user's logins and sign them out "
                                          "(access tokens run out within their lifetime)"
                       ).add_argument("email")
    actions.add_parser("activate", help="let a deactivated user sign in again"
                       ).add_argument("email")
    users.set_defaults(func=cmd_users)

    # options after "--" go to Celery: emporium worker -- --concurrency 4 -l INFO
    for name, helptext in (("worker", "run a Celery worker (background tasks)"),
                           ("beat", "run Celery beat (sends the periodic jobs)")):
        celery_command = sub.add_parser(name, help=helptext)
        celery_command.add_argument("celery_args", nargs=argparse.REMAINDER,
                                    metavar="-- CELERY OPTIONS")
        celery_command.set_defaults(func=cmd_celery)
    add_plugin_commands(sub)
    return parser


def add_plugin_commands(subparsers):
    from core.plugins.discovery import ENTRY_POINT_GROUP

    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        try:
            module = importlib.import_module(f"{ep.module}.cli")
        except Exception:  # no cli module, or a broken plugin: `plugins list` reports it
            continue
        register = getattr(module, "register", None)
        if callable(register):
            with contextlib.suppress(argparse.ArgumentError):  # a name already taken
                register(subparsers)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        ctx = Context(args.config) if getattr(args, "needs_app", True) else None
        args.func(ctx, args)
    except CommandError as exc:
        return _fail(str(exc))
    except APIError as exc:
        return _fail(exc.message)
    except ValidationError as exc:
        details = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                            for k, v in exc.normalized_messages().items())
        return _fail(f"invalid value: {details}")
    except AlembicCommandError as exc:
        return _fail(f"migrations: {exc}")
    except sa.exc.OperationalError as exc:
        return _fail(f"database error: {str(exc.orig).strip().splitlines()[0]}")
    return 0


def _fail(message):
    print(f"emporium: error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
