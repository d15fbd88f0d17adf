"""The Celery app of a configured application, the task base class, send-after-commit.

One Celery app per Pyramid registry, built from the same ini settings (``celery.*``)
and holding the kernel's tasks and those declared in each loaded plugin's ``tasks``
module. The web process uses it to send (or, in eager mode, to run) tasks; the
worker and beat processes build the registry exactly as the web app does and run it.
"""
import datetime as dt
import importlib
import inspect
import json
import logging
import threading

import celery
import transaction
from celery.app.defaults import find as find_celery_option
from pyramid.exceptions import ConfigurationError

from core.db import get_tm_session
from core.settings import as_float, as_int, as_list

from .declare import KERNEL, declarations_in

log = logging.getLogger(__name__)

SETTINGS_PREFIX = "celery."
KERNEL_TASK_MODULES = ("core.notifications.tasks",)

# A task must outlive a worker that dies while running it: acknowledge it only
# once it ran, and hand it back to the broker when the worker is lost. Any of these
# can be overridden in the ini.
DEFAULTS = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "broker_connection_retry_on_startup": True,
    "task_serializer": "json",
    "result_serializer": "json",
    "accept_content": ["json"],
    "timezone": "UTC",
    "enable_utc": True,
}

SKIPPED = "skipped"

_lock = threading.Lock()
_latest = None  # the app built last in this process: send_after_commit(tm, ...) uses it


def celery_settings(settings):
    """Celery's configuration from the ``celery.*`` keys, typed as Celery expects."""
    conf = dict(DEFAULTS)
    for key, value in settings.items():
        if not key.startswith(SETTINGS_PREFIX):
            continue
        name = key[len(SETTINGS_PREFIX):]
        try:
            option = find_celery_option(name).type
        except KeyError:
            raise ConfigurationError(f"{key}: Celery has no setting named {name!r}") from None
        conf[name] = _typed(option, key, value)
    return conf


def _typed(option, key, value):
    if not isinstance(value, str):
        return value
    try:
        if option.type in ("dict", "any"):
            try:
                return json.loads(value)
            except ValueError:
                if option.type == "dict":
                    raise
                return value  # a plain string, such as a URL
        if option.type == "tuple":
            return tuple(as_list(value))
        return option.to_python(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{key} = {value!r} is not a valid {option.type}") from None


def refresh_interval(settings):
    return as_float(settings.get("emporium.plugins.refresh_interval"), 1.0)


class TaskContext:
    """What a task gets instead of a request, with the attributes a request has."""

    def __init__(self, registry, dbsession, tm, plugins, task):
        self.registry = registry
        self.dbsession = dbsession
        self.tm = tm
        self.plugins = plugins  # the enabled set when the task started
        self.task = task
        self.retry_request = None

    @property
    def settings(self):
        return self.registry.settings

    def retry_later(self, exc=None, countdown=None):
        """Commit what the task wrote (an attempt counter, say), then retry the task.

        Raising ``task.retry()`` inside the task would roll that back too. Counts
        against the task's ``max_retries``; past it, ``exc`` is raised.
        """
        self.retry_request = (exc, countdown)


class EmporiumTask(celery.Task):
    """Runs a declared task in its own transaction, for enabled plugins only."""

    declaration = None  # the TaskDeclaration, set on each registered task class

    def run_declared(self, *args, **kwargs):
        registry = self.app.pyramid_registry
        settings = registry.settings
        plugins = registry["plugins"]
        # a solo or threads pool forks nothing, so no worker_process_init starts it
        plugins.start_watcher(registry["db_engine"], refresh_interval(settings))
        enabled = plugins.current()
        owner = self.declaration.owner
        if owner != KERNEL and not enabled.is_enabled(owner):
            reason = f"plugin {owner} is not enabled"
            log.info("task %s[%s] skipped: %s", self.name, self.request.id, reason)
            return {SKIPPED: reason}

        manager = transaction.TransactionManager(explicit=True)
        contexts = []

        def attempt():
            if contexts:
                log.info("task %s: retrying after a transient database error", self.name)
            # tasks write: on SQLite, two runs of a job take turns at BEGIN instead of
            # the second failing with "database is locked" when it comes to write
            dbsession = get_tm_session(registry["dbsession_factory"], manager, write=True)
            contexts.append(TaskContext(registry, dbsession, manager, enabled, self))
            return self.declaration.fn(contexts[-1], *args, **kwargs)

        attempt.__name__ = self.name  # the transaction's note
        # replayed on the errors zope.sqlalchemy marks retryable (serialization
        # failures, deadlocks), as many times as pyramid_retry replays a request
        tries = max(1, as_int(settings.get("retry.attempts"), 3))
        result = manager.run(attempt, tries=tries)
        if contexts[-1].retry_request is not None:
            exc, countdown = contexts[-1].retry_request
            raise self.retry(exc=exc, countdown=countdown)
        return result


def _register(app, declaration):
    def run(self, *args, **kwargs):
        return self.run_declared(*args, **kwargs)

    run.__name__ = declaration.fn.__name__
    run.__doc__ = declaration.fn.__doc__
    run.__module__ = declaration.module
    # shared=False: Celery would otherwise add the task to every app made later
    app.task(run, bind=True, base=EmporiumTask, name=declaration.name, shared=False,
             lazy=False, declaration=declaration, **declaration.options)


def _task_modules(registry):
    for dotted in KERNEL_TASK_MODULES:
        yield KERNEL, importlib.import_module(dotted)
    for plugin in registry["plugins"].plugins.values():
        dotted = f"{plugin.package}.tasks"
        try:
            yield plugin.name, importlib.import_module(dotted)
        except ModuleNotFoundError as exc:
            if exc.name != dotted:
                log.exception("plugin %s: its tasks cannot be imported and will not run",
                              plugin.name)
        except Exception:
            log.exception("plugin %s: its tasks cannot be imported and will not run",
                          plugin.name)


def _schedule_entry(declaration, entry):
    options = {}
    seconds = entry.schedule
    if isinstance(seconds, dt.timedelta):
        seconds = seconds.total_seconds()
    if isinstance(seconds, (int, float)):
        # a run not started before the next one is due is dropped, so that jobs
        # sent while no worker was up do not pile up
        options["expires"] = seconds
    return {"task": declaration.name, "schedule": entry.schedule, "args": entry.args,
            "kwargs": entry.kwargs or {}, "options": options}


def build_app(registry):
    global _latest
    app = celery.Celery("emporium", set_as_current=False)
    app.conf.update(celery_settings(registry.settings))
    app.pyramid_registry = registry
    beat_schedule = {}
    for owner, module in _task_modules(registry):
        for declaration in declarations_in(module):
            try:
                declaration.bind_owner(owner)
            except ValueError as exc:
                log.error("task %s not registered: %s", declaration, exc)
                continue
            _register(app, declaration)
            for entry in declaration.schedules:
                key = declaration.name + (f":{entry.key}" if entry.key else "")
                if key in beat_schedule:
                    raise ConfigurationError(f"two periodic entries are named {key!r}: "
                                             "tell them apart with periodic(key=...)")
                beat_schedule[key] = _schedule_entry(declaration, entry)
    app.conf.beat_schedule = beat_schedule
    _latest = app
    return app


def celery_app(registry):
    """The Celery app of ``registry`` (built on first use)."""
    app = registry.get("celery_app")
    if app is None:
        with _lock:
            app = registry.get("celery_app")
            if app is None:
                app = registry["celery_app"] = build_app(registry)
    return app


def send_after_commit(request_or_tm, task, *args, **kwargs):
    """Send ``task(*args, **kwargs)`` once the current transaction commits.

    ``request_or_tm``: a request or TaskContext (anything with ``tm`` and
    ``registry``), or a bare transaction manager (then the process's app is used).
    ``task``: a declaration (``@task``) or a task name. Nothing is sent if the
    transaction aborts, so a worker never sees ids of rows that were rolled back.
    Arguments are checked against the task's signature now, not in the worker.
    """
    tm = getattr(request_or_tm, "tm", request_or_tm)
    registry = getattr(request_or_tm, "registry", None)
    app = celery_app(registry) if registry is not None else _latest
    if app is None:
        raise RuntimeError("no Emporium application is configured in this process")
    name = task if isinstance(task, str) else task.name
    if name not in app.tasks:
        raise LookupError(f"unknown task {name!r}: declare it with @task in a tasks module")
    declaration = app.tasks[name].declaration
    inspect.signature(declaration.fn).bind(None, *args, **kwargs)  # TypeError here

    def send(committed):
        if not committed:
            log.debug("task %s not sent: the transaction was rolled back", name)
            return
        try:
            app.tasks[name].apply_async(args, kwargs)
        except Exception:
            log.exception("task %s could not be sent after commit", name)

    tm.get().addAfterCommitHook(send)
