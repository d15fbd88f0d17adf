"""For tests of jobs racing each other: an application of its own whose transactions
really commit and whose mail goes to a real SMTP server, and a task run in several
threads at once (tasks run in process there, as in the session's application)."""
import contextlib
import threading

from core.config import configure
from tests.conftest import app_settings, initialize


@contextlib.contextmanager
def mailing_app(database_url, catcher, mail_dir):
    """The registry of an application on ``database_url`` (migrated, default plugins
    installed) that mails ``catcher``."""
    config = configure(app_settings(database_url, extra_plugins=[], **{
        "emporium.mail.backend": "smtp", "emporium.mail.smtp_host": "127.0.0.1",
        "emporium.mail.smtp_port": str(catcher.port), "emporium.mail.smtp_tls": "none",
        "emporium.mail_dir": str(mail_dir)}))
    config.commit()
    initialize(config)
    config.registry["plugins"].load(config.registry["db_engine"])
    try:
        yield config.registry
    finally:
        config.registry["db_engine"].dispose()


def run_at_once(task, times):
    """Run the Celery ``task`` in ``times`` threads released together; their results."""
    barrier = threading.Barrier(times)
    results, errors = [], []

    def run():
        barrier.wait()
        try:
            # .result, not .get(): Celery takes a get() next to the other thread's
            # task for a task waiting on another
            result = task.apply()
            assert result.successful(), result.traceback
            results.append(result.result)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return results
