"""Gift cards in the merchant admin: the menu and dashboard, issuing with the codes shown
once, a card's page and its changes, and the products sold as gift cards."""
import re

import pytest

from tests.core.admin.conftest import Admin, text_of

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


@pytest.fixture
def admin(testapp, staff):
    client = Admin(testapp)
    client.login(staff)
    return client


def test_the_menu_and_the_dashboard(admin, cards):
    assert "Gift cards" in admin.menu()
    cards.issue("12.50")
    cards.issue("7.50")
    page = admin.get("/admin")
    widget = next(section for section in page.html.select("section")
                  if "Gift cards" in section.get_text())
    assert "20.00 EUR" in widget.get_text() and "Active cards" in widget.get_text()


def test_issuing_shows_the_codes_once(admin, cards):
    page = admin.get("/admin/giftcards")
    form = admin.form(page, "/admin/giftcards/issue")
    form["amount"] = "15.00"
    form["count"] = "2"
    form["expires_on"] = "2999-06-30"
    form["note"] = "prize"
    page = form.submit()
    assert page.status_int == 200 and page.headers["Cache-Control"] == "no-store"
    shown = [code.get_text() for code in page.html.select("code.giftcard-code")]
    assert len(shown) == 2 and all(CODE.match(code) for code in shown)
    assert "2999-06-30" in text_of(page)
    assert cards.balance(shown[0]) == 1500
    # the list shows them masked
    page = admin.get("/admin/giftcards")
    assert shown[0] not in page.text and f"****-****-****-{shown[0][-4:]}" in page.text


def test_a_refused_issue_shows_the_form_again(admin):
    for values, field in (({"amount": "abc"}, "amount"), ({"amount": "5", "count": "0"},
                                                          "count"),
                          ({"amount": "5", "expires_on": "2000-01-01"}, "expires_on"),
                          ({"amount": "5", "expires_on": "soon"}, "expires_on"),
                          ({"amount": "5", "expires_on": "9999-12-31"}, "expires_on")):
        page = admin.post("/admin/giftcards/issue", {"count": "1", **values}, status=400)
        assert page.html.select_one(f".has-error #f-{field}") is not None, (values, page.text)
        assert not page.html.select("code.giftcard-code")
    admin.post("/admin/giftcards/issue", {"amount": "5"}, token="forged", status=403)


def test_a_card_page_deactivates_changes_expiry_and_adjusts(admin, cards):
    code = cards.issue("10.00")
    card_id = cards.card(code).id
    url = f"/admin/giftcards/{card_id}"
    page = admin.get(url)
    assert "10.00 EUR" in text_of(page) and "issue" in text_of(page)
    page = admin.post(f"{url}/update", {"note": "lost", "never_expires": "1"}).follow()
    assert admin.flashes(page) == [f"Gift card ****-****-****-{code[-4:]} is saved."]
    card = cards.card(code)
    assert not card.is_active and card.expires_at is None and card.note == "lost"
    admin.post(f"{url}/update", {"is_active": "1", "expires_on": "2999-01-31"})
    card = cards.card(code)
    assert card.is_active and card.expires_at.isoformat().startswith("2999-02-01T00:00")
    assert 'value="2999-01-31"' in admin.get(url).text
    page = admin.post(f"{url}/adjust", {"amount": "-2.50", "note": "damaged"}).follow()
    assert admin.flashes(page)[0].endswith("has a new balance.")
    assert cards.balance(code) == 750 and "damaged" in text_of(page)
    page = admin.post(f"{url}/adjust", {"amount": "-20", "note": "x"}).follow()
    assert "cannot lose more" in admin.flashes(page)[0]
    page = admin.post(f"{url}/update", {"is_active": "1", "expires_on": "9999-12-31"}).follow()
    assert "Enter a date as YYYY-MM-DD." in admin.flashes(page)[0]
    page = admin.post(f"{url}/adjust", {"amount": "", "note": ""}).follow()
    assert "error" in page.html.select_one(".flash")["class"]
    assert cards.balance(code) == 750
    admin.get("/admin/giftcards/99999", status=404)


def test_the_list_filters_and_refuses_bad_filters(admin, cards):
    code = cards.issue("10.00")
    page = admin.get("/admin/giftcards", last4=code[-4:])
    assert len(page.html.select("tbody tr")) == 1
    page = admin.get("/admin/giftcards", status=400, last4="toolong")
    assert "last4" in page.html.select_one(".flash.error").get_text()


def test_products_sold_as_gift_cards(admin, make_product):
    product = make_product("Shop voucher")
    page = admin.get("/admin/giftcards/products")
    assert "No product is sold as a gift card yet." in text_of(page)
    page = admin.post("/admin/giftcards/products", {"product": product.slug,
                                                    "valid_days": "365"}).follow()
    assert admin.flashes(page) == ["“Shop voucher” is sold as a gift card."]
    assert "365 days" in text_of(page)
    page = admin.post("/admin/giftcards/products", {"product": "no-such-thing"}, status=404)
    assert "There is no product with this id or slug." in text_of(page)
    page = admin.post("/admin/giftcards/products", {"product": str(product.id),
                                                    "valid_days": "-3"}, status=400)
    assert page.html.select_one(".has-error #f-valid_days") is not None
    page = admin.post(f"/admin/giftcards/products/{product.id}/remove").follow()
    assert "no longer sold as a gift card" in admin.flashes(page)[0]
    page = admin.post(f"/admin/giftcards/products/{product.id}/remove").follow()
    assert "not sold as a gift card" in admin.flashes(page)[0]
