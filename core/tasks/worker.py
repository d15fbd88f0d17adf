"""Running Celery's worker and beat for a configured application (``emporium worker``)."""
import logging

from celery.signals import worker_process_init

from .app import celery_app, refresh_interval

log = logging.getLogger(__name__)


def _prepare_worker_processes(registry):
    engine = registry["db_engine"]
    plugins = registry["plugins"]

    def child_started(**_):
        # pooled connections opened before the fork belong to the parent: a child
        # sharing them would corrupt both sides' conversations with the database
        engine.dispose(close=False)
        # the enabled set may have changed since the parent read it; then keep it fresh
        plugins.load(engine)
        plugins.start_watcher(engine, refresh_interval(registry.settings))

    worker_process_init.connect(child_started, weak=False)


def run(registry, command, argv=()):
    """Run ``celery <command> <argv>`` (command: worker or beat); returns its exit status."""
    app = celery_app(registry)
    if command == "worker":
        _prepare_worker_processes(registry)
    argv = list(argv)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    return app.start([command, *argv]) or 0
