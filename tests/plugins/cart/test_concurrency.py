"""Real concurrency on PostgreSQL: requests in threads against a database that commits."""
import uuid

import pytest
import sqlalchemy as sa
import transaction
import webtest
from sqlalchemy.orm import sessionmaker

from core.config import configure
from core.db import get_tm_session
from core.security import create_user, issue_access_token
from core.testing import postgresql_only, race
from plugins.cart.models import Cart, CartItem
from plugins.catalog import services as catalog
from plugins.catalog.schemas import ProductBody
from tests.conftest import app_settings, initialize

from .conftest import API, TOKEN

pytestmark = postgresql_only


@pytest.fixture(scope="module")
def shop(make_database):
    """A fresh database with the default plugins, served by a real WSGI app."""
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    registry = config.registry
    registry["plugins"].load(registry["db_engine"])
    app = config.make_wsgi_app()
    yield registry, app
    registry["db_engine"].dispose()


def _write(registry, work):
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        return work(get_tm_session(registry["dbsession_factory"], manager))


def _variant(registry, stock):
    def make(dbsession):
        body = ProductBody().load({"name": "Race", "variants": [
            {"sku": f"RACE-{uuid.uuid4().hex[:10]}", "price": "3.00", "stock": stock}]})
        product = catalog.create_product(dbsession, body, "EUR")
        dbsession.flush()
        return product.variants[0].id

    return _write(registry, make)


def _customer(registry):
    def make(dbsession):
        user = create_user(dbsession, f"race-{uuid.uuid4().hex[:8]}@example.com",
                           "correct horse battery")
        token, _ = issue_access_token(registry.settings, user)
        return user.id, {"Authorization": f"Bearer {token}"}

    return _write(registry, make)


def _race(app, requests):
    """Send ``requests`` (headers, body) to POST /cart/items all at once; their statuses."""
    def post(request):
        headers, body = request
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "shop.test"})
        return client.post_json(f"{API}/cart/items", body, headers=headers,
                                expect_errors=True).status_int

    return race(post, requests, timeout=60)


def _lines(registry, **where):
    factory = sessionmaker(bind=registry["db_engine"])
    with factory() as session:
        query = sa.select(CartItem.variant_id, CartItem.quantity).join(Cart)
        for key, value in where.items():
            query = query.where(getattr(Cart, key) == value)
        return session.execute(query.order_by(CartItem.id)).all()


def test_concurrent_adds_to_a_guest_cart_add_up(shop):
    registry, app = shop
    variant_id = _variant(registry, 1000)
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "shop.test"})
    first = client.post_json(f"{API}/cart/items", {"variant_id": variant_id, "quantity": 1})
    token = first.headers[TOKEN]
    quantities = [1, 2, 3, 4] * 4
    statuses = _race(app, [({TOKEN: token}, {"variant_id": variant_id, "quantity": q})
                           for q in quantities])
    assert statuses == [201] * len(quantities)
    assert _lines(registry, id=first.json["id"]) == [(variant_id, 1 + sum(quantities))]


def test_concurrent_first_adds_of_a_customer_make_one_cart(shop):
    registry, app = shop
    variant_id = _variant(registry, 1000)
    user_id, headers = _customer(registry)
    statuses = _race(app, [(headers, {"variant_id": variant_id, "quantity": 2})] * 12)
    assert statuses == [201] * 12
    assert _lines(registry, user_id=user_id) == [(variant_id, 24)]


def test_concurrent_adds_never_go_past_the_stock(shop):
    registry, app = shop
    variant_id = _variant(registry, 5)
    user_id, headers = _customer(registry)
    statuses = _race(app, [(headers, {"variant_id": variant_id, "quantity": 1})] * 10)
    assert sorted(statuses) == [201] * 5 + [409] * 5
    assert _lines(registry, user_id=user_id) == [(variant_id, 5)]


def test_concurrent_new_lines_never_go_past_max_lines(shop):
    registry, app = shop
    variants = [_variant(registry, 10) for _ in range(8)]
    user_id, headers = _customer(registry)

    staff_headers = _staff(registry)
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "shop.test"})
    client.put_json(f"{API}/admin/plugins/cart/settings", {"max_lines": 3},
                    headers=staff_headers)
    try:
        statuses = _race(app, [(headers, {"variant_id": v, "quantity": 1}) for v in variants])
    finally:
        client.put_json(f"{API}/admin/plugins/cart/settings", {}, headers=staff_headers)
    assert sorted(statuses) == [201] * 3 + [422] * 5
    assert len(_lines(registry, user_id=user_id)) == 3


def _staff(registry):
    def make(dbsession):
        user = create_user(dbsession, f"boss-{uuid.uuid4().hex[:8]}@example.com",
                           "correct horse battery", staff=True)
        token, _ = issue_access_token(registry.settings, user)
        return {"Authorization": f"Bearer {token}"}

    return _write(registry, make)
