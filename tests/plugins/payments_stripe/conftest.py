"""Fixtures of the Stripe tests: one localstripe server for the session, the plugin
installed against it for one test, signed webhook deliveries, and the buyers, desk
and products of the order tests (tests/plugins/orders/conftest.py)."""
import contextlib

import pytest
import transaction
from transaction.interfaces import NoTransaction

from tests.plugins.orders.conftest import (  # noqa: F401  (fixtures used here)
    ADDRESS, API, assert_error, buyer, desk, mail_dir, make_buyer, mug, red, stock)

from .stripe_fake import LocalStripe, WEBHOOK_PATH, WEBHOOK_SECRET, body_of, sign

NAME = "payments_stripe"
STRIPE = {"shipping_address": ADDRESS, "payment_method": "stripe"}


@pytest.fixture(scope="session")
def localstripe():
    server = LocalStripe().start()
    yield server
    server.stop()


@pytest.fixture
def stripe_plugin(install_plugin, localstripe):
    """The plugin installed and set up against localstripe for this test."""
    install_plugin(NAME, settings=localstripe.settings())
    return localstripe


@pytest.fixture
def stripe_settings(testapp, staff):
    """``stripe_settings(**values)``: change the plugin's settings as staff does."""
    def store(**values):
        return testapp.put_json(f"{API}/admin/plugins/{NAME}/settings", values,
                                headers=staff.headers)

    return store


@pytest.fixture
def task_ctx(registry, db_connection):
    """``task_ctx()``: a task's context (its own transaction inside the test's) seeing the
    plugins enabled now; what it did is committed into the test's transaction."""
    from core.db import get_tm_session
    from core.tasks import TaskContext

    managers = []

    def make():
        manager = transaction.TransactionManager(explicit=True)
        manager.begin()
        managers.append(manager)
        dbsession = get_tm_session(registry["dbsession_factory"], manager)
        return TaskContext(registry, dbsession, manager, registry["plugins"].current(), None)

    yield make
    for manager in managers:
        with contextlib.suppress(NoTransaction):  # committed or aborted by the test
            manager.abort()


def run_task(ctx, work):
    """``work(ctx)``, committed (as a task's run is)."""
    try:
        result = work(ctx)
        ctx.tm.commit()
        return result
    except Exception:
        ctx.tm.abort()
        raise


def deliver(testapp, event, secret=WEBHOOK_SECRET, timestamp=None, status=200, header=None,
            body=None):
    """POST ``event`` to the webhook, signed with ``secret`` (or with ``header`` as is)."""
    body = body_of(event) if body is None else body
    headers = {}
    signature = sign(body, secret, timestamp) if header is None else header
    if signature is not False:
        headers["Stripe-Signature"] = signature
    return testapp.post(WEBHOOK_PATH, params=body, headers=headers,
                        content_type="application/json", status=status)


@pytest.fixture
def stripe_buyer(buyer, red):
    """A signed-in customer with two red mugs (25.00) in the cart."""
    buyer.add(red, 2)
    return buyer


def placed(buyer, **body):
    """Place the cart's order paying with Stripe: the order's JSON."""
    return buyer.place(dict(STRIPE, **body)).json
