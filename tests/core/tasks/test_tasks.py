"""Tasks in eager mode (run in this process): after commit, skipped while disabled, retried.

The same machinery against a real worker and Redis is in test_worker.py.
"""
import datetime as dt

import pytest
import sqlalchemy as sa
from pyramid.exceptions import ConfigurationError

from core.settings import resolve
from core.tasks import SKIPPED, celery_app, celery_settings, crontab, periodic, send_after_commit
from core.tasks import task as declare_task
from tests.fixtures.plugins.tasker import tasks as tasker_tasks
from tests.fixtures.plugins.tasker.models import TaskerRecord

ADMIN = "/api/v1/admin/plugins/tasker"


def labels(dbsession):
    return dbsession.scalars(sa.select(TaskerRecord.label).order_by(TaskerRecord.id)).all()


@pytest.fixture
def tasker(testapp, staff):
    testapp.post_json(f"{ADMIN}/install", {}, headers=staff.headers)
    tasker_tasks.ATTEMPTS.clear()


def test_a_view_sends_its_task_only_when_its_transaction_commits(testapp, tasker, dbsession):
    testapp.post_json("/api/v1/tasker/records", {"label": "kept"}, status=202)
    testapp.post_json("/api/v1/tasker/records", {"label": "dropped", "fail": True}, status=409)
    assert labels(dbsession) == ["kept"]


def test_a_task_of_a_plugin_not_enabled_does_nothing_and_says_so(testapp, staff, registry,
                                                                 dbsession):
    record = celery_app(registry).tasks["tasker.record"]
    assert record.apply(("never installed",)).get() == {SKIPPED: "plugin tasker is not enabled"}
    testapp.post_json(f"{ADMIN}/install", {}, headers=staff.headers)
    assert record.apply(("enabled",)).get() == "enabled"
    testapp.post_json(f"{ADMIN}/disable", {}, headers=staff.headers)
    assert record.apply(("disabled",)).get() == {SKIPPED: "plugin tasker is not enabled"}
    assert labels(dbsession) == ["enabled"]


def test_kernel_tasks_run_whatever_plugins_are_enabled(registry):
    app = celery_app(registry)
    # no such notification: the task runs (and finds nothing) instead of being skipped
    assert app.tasks["core.send_notification"].apply((987654,)).get() == {
        "id": 987654, "state": None}


def test_transient_database_errors_replay_the_task_in_a_fresh_transaction(
        tasker, registry, dbsession):
    flaky = celery_app(registry).tasks["tasker.flaky"]
    flaky.apply(("f", 2)).get()  # fails twice like a serialization failure, then works
    assert tasker_tasks.ATTEMPTS == ["f", "f", "f"]
    assert labels(dbsession) == ["f-3"]  # the failed attempts' writes were rolled back

    tasker_tasks.ATTEMPTS.clear()
    result = flaky.apply(("g", 5))  # more failures than retry.attempts (3)
    assert result.failed() and "could not serialize" in str(result.result)
    assert tasker_tasks.ATTEMPTS == ["g", "g", "g"]
    assert labels(dbsession) == ["f-3"]


def test_other_errors_are_not_replayed(tasker, registry, dbsession):
    result = celery_app(registry).tasks["tasker.record"].apply((None,))  # NOT NULL violated
    assert result.failed() and isinstance(result.result, sa.exc.IntegrityError)
    assert labels(dbsession) == []


def test_send_after_commit_checks_the_task_and_its_arguments_at_once(registry, dbsession,
                                                                     monkeypatch):
    import transaction

    from core.tasks import app as tasks_app

    # a bare transaction manager uses the process's app: the app built last, which is
    # another test's when tests build applications of their own
    monkeypatch.setattr(tasks_app, "_latest", celery_app(registry))
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    try:
        with pytest.raises(TypeError):
            send_after_commit(manager, tasker_tasks.record, "a", "too many")
        with pytest.raises(LookupError):
            send_after_commit(manager, "tasker.no_such_task")
    finally:
        manager.abort()


def test_task_names_say_their_owner_and_periodic_jobs_reach_the_beat_schedule(registry,
                                                                             dbsession,
                                                                             tasker):
    app = celery_app(registry)
    assert {"core.send_notification", "tasker.record", "tasker.tick"} <= set(app.tasks)
    entry = app.conf.beat_schedule["tasker.tick"]
    assert (entry["task"], entry["schedule"], entry["args"]) == ("tasker.tick", 1.0, ("tick",))
    # a run not started before the next is due is dropped, so missed runs do not pile up
    assert entry["options"] == {"expires": 1.0}
    # what beat sends, run here
    app.tasks[entry["task"]].apply(entry["args"], entry["kwargs"]).get()
    assert labels(dbsession) == ["tick"]


def test_every_periodic_job_of_the_shop_is_on_the_beat_schedule(registry):
    # the list: guest carts, stale orders, Stripe, points, low stock, lost mail
    jobs = {"cart.purge_expired", "orders.fail_stale", "payments_stripe.reconcile",
            "loyalty.expire_points", "catalog.low_stock_alert",
            "core.resend_stuck_notifications"}
    schedule = celery_app(registry).conf.beat_schedule
    assert jobs <= set(schedule)
    assert all(schedule[job]["task"] == job for job in jobs)


def test_declarations():
    def job(ctx):
        return "ran"

    declared = periodic(crontab(minute="*/5"), key="often")(declare_task(job))
    assert declared("a context") == "ran"  # callable directly, without Celery
    assert declared.schedules[0].key == "often"
    declared.bind_owner("shop")
    assert declared.name == "shop.job"
    with pytest.raises(ValueError, match="declared by both"):
        declared.bind_owner("other")
    with pytest.raises(ValueError, match="must be named"):
        declare_task(name="orders.job")(job).bind_owner("shop")
    assert periodic(dt.timedelta(minutes=1))(job).schedules[0].schedule.total_seconds() == 60
    with pytest.raises(ValueError):
        periodic(0)
    with pytest.raises(TypeError):
        periodic("every minute")


def test_celery_settings_come_typed_from_the_ini_and_the_environment():
    conf = celery_settings(resolve({
        "celery.broker_url": "memory://",
        "celery.task_always_eager": "false",
        "celery.worker_prefetch_multiplier": "4",
        "celery.worker_concurrency": "3",
        "celery.broker_transport_options": '{"visibility_timeout": 7200}',
        "sqlalchemy.url": "sqlite://",
    }, environ={"EMPORIUM_BROKER_URL": "redis://cache:6379/2"}))
    assert conf["broker_url"] == "redis://cache:6379/2"
    assert conf["task_always_eager"] is False
    assert (conf["worker_prefetch_multiplier"], conf["worker_concurrency"]) == (4, 3)
    assert conf["broker_transport_options"] == {"visibility_timeout": 7200}
    assert conf["task_acks_late"] is True  # the kernel's default, for tasks to outlive a crash
    with pytest.raises(ConfigurationError, match="no setting named 'broker_ulr'"):
        celery_settings({"celery.broker_ulr": "redis://"})
    with pytest.raises(ConfigurationError, match="not a valid bool"):
        celery_settings({"celery.task_always_eager": "sometimes"})



def test_worker_refuses_an_ini_that_runs_tasks_in_process(make_database, tmp_path):
    from tests.core.test_cli import run, write_ini

    ini = tmp_path / "eager.ini"
    write_ini(ini, make_database())
    ini.write_text(ini.read_text().replace(
        "[server:main]", "celery.task_always_eager = true\n\n[server:main]"))
    status, out, err = run(str(ini), "worker", "--", "--concurrency", "1")
    assert status == 1
    assert "runs tasks in process (celery.task_always_eager = true)" in err
