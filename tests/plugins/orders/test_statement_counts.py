"""The checkout and the order pages cost a fixed number of SQL statements, with every
built-in optional plugin enabled and in play (a shipping method, a coupon, a gift card,
loyalty points): a quote or an order of 1 line costs what one of 10 lines costs, a page
of 5 orders what one of 50 costs. The upper bounds are what the code costs now; a
regression shows there."""
import pytest

from .conftest import ADDRESS, API, new_key

OPTIONAL_PLUGINS = ("coupons", "shipping", "loyalty", "giftcards", "payments_stripe")
LOYALTY = {"points_per_unit": "1", "point_value": "0.01", "min_redeem_points": "0",
           "max_redeem_percent": 100, "expiry_months": 12}


class Shop:
    """Every optional plugin enabled, a shipping zone, a coupon, gift cards and points."""

    def __init__(self, testapp, staff, make_product):
        self.testapp = testapp
        self.staff = staff.headers
        self.variants = [
            make_product(f"Line {n}", images=[{"url": f"https://cdn.example.com/{n}.jpg"}],
                         variants=[{"price": "20.00", "stock": 500, "options": {"Size": s}}
                                   for s in ("S", "M")]).variants[0].id
            for n in range(10)]
        zone = self.post("/shipping/zones", {"name": "UK", "areas": [{"country": "GB"}]})
        self.post(f"/shipping/zones/{zone['id']}/methods", {
            "code": "standard", "name": "Standard", "kind": "flat", "price": "4.90",
            "min_days": 2, "max_days": 4})
        self.post("/admin/coupons", {"code": "SAVE10", "kind": "percentage", "percent": "10"})

    def post(self, path, body):
        return self.testapp.post_json(f"{API}{path}", body, headers=self.staff).json

    def gift_card(self):
        """The code of a new card of 2.00: it pays a part of any order here."""
        return self.post("/admin/gift-cards", {"amount": "2.00"})["items"][0]["code"]

    def give_points(self, user, points):
        self.post(f"/admin/loyalty/accounts/{user.id}/adjustments",
                  {"points": points, "reason": "welcome"})

    def body(self):
        return {"shipping_address": ADDRESS, "shipping_method": "standard",
                "coupon_codes": ["SAVE10"], "gift_card_codes": [self.gift_card()],
                "loyalty_points": 100}

    def fill(self, buyer, lines):
        for variant_id in self.variants[:lines]:
            buyer.add(variant_id, 2)


@pytest.fixture
def shop(install_plugin, testapp, staff, make_product):
    for name in OPTIONAL_PLUGINS:
        install_plugin(name, settings=LOYALTY if name == "loyalty" else None)
    return Shop(testapp, staff, make_product)


@pytest.fixture
def shopper(shop, buyer):
    shop.give_points(buyer.user, 100_000)
    return buyer


def as_sent(seen, dialect):
    """``seen`` as PostgreSQL gets it. On SQLite, SQLAlchemy sends an INSERT ... RETURNING
    for each new row (SQLite cannot return rows in the order of their values), where
    PostgreSQL gets one statement for all of them: count such a run once."""
    if dialect != "sqlite":
        return seen
    merged = type(seen)()
    for statement in seen:
        if not (merged and statement == merged[-1] and statement.startswith("INSERT")):
            merged.append(statement)
    return merged


@pytest.fixture
def same(registry):
    """``same(few, many, most, (what few, what many))``: as many statements for both,
    and at most ``most``."""
    dialect = registry["db_engine"].dialect.name

    def check(few, many, most, what):
        few, many = as_sent(few, dialect), as_sent(many, dialect)
        assert len(few) == len(many), f"{what[0]}:\n{few}\n{what[1]}:\n{many}"
        assert len(many) <= most, f"\n{many}"

    return check


def _quote(shop, shopper, count_statements, lines):
    shop.fill(shopper, lines)
    body = shop.body()
    with count_statements() as seen:
        quote = shopper.quote(body).json
    assert quote["errors"] == [] and len(quote["items"]) == lines
    assert {t["source"] for t in quote["tenders"]} == {"giftcards", "loyalty"}
    assert quote["discounts"][0]["code"] == "SAVE10" and quote["shipping"] == "4.90"
    return seen


def test_a_quote_costs_the_same_for_1_or_10_lines(shop, shopper, make_buyer,
                                                  count_statements, same):
    few = _quote(shop, shopper, count_statements, 1)
    other = make_buyer()
    shop.give_points(other.user, 100_000)
    many = _quote(shop, other, count_statements, 10)
    same(few, many, 10, ("1 line", "10 lines"))


def _place(shop, shopper, count_statements, lines):
    shop.fill(shopper, lines)
    body, key = shop.body(), new_key()
    with count_statements() as seen:
        order = shopper.place(body, key=key).json
    assert len(order["items"]) == lines and order["payment"]["provider"] == "manual"
    assert {t["source"] for t in order["tenders"]} == {"giftcards", "loyalty"}
    assert order["loyalty"]["points_redeemed"] == 100
    return order, seen


def test_placing_an_order_costs_the_same_for_1_or_10_lines(shop, shopper, count_statements,
                                                           same):
    _, few = _place(shop, shopper, count_statements, 1)
    _, many = _place(shop, shopper, count_statements, 10)
    # the last 4 send the order's e-mail, as a worker does after the commit
    same(few, many, 34, ("1 line", "10 lines"))


def test_an_order_costs_the_same_for_1_or_10_lines(shop, shopper, desk, count_statements,
                                                   same):
    small, _ = _place(shop, shopper, count_statements, 1)
    large, _ = _place(shop, shopper, count_statements, 10)
    for order in (small, large):  # paid and shipped: every plugin has something to show
        desk.act(order["number"], "mark-paid")
        desk.act(order["number"], "ship", {"carrier": "DHL", "tracking_number": "1"})
    with count_statements() as few:
        assert len(shopper.order(small["number"]).json["items"]) == 1
    with count_statements() as many:
        order = shopper.order(large["number"]).json
    assert len(order["items"]) == 10 and order["fulfillment"]["status"] == "shipped"
    assert order["loyalty"]["points_earned"] > 0
    same(few, many, 14, ("1 line", "10 lines"))
    with count_statements() as few:
        desk.get(small["number"])
    with count_statements() as many:
        desk.get(large["number"])
    same(few, many, 15, ("1 line", "10 lines"))


def test_the_order_lists_cost_the_same_for_5_or_50_orders(shop, shopper, desk,
                                                          count_statements, same):
    for number in range(50):
        shop.fill(shopper, 1 + number % 3)
        placed = shopper.place(shop.body()).json["number"]
        if number % 2:
            desk.act(placed, "mark-paid")
        if number % 4 == 1:
            desk.act(placed, "ship", {"carrier": "DHL", "tracking_number": str(number)})
    for listing, most in ((desk.list, 16), (shopper.orders, 15)):
        with count_statements() as few:
            assert len(listing(per_page=5).json["items"]) == 5
        with count_statements() as many:
            page = listing(per_page=50).json
        assert len(page["items"]) == 50
        assert {o["fulfillment"]["status"] for o in page["items"]} == {"unshipped", "shipped"}
        same(few, many, most, ("5 orders", "50 orders"))
