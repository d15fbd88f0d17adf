"""Declaring tasks and periodic jobs, without a Celery app in sight.

A declaration is a plain record kept on the module that defines it. The kernel
binds declarations to the Celery app of a configured application (see
``core.tasks.app``), so a plugin never imports a global app and one process may
hold several applications (tests do).
"""
import dataclasses
import datetime as dt
from typing import Any, Callable

from celery.schedules import BaseSchedule

KERNEL = "core"


@dataclasses.dataclass(eq=False)
class TaskDeclaration:
    fn: Callable
    name: str | None = None  # "<owner>.<function>" unless given; set when bound
    owner: str | None = None  # the plugin's name, or "core"; set when bound
    options: dict = dataclasses.field(default_factory=dict)
    schedules: list = dataclasses.field(default_factory=list)

    @property
    def module(self):
        return self.fn.__module__

    def bind_owner(self, owner):
        """Give the declaration its owner; a task's name must say who owns it."""
        if self.owner not in (None, owner):
            raise ValueError(f"task {self.name!r} is declared by both {self.owner!r} "
                             f"and {owner!r}")
        name = self.name or f"{owner}.{self.fn.__name__}"
        if not name.startswith(owner + "."):
            raise ValueError(f"task {name!r} of {owner!r} must be named '{owner}.<name>'")
        self.owner, self.name = owner, name

    def __call__(self, ctx, *args, **kwargs):
        # calling the function directly (in a test, or from another task) skips Celery
        return self.fn(ctx, *args, **kwargs)

    def __repr__(self):
        return f"<task {self.name or self.fn.__qualname__}>"


@dataclasses.dataclass(frozen=True)
class PeriodicEntry:
    schedule: Any  # seconds, a timedelta, or a celery.schedules schedule such as crontab
    args: tuple = ()
    kwargs: dict | None = None
    key: str | None = None  # tells apart two schedules of one task


def task(fn=None, *, name=None, **options):
    """Declare ``fn(ctx, *args, **kwargs)`` as a background task.

    ``ctx`` is a ``TaskContext`` (registry, dbsession, tm, plugins, settings); the
    task runs in a transaction of its own, committed when it returns. ``options``
    are Celery task options (``max_retries``, ``rate_limit``, ``autoretry_for``,
    ``retry_backoff``, ``time_limit``, ...). Arguments and the return value cross a
    broker: keep them JSON (ids, not ORM objects).
    """
    def declare(fn):
        return TaskDeclaration(fn=fn, name=name, options=options)

    return declare(fn) if fn is not None else declare


def periodic(schedule, *, args=(), kwargs=None, key=None):
    """Run the decorated task on ``schedule`` (seconds, a timedelta or a crontab).

    Stack it on ``@task`` (or use it alone, which declares the task too). Beat
    sends the job whether or not its plugin is enabled; the worker skips it while
    the plugin is not. Two workers may run it at once: write it to be idempotent.
    """
    if isinstance(schedule, (int, float)):
        if schedule <= 0:
            raise ValueError("a periodic schedule must be positive")
    elif not isinstance(schedule, (dt.timedelta, BaseSchedule)):
        raise TypeError("schedule is seconds, a timedelta or a celery.schedules schedule")

    def declare(target):
        declaration = target if isinstance(target, TaskDeclaration) else task(target)
        declaration.schedules.append(PeriodicEntry(schedule, tuple(args), kwargs, key))
        return declaration

    return declare


def declarations_in(module):
    """The tasks a module declares itself (not those it imported from elsewhere)."""
    return [value for value in vars(module).values()
            if isinstance(value, TaskDeclaration) and value.module == module.__name__]
