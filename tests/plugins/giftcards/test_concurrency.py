"""Gift cards under concurrency, on PostgreSQL, with real threads against a database of
their own whose transactions really commit: a card is never overdrawn however many orders
spend it at once, a cancellation credits it once, and misses from many requests at once
are all counted."""
import uuid

import pytest
import sqlalchemy as sa
import webtest

from core.accounts.models import LoginAttempt
from core.money import Money
from core.security import create_user, issue_access_token
from core.testing import postgresql_only, race, standalone_app
from plugins.catalog import services as catalog
from plugins.catalog.schemas import ProductBody
from plugins.giftcards import codes, ratelimit, services
from plugins.giftcards.models import GiftCard, LedgerEntry

from .conftest import ADDRESS, API

pytestmark = postgresql_only


class Shop:
    def __init__(self, registry, app):
        self.registry = registry
        self.app = app
        self.sessions = registry["dbsession_factory"]

    def product(self, price, stock=1000):
        with self.sessions() as session, session.begin():
            body = ProductBody().load({"name": "Thing", "variants": [
                {"sku": f"T-{uuid.uuid4().hex[:10]}", "price": price, "stock": stock}]})
            return catalog.create_product(session, body, "EUR").variants[0].id

    def card(self, amount):
        with self.sessions() as session, session.begin():
            [issued] = services.issue(session, Money.from_decimal(amount, "EUR"))
            return issued.code

    def client(self, address="203.0.113.50"):
        return webtest.TestApp(self.app, extra_environ={"HTTP_HOST": "shop.test",
                                                        "REMOTE_ADDR": address})

    def buyer_with_cart(self, variant_id):
        with self.sessions() as session, session.begin():
            user = create_user(session, f"g-{uuid.uuid4().hex[:10]}@example.com",
                               "correct horse battery")
            session.flush()
            token, _ = issue_access_token(self.registry.settings, user)
        headers = {"Authorization": f"Bearer {token}"}
        self.client().post_json(f"{API}/cart/items", {"variant_id": variant_id,
                                                      "quantity": 1}, headers=headers)
        return headers

    def place(self, headers, code):
        return self.client().post_json(
            f"{API}/orders", {"shipping_address": ADDRESS, "gift_card_codes": [code]},
            headers=dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}), status="*")

    def ledger(self, code):
        with self.sessions() as session:
            card = session.scalars(sa.select(GiftCard).where(
                GiftCard.code_hash == codes.digest(codes.normalize(code)))).one()
            entries = session.execute(sa.select(LedgerEntry.kind, LedgerEntry.amount,
                                                LedgerEntry.balance_after)
                                      .where(LedgerEntry.card_id == card.id)
                                      .order_by(LedgerEntry.id)).all()
            return card.balance, entries


@pytest.fixture(scope="module")
def shop(make_database, tmp_path_factory):
    registry, app = standalone_app(make_database(), tmp_path_factory.mktemp("mail"), install=["giftcards"])
    yield Shop(registry, app)
    registry["db_engine"].dispose()


def test_twenty_orders_on_one_card_take_exactly_what_it_holds(shop):
    variant_id = shop.product("10.00")
    code = shop.card("50.00")
    buyers = [shop.buyer_with_cart(variant_id) for _ in range(20)]
    responses = race(lambda headers: shop.place(headers, code), buyers)
    placed = [r for r in responses if r.status_int == 201]
    refused = [r for r in responses if r.status_int != 201]
    assert len(placed) == 5, [r.status_int for r in responses]
    assert all(r.json["status"] == "processing" and r.json["amount_due"] == "0.00"
               for r in placed)
    for response in refused:
        assert response.status_int == 422, response.text
        assert response.json["error"]["code"] in ("gift_card_insufficient", "checkout_invalid")
    balance, entries = shop.ledger(code)
    assert balance == 0
    assert entries[0] == ("issue", 5000, 5000)
    assert sorted(entries[1:], key=lambda e: -e[2]) == [
        ("redeem", -1000, after) for after in (4000, 3000, 2000, 1000, 0)]


def test_partial_spending_at_once_never_goes_below_zero(shop):
    variant_id = shop.product("10.00")
    code = shop.card("35.00")
    buyers = [shop.buyer_with_cart(variant_id) for _ in range(12)]
    responses = race(lambda headers: shop.place(headers, code), buyers)
    placed = [r for r in responses if r.status_int == 201]
    assert {r.status_int for r in responses} <= {201, 422}
    taken = sum(Money.from_decimal(r.json["tender_total"], "EUR").amount for r in placed)
    balance, entries = shop.ledger(code)
    # each checkout read 35.00 and asked for 10.00: three got it, 5.00 is left
    assert (len(placed), taken, balance) == (3, 3000, 500)
    assert sum(amount for _, amount, _ in entries) == balance
    assert all(after >= 0 for _, _, after in entries)
    # the next order takes what is left and pays the rest otherwise
    order = shop.place(shop.buyer_with_cart(variant_id), code).json
    assert (order["tender_total"], order["amount_due"]) == ("5.00", "5.00")
    assert shop.ledger(code)[0] == 0


def test_concurrent_cancellations_credit_the_card_once(shop):
    variant_id = shop.product("10.00")
    code = shop.card("4.00")
    headers = shop.buyer_with_cart(variant_id)
    number = shop.place(headers, code).json["number"]
    responses = race(lambda _: shop.client().post_json(
        f"{API}/orders/{number}/cancel", {}, headers=headers, status="*"), list(range(10)))
    assert sorted(r.status_int for r in responses) == [200] + [409] * 9
    balance, entries = shop.ledger(code)
    assert balance == 400
    assert [kind for kind, _, _ in entries] == ["issue", "redeem", "refund"]


def test_misses_from_many_requests_at_once_are_all_counted(shop):
    address = "198.51.100.77"
    unknown = [codes.display(f"{n:04d}" + "Y" * 12) for n in range(30)]
    responses = race(lambda code: shop.client(address).get(f"{API}/gift-cards/{code}",
                                                            status="*"), unknown)
    assert {r.status_int for r in responses} <= {404, 429}
    with shop.sessions() as session:
        attempt = session.get(LoginAttempt, ratelimit.address_key(address))
        assert attempt.failures == sum(r.status_int == 404 for r in responses) >= 10
    real = shop.card("1.00")
    response = shop.client(address).get(f"{API}/gift-cards/{real}", status=429)
    assert int(response.headers["Retry-After"]) >= 1
    # another process (another client of the same database) sees the same block
    assert shop.client("198.51.100.78").get(f"{API}/gift-cards/{real}").json["balance"] \
        == "1.00"
