"""The order desk in the merchant admin: list, filters, an order, and every move."""
import pytest

from tests.core.admin.conftest import Admin, text_of


@pytest.fixture
def admin(testapp, staff):
    client = Admin(testapp)
    client.login(staff)
    return client


@pytest.fixture
def placed(buyer, red):
    """An order of 2 red mugs, waiting for its manual payment."""
    buyer.add(red, 2)
    return buyer.place().json["number"]


def act(admin, number, action, status=303, **data):
    return admin.post(f"/admin/orders/{number}/{action}", data, status=status).follow()


def badge(page):
    return page.html.select_one("h1 .badge").get_text()


def buttons(page):
    return sorted(b.get_text() for b in page.html.select("main form button"))


def test_the_list_filters_by_status_number_email_and_dates(admin, buyer, red, placed):
    page = admin.get("/admin/orders")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in page.html.select("tbody tr")]
    mine = next(row for row in rows if row[0] == placed)
    assert mine[2] == buyer.user.email and mine[3] == "payment pending"
    assert mine[4] == "2" and mine[5] == "25.00 EUR"

    def numbers(**params):
        page = admin.testapp.get("/admin/orders", params=params)
        return [a.get_text() for a in page.html.select("tbody td:first-child a")]

    assert placed in numbers(status="payment_pending")
    assert placed not in numbers(status="shipped")
    assert numbers(number=placed[:6].lower()) and placed in numbers(number=placed.lower())
    assert placed in numbers(email=buyer.user.email[:10].upper())
    assert placed in numbers(placed_from="2000-01-01", placed_to="2999-12-31")
    assert placed not in numbers(placed_to="2000-01-01")
    page = admin.get("/admin/orders", status=400, placed_from="yesterday")
    assert "placed from: Enter a date as YYYY-MM-DD." in text_of(page)
    page = admin.get("/admin/orders?status=lost", status=400)
    assert page.html.select_one(".flash.error").get_text().startswith("status")


def test_an_order_goes_from_paid_to_shipped_delivered_returned_refunded(admin, placed, red,
                                                                       stock):
    url = f"/admin/orders/{placed}"
    page = admin.get(url)
    assert badge(page) == "payment pending"
    assert buttons(page) == ["Add the note", "Cancel the order", "Mark paid"]
    assert "Ada Lovelace" in page.html.select_one("address").get_text()
    page = act(admin, placed, "mark-paid", note="bank transfer arrived")
    assert admin.flashes(page) == [f"Order {placed} is marked paid."]
    assert badge(page) == "processing"
    assert stock(red).on_hand == 8 and stock(red).reserved == 0  # committed: sold
    page = act(admin, placed, "ship", carrier="DHL", tracking_number="JD0001",
               tracking_url="javascript:alert(1)")
    assert admin.flashes(page) and f"Order {placed}" not in admin.flashes(page)[0]
    assert badge(page) == "processing"  # a bad link ships nothing
    page = act(admin, placed, "ship", carrier="DHL", tracking_number="JD0001",
               tracking_url="https://track.example.com/JD0001")
    assert admin.flashes(page) == [f"Order {placed} is shipped."]
    assert "with DHL, tracking JD0001" in text_of(page)
    link = page.html.find("a", string="JD0001")
    assert link is not None and link["href"] == "https://track.example.com/JD0001"
    # a move that is no longer allowed is refused in the lifecycle's words
    page = act(admin, placed, "ship")
    assert admin.flashes(page) == [f"Order {placed} is shipped; it cannot become shipped."]
    page = act(admin, placed, "deliver")
    assert badge(page) == "delivered"
    page = act(admin, placed, "return", restock="1", note="wrong size")
    assert badge(page) == "returned" and stock(red).on_hand == 10
    page = act(admin, placed, "refund", amount="5.00")
    assert admin.flashes(page) == [f"Order {placed}: 5.00 EUR refunded."]
    assert badge(page) == "returned"
    page = act(admin, placed, "refund", amount="abc")
    assert admin.flashes(page) == ['Enter the amount as a decimal string, such as "19.99".']
    page = act(admin, placed, "refund", amount="999")
    assert admin.flashes(page)[0].startswith("At most 20.00 EUR can still be refunded")
    page = act(admin, placed, "refund")  # empty: the rest
    assert admin.flashes(page) == [f"Order {placed}: 20.00 EUR refunded."]
    assert badge(page) == "refunded"
    history = [li.get_text(" ", strip=True) for li in page.html.select("section ol li")]
    assert any("payment pending → processing (staff): bank transfer arrived" in h
               for h in history)
    assert buttons(page) == ["Add the note"]


def test_cancel_releases_the_stock_and_notes_stay_staff_only(admin, placed, red, stock,
                                                             buyer):
    page = act(admin, placed, "note", note="called the customer")
    assert admin.flashes(page) == [f"Order {placed} has a new note."]
    assert "called the customer" in text_of(page)
    assert "called the customer" not in buyer.order(placed).text
    empty = act(admin, placed, "note", note="")
    assert admin.flashes(empty) and "Order" not in admin.flashes(empty)[0]
    page = act(admin, placed, "cancel", note="out of business")
    assert badge(page) == "cancelled"
    assert stock(red).reserved == 0 and stock(red).on_hand == 10


def test_unknown_orders_and_actions_are_404(admin):
    admin.get("/admin/orders/EM-NOPE-NOPE", status=404)
    admin.get("/admin/orders/%00%01", status=404)
    admin.post("/admin/orders/EM-NOPE-NOPE/ship", status=404)
    admin.post("/admin/orders/EM-NOPE-NOPE/explode", status=404)


def test_dashboard_and_menu(admin, placed):
    assert "Orders" in admin.menu()
    page = admin.get("/admin")
    widget = next(w for w in page.html.select(".widget")
                  if w.find("h2").get_text() == "Orders (UTC)")
    figures = {dt.get_text(): dt.find_next("dd").get_text(strip=True)
               for dt in widget.select("dt")}
    assert int(figures["Orders today"]) >= 1 and int(figures["Waiting for payment"]) >= 1
    assert figures["Revenue today"] == "0.00 EUR"  # nothing paid yet
    act(admin, placed, "mark-paid")
    page = admin.get("/admin")
    assert "25.00 EUR" in page.html.select(".widget")[0].get_text()
    to_ship = next(w for w in page.html.select(".widget")
                   if w.find("h2").get_text() == "Oldest orders to ship")
    assert placed in to_ship.get_text()


def test_a_disabled_orders_plugin_takes_its_pages_with_it(admin, testapp, staff, placed):
    testapp.post_json("/api/v1/admin/plugins/orders/disable", {}, headers=staff.headers)
    assert "Orders" not in admin.menu()
    admin.get("/admin/orders", status=404)
    admin.post(f"/admin/orders/{placed}/ship", status=404)


@pytest.mark.parametrize("action", ["mark-paid", "ship", "cancel", "refund", "note"])
def test_guests_customers_and_forged_posts_cannot_move_orders(testapp, admin, customer,
                                                              placed, action):
    guest = Admin(testapp.__class__(testapp.app, extra_environ=testapp.extra_environ))
    guest.post(f"/admin/orders/{placed}/{action}", {"note": "x"}, token=None, status=403)
    # with the token of its session, a guest is sent to sign in
    assert guest.post(f"/admin/orders/{placed}/{action}", {"note": "x"}).location.startswith(
        "http://shop.test/admin/login")
    guest.get(f"/admin/orders/{placed}", status=303)
    guest.login(customer, status=403)
    guest.get("/admin/orders", status=303)
    for token in (None, "forged"):
        page = admin.post(f"/admin/orders/{placed}/{action}", {"note": "x"}, token=token,
                          status=403)
        assert "The form has expired" in text_of(page)
    assert badge(admin.get(f"/admin/orders/{placed}")) == "payment pending"


def section(page, title):
    return next((w for w in page.html.select(".widget") if w.find("h2").get_text() == title),
                None)


def test_a_customers_page_shows_their_latest_orders_while_orders_is_enabled(
        admin, testapp, staff, buyer, make_buyer, red, placed):
    others = make_buyer()
    others.add(red, 1)
    theirs = others.place().json["number"]
    act(admin, placed, "mark-paid")
    url = f"/admin/customers/{buyer.user.id}"
    orders = section(admin.get(url), "Orders")
    figures = {dt.get_text(): dt.find_next("dd") for dt in orders.select("dt")}
    assert figures["Orders placed"].get_text(strip=True) == "1"
    assert figures["Paid, less refunds"].get_text(strip=True) == "25.00 EUR"
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in orders.select("tbody tr")]
    assert rows == [[placed, rows[0][1], "processing", "25.00 EUR"]]
    assert orders.find("a", string=placed)["href"] == f"/admin/orders/{placed}"
    # the count leads to the order list of this customer only
    listed = admin.testapp.get(figures["Orders placed"].find("a")["href"])
    numbers = [a.get_text() for a in listed.html.select("tbody td:first-child a")]
    assert numbers == [placed] and theirs not in numbers
    assert f"The orders of {buyer.user.email}" in text_of(listed)
    assert listed.html.find("input", {"name": "user_id"})["value"] == str(buyer.user.id)
    # and an order's page leads back to its customer
    order = admin.get(f"/admin/orders/{placed}")
    assert order.html.find("a", string=buyer.user.email)["href"] == url

    assert "No orders yet." in section(admin.get(f"/admin/customers/{staff.id}"),
                                       "Orders").get_text()
    testapp.post_json("/api/v1/admin/plugins/orders/disable", {"cascade": True},
                      headers=staff.headers)
    page = admin.get(url)
    assert section(page, "Orders") is None and buyer.user.email in text_of(page)


def test_many_orders_link_to_the_whole_list(admin, buyer, red):
    for _ in range(6):
        buyer.add(red, 1)
        buyer.place()
    orders = section(admin.get(f"/admin/customers/{buyer.user.id}"), "Orders")
    assert len(orders.select("tbody tr")) == 5
    assert orders.find("a", string="All 6 orders")["href"] == \
        f"/admin/orders?user_id={buyer.user.id}"
    page = admin.get("/admin/orders", status=400, user_id="me")
    assert "user id: Not a valid integer." in text_of(page)
