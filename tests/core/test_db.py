"""The database layer: SQLite write requests that do not deadlock each other."""
import threading

import sqlalchemy as sa
import transaction
from zope.sqlalchemy import mark_changed

from core.db import get_engine, get_session_factory, get_tm_session


class FakeRequest:
    def __init__(self, method):
        self.method = method


def increment_concurrently(tmp_path, method, threads=4, rounds=25):
    """Read-then-write increments of one SQLite row from several threads."""
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path}/race.sqlite"})
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (1, 0)")
    factory = get_session_factory(engine)
    errors = []

    def work():
        for _ in range(rounds):
            manager = transaction.TransactionManager(explicit=True)
            try:
                with manager:
                    session = get_tm_session(factory, manager, request=FakeRequest(method))
                    n = session.execute(sa.text("SELECT n FROM counter")).scalar()
                    session.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})
                    mark_changed(session, transaction_manager=manager)
            except sa.exc.OperationalError as exc:
                errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with engine.connect() as connection:
        total = connection.exec_driver_sql("SELECT n FROM counter").scalar()
    engine.dispose()
    return total, errors


def test_sqlite_write_requests_take_the_write_lock_first(tmp_path):
    total, errors = increment_concurrently(tmp_path, "POST")
    assert errors == []
    # without the write lock taken at BEGIN, two threads that read the row both try
    # to upgrade to writing and one fails with "database is locked"
    assert total == 100

