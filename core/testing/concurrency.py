"""Races: calls run at once in threads, for tests of what holds under concurrency.

Only PostgreSQL shows a race: SQLite runs one writer at a time. Such tests run
against an application on a database of their own whose transactions really
commit (``make_database``, ``app_settings``, ``initialize``), never in the test's
rolled-back transaction, which one thread at a time could use.
"""
import os
import threading

import pytest
from celery._state import _set_task_join_will_block, task_join_will_block

from .app import DATABASE_URL_VARIABLE

# ``pytestmark = postgresql_only`` in a module of races
postgresql_only = pytest.mark.skipif(
    not os.environ.get(DATABASE_URL_VARIABLE),
    reason=f"needs PostgreSQL ({DATABASE_URL_VARIABLE}): SQLite runs one writer at a time, "
           "so it cannot show a race")


def race(work, arguments, timeout=120):
    """``[work(argument) for argument in arguments]``, each call in a thread of its own,
    all released at once. Fails if a call raised (every exception is listed) or has not
    returned after ``timeout`` seconds."""
    barrier = threading.Barrier(len(arguments))
    results, errors = [None] * len(arguments), []
    joining = task_join_will_block()

    def run(index):
        barrier.wait()
        try:
            results[index] = work(arguments[index])
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(arguments))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    # Celery's eager apply() sets and restores a process-wide "inside a task" flag:
    # calls running eager tasks at once (the mails of orders) can leave it set, and
    # then every later result.get() in this process refuses to run
    _set_task_join_will_block(joining)
    assert not errors, errors
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} of {len(threads)} calls still running after {timeout} s"
    return results
