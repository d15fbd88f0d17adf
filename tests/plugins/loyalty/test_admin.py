"""The loyalty pages of the merchant admin: the list, a customer's ledger, adjusting it."""
import pytest

from tests.core.admin.conftest import Admin, text_of


@pytest.fixture
def admin(testapp, staff, loyalty):
    client = Admin(testapp)
    client.login(staff)
    return client


def test_menu_and_dashboard(admin, loyalty, buyer):
    loyalty.adjust(buyer.user, 250)
    assert "Loyalty" in admin.menu()
    page = text_of(admin.get("/admin"))
    assert "Loyalty points" in page and "What they would pay 2.50 EUR" in page


def test_the_list_and_a_ledger(admin, loyalty, buyer, make_buyer):
    other = make_buyer()
    loyalty.adjust(buyer.user, 300, reason="welcome")
    loyalty.adjust(other.user, 10)
    page = admin.get("/admin/loyalty")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in page.html.select("tbody tr")]
    mine = next(row for row in rows if row[0] == buyer.user.email)
    assert mine[2:4] == ["300", "3.00"]
    found = admin.get("/admin/loyalty", email=other.user.email[:12])
    assert [a.get_text() for a in found.html.select("tbody td:first-child a")] == [
        other.user.email]
    page = admin.get("/admin/loyalty", status=400, per_page="x")
    assert "per page: Not a valid integer." in text_of(page)

    ledger = text_of(admin.get(f"/admin/loyalty/{buyer.user.id}"))
    assert "adjusted +300 300" in ledger and "welcome" in ledger
    admin.get("/admin/loyalty/999999999", status=404)


def test_adjusting_from_the_admin(admin, loyalty, buyer):
    url = f"/admin/loyalty/{buyer.user.id}/adjust"
    page = admin.post(url, {"points": "40", "reason": "late delivery"}).follow()
    assert "40 points added to" in " ".join(admin.flashes(page))
    page = admin.post(url, {"points": "-50", "reason": "oops"}, status=422)
    assert "The balance is 40 points." in text_of(page)
    page = admin.post(url, {"points": "ten", "reason": ""}, status=400)
    assert "Not a valid integer." in text_of(page)
    assert loyalty.ledger(buyer.user) == [("adjusted", 40)]
    admin.post(url, {"points": "5", "reason": "x"}, token="forged", status=403)
    assert loyalty.balance(buyer.user) == 40


def test_a_customers_page_shows_their_points(admin, loyalty, buyer, testapp, staff):
    loyalty.adjust(buyer.user, 120)
    url = f"/admin/customers/{buyer.user.id}"
    page = admin.get(url)
    points = next(w for w in page.html.select(".widget")
                  if w.find("h2").get_text() == "Loyalty points")
    figures = {dt.get_text(): dt.find_next("dd").get_text(strip=True)
               for dt in points.select("dt")}
    assert figures["Points"] == "120" and figures["Worth at checkout"] == "1.20 EUR"
    assert figures["Next to expire"].startswith("120 on ")
    ledger = points.find("a", string="Ledger and adjustments")["href"]
    assert ledger == f"/admin/loyalty/{buyer.user.id}"
    assert admin.get(ledger).html.select_one("h1 a")["href"] == url
    testapp.post_json("/api/v1/admin/plugins/loyalty/disable", {}, headers=staff.headers)
    assert "Loyalty points" not in text_of(admin.get(url))
