"""Whatever a client sends, the orders API answers 2xx or a 4xx JSON error, never a 500,
and a refused request changes nothing."""
import pytest
import sqlalchemy as sa

from plugins.orders.models import Order, StatusChange

from .conftest import ADDRESS, API, new_key

BODIES = [
    b"", b"{", b"[]", b"null", b'"x"', b"12", b'{"shipping_address": null}',
    b'{"shipping_address": {}}', b'{"address_id": 99999999999}', b'{"address_id": "1"}',
    b'{"address_id": true}', b'{"coupon_codes": [null]}', b'{"coupon_codes": [["x"]]}',
    b'{"gift_card_codes": {"a": 1}}', b'{"loyalty_points": 1e400}',
    b'{"loyalty_points": 99999999999999999999999}', b'{"shipping_method": ""}',
    b'{"shipping_method": "\\u0000"}', b'{"payment_method": "\\ud800"}',
    b'{"note": 5}', b'{"amount": "NaN"}', b'{"amount": "1e3"}', b'{"amount": "Infinity"}',
    b'{"lines": [{"id": -1, "quantity": 0}]}', b'{"lines": "all"}', b'{"restock": "maybe"}',
    b'{"carrier": "' + b"x" * 500 + b'"}', b'{"note": "' + b"x" * 3000 + b'"}',
    '{"shipping_address": {"name": "\u00c5", "line1": "\u2603", "city": "x", "country": "de"}}'
    .encode(),
]
NUMBERS = ["EM-0000-0000", "x", "%FF", "..", "EM-" + "A" * 60, "0"]


@pytest.fixture
def order_number(buyer, red, desk):
    buyer.add(red, 1)
    return buyer.place({"shipping_address": ADDRESS}).json["number"]


def check(response):
    assert response.status_int < 500, response.text
    if response.status_int >= 400:
        assert response.content_type == "application/json"
        assert set(response.json["error"]) >= {"code", "message", "fields"}


def test_no_body_breaks_an_endpoint(testapp, buyer, staff, order_number, dbsession):
    before = dbsession.scalar(sa.select(sa.func.count()).select_from(StatusChange))
    customer, staff_headers = buyer.headers, staff.headers
    posts = [("/checkout/quote", {}), ("/checkout/quote", customer), ("/orders", customer),
             (f"/orders/{order_number}/cancel", {})]
    for action in ("mark-paid", "ship", "deliver", "cancel", "return", "refund", "notes"):
        posts.append((f"/admin/orders/{order_number}/{action}", staff_headers))
        posts.append((f"/admin/orders/{order_number}/{action}", customer))
    for path, headers in posts:
        for body in BODIES:
            if path.endswith(("/cancel", "/mark-paid", "/deliver", "/ship", "/return",
                              "/refund")) and body in (b"", b"{}"):
                continue  # an empty body is a valid request to move the order on
            response = testapp.post(f"{API}{path}", body, headers=dict(
                headers, **{"Content-Type": "application/json", "Idempotency-Key": new_key()}),
                expect_errors=True)
            check(response)
    dbsession.expire_all()
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(StatusChange)) == before
    assert dbsession.scalar(sa.select(Order.status)) == "payment_pending"


def test_no_path_or_query_breaks_an_endpoint(testapp, buyer, staff):
    for number in NUMBERS:
        for path, headers in ((f"/orders/{number}", buyer.headers),
                              (f"/admin/orders/{number}", staff.headers)):
            check(testapp.get(f"{API}{path}", headers=headers, expect_errors=True))
        check(testapp.post(f"{API}/orders/{number}/cancel", headers=buyer.headers,
                           expect_errors=True))
    for query in ("page=0", "per_page=1000", "page=x", "status=lost", "user_id=-4",
                  "user_id=x", "placed_from=2020-01-01", "number=" + "x" * 100, "email=%00",
                  "surprise=1"):
        check(testapp.get(f"{API}/admin/orders?{query}", headers=staff.headers,
                          expect_errors=True))
        check(testapp.get(f"{API}/orders?{query}", headers=buyer.headers, expect_errors=True))
    check(testapp.get(f"{API}/orders", headers={"Authorization": "Bearer nonsense"},
                      expect_errors=True))


def test_the_endpoints_are_in_the_openapi_document(testapp):
    paths = testapp.get(f"{API}/openapi.json").json["paths"]
    for path in ("/api/v1/checkout/quote", "/api/v1/orders", "/api/v1/orders/{number}",
                 "/api/v1/orders/{number}/cancel", "/api/v1/admin/orders",
                 "/api/v1/admin/orders/{number}/refund", "/api/v1/checkout/payment-methods"):
        assert path in paths, sorted(paths)


def test_disabled_orders_answer_404(testapp, buyer, plugin_lifecycle):
    plugin_lifecycle("disable", "orders")
    response = testapp.post_json(f"{API}/checkout/quote", {}, headers=buyer.headers,
                                 status=404)
    assert response.json["error"]["code"] == "not_found"


def test_staff_date_filters_out_of_utc_range_are_400(desk):
    for value in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"):
        response = desk.testapp.get("/api/v1/admin/orders", {"placed_from": value},
                                headers=desk.headers, status=400)
        assert response.json["error"]["fields"] == {"placed_from": ["The time is out of range."]}
