"""A shop on a database of its own whose transactions really commit, with the Stripe
plugin set up against localstripe and served by waitress on loopback, so that
localstripe's signed webhooks reach it over HTTP (and threads can race in it)."""
import time
import uuid

import sqlalchemy as sa
import transaction
import webtest
from webtest.http import StopableWSGIServer

from core.config import configure
from core.db import get_tm_session
from core.security import create_user, issue_access_token
from core.tasks import TaskContext
from core.testing.app import PASSWORD, run_lifecycle
from plugins.catalog import inventory, services as catalog
from plugins.catalog.schemas import ProductBody
from plugins.orders.models import Order, Payment, StatusChange
from plugins.payments_stripe.models import WebhookEvent
from tests.conftest import app_settings, initialize

from .conftest import ADDRESS, API, NAME
from .stripe_fake import WEBHOOK_PATH, post_http


class Recorder:
    """WSGI middleware keeping the status of every webhook delivery the app answered."""

    def __init__(self, app):
        self.app = app
        self.answers = []

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != WEBHOOK_PATH:
            return self.app(environ, start_response)

        def record(status, headers, exc_info=None):
            self.answers.append(int(status.split()[0]))
            return start_response(status, headers, exc_info)

        return self.app(environ, record)


class Shop:
    def __init__(self, config, localstripe):
        self.config = config
        self.registry = config.registry
        self.sessions = self.registry["dbsession_factory"]
        self.localstripe = localstripe
        self.app = Recorder(config.make_wsgi_app())
        self.server = None
        self.webhook_name = f"shop-{uuid.uuid4().hex[:8]}"

    @classmethod
    def open(cls, database_url, mail_dir, localstripe, serve=True):
        config = configure(app_settings(database_url, extra_plugins=[], **{
            "emporium.mail_dir": str(mail_dir)}))
        config.commit()
        initialize(config)
        config.registry["plugins"].load(config.registry["db_engine"])
        run_lifecycle(config.registry, "install", NAME, settings=localstripe.settings())
        shop = cls(config, localstripe)
        if serve:
            shop.server = StopableWSGIServer.create(shop.app, host="127.0.0.1", threads=4)
            assert shop.server.wait()
            shop.receive_webhooks()
        return shop

    def close(self):
        if self.server is not None:
            # localstripe cannot forget a webhook: send it nowhere (refused at once)
            self.localstripe.send_webhooks_to(self.webhook_name, "http://127.0.0.1:9/")
            self.server.shutdown()
        self.registry["db_engine"].dispose()

    @property
    def url(self):
        return self.server.application_url.rstrip("/")

    def receive_webhooks(self, secret=None):
        """Have localstripe deliver its events here, signed with ``secret``."""
        kwargs = {"secret": secret} if secret else {}
        self.localstripe.send_webhooks_to(self.webhook_name, self.url + WEBHOOK_PATH, **kwargs)

    # --- data, committed --------------------------------------------------------------------

    def product(self, stock=10, price="12.50"):
        with self.sessions() as session, session.begin():
            body = ProductBody().load({"name": "Mug", "variants": [
                {"sku": f"MUG-{uuid.uuid4().hex[:10]}", "price": price, "stock": stock}]})
            product = catalog.create_product(session, body, "EUR")
            session.flush()
            return product.variants[0].id

    def user(self, staff=False):
        with self.sessions() as session, session.begin():
            user = create_user(session, f"u-{uuid.uuid4().hex[:10]}@example.com", PASSWORD,
                               staff=staff)
            session.flush()
            token, _ = issue_access_token(self.registry.settings, user)
        return {"Authorization": f"Bearer {token}"}

    def client(self):
        return webtest.TestApp(self.app, extra_environ={"HTTP_HOST": "shop.test"})

    def place(self, variant_id, quantity=1):
        """A customer's order of ``quantity`` units paid with Stripe, through the API."""
        headers = self.user()
        client = self.client()
        client.post_json(f"{API}/cart/items", {"variant_id": variant_id,
                                               "quantity": quantity}, headers=headers)
        order = client.post_json(f"{API}/orders", {
            "shipping_address": ADDRESS, "payment_method": "stripe"},
            headers=dict(headers, **{"Idempotency-Key": uuid.uuid4().hex})).json
        order["intent_id"] = order["payment"]["client_secret"].split("_secret_")[0]
        order["headers"] = headers
        return order

    def post_webhook(self, body, signature):
        """Deliver a webhook over HTTP, as Stripe does: ``(status, answer)``."""
        return post_http(self.url + WEBHOOK_PATH, body, {"Stripe-Signature": signature})

    # --- reading the state --------------------------------------------------------------------

    def status(self, number):
        with self.sessions() as session:
            return session.scalar(sa.select(Order.status).where(Order.number == number))

    def wait_for_status(self, number, wanted, limit=20.0):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.status(number) == wanted:
                return True
            time.sleep(0.1)
        raise AssertionError(f"order {number} is {self.status(number)}, not {wanted}, "
                             f"after {limit} s; webhook answers: {self.app.answers}")

    def history(self, number):
        with self.sessions() as session:
            return list(session.scalars(
                sa.select(StatusChange.to_status).join(Order, Order.id == StatusChange.order_id)
                .where(Order.number == number).order_by(StatusChange.id)))

    def events(self, number=None, event_id=None):
        with self.sessions() as session:
            query = sa.select(WebhookEvent).order_by(WebhookEvent.id)
            if number is not None:
                query = query.where(WebhookEvent.order_number == number)
            if event_id is not None:
                query = query.where(WebhookEvent.event_id == event_id)
            return [(e.event_id, e.type, e.outcome) for e in session.scalars(query)]

    def payment(self, number):
        with self.sessions() as session:
            payment = session.scalars(sa.select(Payment).join(Order).where(
                Order.number == number)).one()
            return payment.status, payment.amount, payment.refunded_amount

    def level(self, variant_id):
        with self.sessions() as session:
            level = inventory.level(session, variant_id)
            return level.on_hand, level.reserved

    def in_context(self, work):
        """``work(ctx)`` in a transaction of its own, committed, as a task runs."""
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(self.sessions, manager)
            ctx = TaskContext(self.registry, dbsession, manager,
                              self.registry["plugins"].current(), None)
            return work(ctx)
