"""Staff issues cards: one or many, shown once, stored as a digest, e-mailed on request."""
import datetime as dt
import re

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.notifications import Notification
from plugins.giftcards import codes
from plugins.giftcards.models import GiftCard

from .conftest import API, assert_error

CODE = r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$"


def test_one_card_is_issued_with_its_code_shown_once(cards, testapp, staff, dbsession):
    response = cards.issue("25.00", note="for the raffle", count=1)
    assert response.headers["Cache-Control"] == "no-store"
    [item] = response.json["items"]
    code = item["code"]
    assert re.match(CODE, code)
    assert item["balance"] == item["initial_balance"] == "25.00"
    assert item["currency"] == "EUR" and item["status"] == "active"
    assert item["last4"] == code[-4:] and item["note"] == "for the raffle"
    # the default validity: the setting valid_days (3 years)
    expires = dt.datetime.fromisoformat(item["expires_at"])
    assert abs(expires - (utcnow() + dt.timedelta(days=3 * 365))) < dt.timedelta(minutes=1)
    assert item["valid_until"] == expires.date().isoformat()
    # afterwards the code is masked everywhere
    again = cards.staff_get(code).json
    assert again["code"] == f"****-****-****-{code[-4:]}"
    assert again["ledger"] == [{**again["ledger"][0], "kind": "issue", "amount": "25.00",
                                "balance_after": "25.00", "order_number": None,
                                "user_id": staff.id}]
    listed = testapp.get(f"{API}/admin/gift-cards", headers=staff.headers).json["items"]
    assert all("****" in card["code"] for card in listed)


def test_the_database_holds_no_spendable_code(cards, dbsession):
    code = cards.issue("25.00")
    normalized = codes.normalize(code)
    card = cards.card(code)
    row = dbsession.execute(sa.select(GiftCard.__table__).where(
        GiftCard.id == card.id)).one()._asdict()
    stored = " ".join(str(value) for value in row.values())
    assert normalized not in stored and code not in stored
    assert normalized[:12] not in stored  # only the last 4 characters are kept
    assert row["code_hash"] == codes.digest(normalized) and row["last4"] == code[-4:]


def test_many_cards_at_once_with_an_expiry_or_none(cards):
    later = (utcnow() + dt.timedelta(days=30)).replace(microsecond=0)
    items = cards.issue("10.00", count=25, expires_at=later.isoformat()).json["items"]
    assert len({item["code"] for item in items}) == 25
    assert {item["expires_at"] for item in items} == {later.isoformat()}
    items = cards.issue("10.00", count=2, expires_at=None).json["items"]
    assert [item["expires_at"] for item in items] == [None, None]
    assert items[0]["status"] == "active"


def test_the_codes_can_be_e_mailed(cards, dbsession, mail_dir):
    items = cards.issue("40.00", count=2, email="Winner@Example.com").json["items"]
    assert {item["recipient_email"] for item in items} == {"winner@example.com"}
    notification = dbsession.scalars(sa.select(Notification).where(
        Notification.template == "giftcards/gift_cards")).one()
    assert notification.recipient == "winner@example.com"
    assert notification.sensitive and notification.state == "sent"
    # a sensitive message's bodies are erased once sent: the outbox keeps no code
    assert items[0]["code"] not in (notification.body_text or "")
    [mail] = list(mail_dir.glob("*.eml"))
    text = mail.read_text()
    assert "2 gift cards" in text
    for item in items:
        assert item["code"] in text
    assert "40.00 EUR" in text


def test_the_code_length_is_a_setting(cards, testapp, staff):
    testapp.put_json(f"{API}/admin/plugins/giftcards/settings", {"code_length": 24},
                     headers=staff.headers)
    code = cards.issue("5.00")
    assert len(codes.normalize(code)) == 24 and code.count("-") == 5
    testapp.put_json(f"{API}/admin/plugins/giftcards/settings", {"code_length": 12},
                     headers=staff.headers, status=400)


@pytest.mark.parametrize("body, field", [
    ({"amount": 10.5}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": "-5.00"}, "amount"),
    ({"amount": "1.001"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"amount": "1e3"}, "amount"),
    ({"amount": "10000000000"}, "amount"),
    ({}, "amount"),
    ({"amount": "5.00", "count": 0}, "count"),
    ({"amount": "5.00", "count": 1001}, "count"),
    ({"amount": "5.00", "count": "3"}, "count"),
    ({"amount": "5.00", "expires_at": "2020-01-01T00:00:00+00:00"}, "expires_at"),
    ({"amount": "5.00", "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
    ({"amount": "5.00", "expires_at": "9999-12-31T23:59:59-01:00"}, "expires_at"),
    ({"amount": "5.00", "email": "nobody"}, "email"),
    ({"amount": "5.00", "note": "x" * 2001}, "note"),
    ({"amount": "5.00", "balance": "9.00"}, "balance"),
])
def test_bad_input_is_a_400_and_issues_nothing(testapp, staff, dbsession, body, field):
    before = dbsession.scalar(sa.select(sa.func.count()).select_from(GiftCard))
    response = testapp.post_json(f"{API}/admin/gift-cards", body, headers=staff.headers,
                                 status=400)
    assert field in response.json["error"]["fields"], response.json
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(GiftCard)) == before


def test_a_body_that_is_not_json_is_a_400(testapp, staff):
    response = testapp.post(f"{API}/admin/gift-cards", "{nope", headers=dict(
        staff.headers, **{"Content-Type": "application/json"}), status=400)
    assert_error(response, 400, "invalid_json")


def test_only_staff_issues_cards(testapp, customer):
    testapp.post_json(f"{API}/admin/gift-cards", {"amount": "5.00"}, status=401)
    testapp.post_json(f"{API}/admin/gift-cards", {"amount": "5.00"},
                      headers=customer.headers, status=403)
    testapp.get(f"{API}/admin/gift-cards", headers=customer.headers, status=403)
    testapp.get(f"{API}/admin/gift-cards/products", headers=customer.headers, status=403)


def test_every_route_answers_404_while_the_plugin_is_disabled(cards, testapp, staff,
                                                             plugin_lifecycle):
    code = cards.issue("5.00")
    plugin_lifecycle("disable", "giftcards")
    testapp.get(f"{API}/gift-cards/{code}", status=404)
    testapp.post_json(f"{API}/admin/gift-cards", {"amount": "5.00"}, headers=staff.headers,
                      status=404)
    testapp.get("/admin/giftcards", status=404)


def test_the_openapi_document_describes_the_gift_card_routes(testapp):
    paths = testapp.get(f"{API}/openapi.json").json["paths"]
    assert set(paths[f"{API}/gift-cards/{{code}}"]) == {"get"}
    assert set(paths[f"{API}/gift-cards/lookup"]) == {"post"}
    assert set(paths[f"{API}/admin/gift-cards"]) == {"get", "post"}
    assert set(paths[f"{API}/admin/gift-cards/{{id}}"]) == {"get", "patch"}
    assert set(paths[f"{API}/admin/gift-cards/products/{{product_id}}"]) == {"put", "delete"}
    issue = paths[f"{API}/admin/gift-cards"]["post"]
    assert "201" in issue["responses"] and issue["summary"]
    assert "security" not in paths[f"{API}/gift-cards/{{code}}"]["get"]
