"""The staff's cards: the list and its filters, one card with its ledger, deactivating,
expiry, adjusting the balance (never below zero), and the CLI."""
import json
import textwrap

import sqlalchemy as sa

from core.cli import main as emporium
from plugins.giftcards import codes
from plugins.giftcards.models import GiftCard

from .conftest import API, assert_error, checkout_body


def listed(testapp, staff, expect=200, **params):
    return testapp.get(f"{API}/admin/gift-cards", params=params, headers=staff.headers,
                       status=expect)


def test_the_list_filters_by_last4_status_order_and_recipient(cards, testapp, staff, buyer,
                                                              red):
    spent = cards.issue("10.00")
    kept = cards.issue("10.00", email="ann@example.com")
    off = cards.issue("10.00")
    cards.patch(off, is_active=False)
    buyer.add(red)
    number = buyer.place(checkout_body(spent)).json["number"]

    def ids(**params):
        return [c["id"] for c in listed(testapp, staff, **params).json["items"]]

    assert ids(last4=kept[-4:].lower()) == [cards.card(kept).id]
    assert ids(status="inactive") == [cards.card(off).id]
    assert ids(status="active") == [cards.card(kept).id]
    assert ids(status="empty") == [cards.card(spent).id]  # 12.50 took its 10.00
    assert ids(status="expired") == []
    assert ids(email="ANN@") == [cards.card(kept).id]
    page = listed(testapp, staff, per_page=1).json
    assert page["per_page"] == 1 and page["total"] >= 3 and page["next"]
    # the order filter finds the cards an order bought (test_sales), not those it spent
    assert ids(order=number) == []
    assert ids(order="NO-SUCH") == []
    for bad in ({"last4": "ABCDE"}, {"last4": "AB"}, {"status": "lost"}, {"per_page": 0},
                {"page": "x"}, {"order": "x" * 40}, {"colour": "red"}):
        listed(testapp, staff, expect=400, **bad)


def test_one_card_with_its_ledger(cards, testapp, staff):
    code = cards.issue("10.00")
    card = cards.staff_get(code).json
    assert card["balance"] == "10.00" and len(card["ledger"]) == 1
    for bad in ("0", "999999", "abc", "99999999999999", "-1"):
        assert_error(testapp.get(f"{API}/admin/gift-cards/{bad}", headers=staff.headers,
                                 status=404), 404, "gift_card_not_found")


def test_deactivating_and_expiry(cards, testapp, buyer, red):
    code = cards.issue("10.00")
    card = cards.patch(code, is_active=False, note="reported stolen").json
    assert card["status"] == "inactive" and card["note"] == "reported stolen"
    buyer.add(red)
    assert buyer.quote(checkout_body(code)).json["errors"][0]["code"] == "gift_card_inactive"
    card = cards.patch(code, is_active=True, expires_at=None).json
    assert card["status"] == "active" and card["expires_at"] is None
    card = cards.patch(code, expires_at="2000-01-01T00:00:00+00:00").json
    assert card["status"] == "expired"
    for bad in ({}, {"is_active": "maybe"}, {"expires_at": "tomorrow"},
                {"expires_at": "0001-01-01T00:00:00+01:00"},
                {"expires_at": "9999-12-31T23:59:59-01:00"},
                {"expires_at": "2030-01-01T00:00:00"}, {"balance": "100.00"},
                {"note": "x" * 2001}):
        cards.patch(code, status=400, **bad)


def test_adjusting_the_balance_with_a_reason(cards, staff):
    code = cards.issue("10.00")
    card = cards.adjust(code, "5.50", note="goodwill").json
    assert card["balance"] == "15.50"
    assert card["ledger"][-1] == {**card["ledger"][-1], "kind": "adjust", "amount": "5.50",
                                  "balance_after": "15.50", "note": "goodwill",
                                  "user_id": staff.id}
    assert cards.adjust(code, "-15.50").json["balance"] == "0.00"
    response = cards.adjust(code, "-0.01", status=422)
    assert_error(response, 422, "adjustment_too_large")
    assert cards.balance(code) == 0
    for amount, note in (("0", "x"), ("0.00", "x"), ("1.001", "x"), (1.5, "x"), ("1", ""),
                         ("abc", "x")):
        cards.adjust(code, amount, note=note, status=400)
    assert len(cards.ledger(code)) == 3


def test_the_cli_issues_cards(make_database, tmp_path, capsys):
    ini = tmp_path / "shop.ini"
    url = make_database()
    ini.write_text(textwrap.dedent(f"""\
        [app:main]
        use = egg:emporium
        sqlalchemy.url = {url}
        emporium.jwt_secret = {"k" * 40}
        emporium.plugins.refresh_interval = 0
        emporium.mail_dir = {tmp_path / "mail"}
        celery.task_always_eager = true
    """))
    assert emporium(["-c", str(ini), "init"]) == 0
    capsys.readouterr()
    assert emporium(["-c", str(ini), "giftcards", "issue", "25.00"]) == 1
    assert "not enabled" in capsys.readouterr().err
    assert emporium(["-c", str(ini), "plugins", "install", "giftcards"]) == 0
    capsys.readouterr()
    assert emporium(["-c", str(ini), "giftcards", "issue", "25.00", "--count", "3",
                     "--expires", "2999-01-31"]) == 0
    out = capsys.readouterr().out
    assert "Issued 3 gift card(s) of 25.00 EUR, valid until 2999-01-31:" in out
    printed = [line.strip() for line in out.splitlines()[1:]]
    assert len(printed) == 3 and all(codes.normalize(c) for c in printed)
    assert emporium(["-c", str(ini), "--json", "giftcards", "issue", "5", "--never-expires",
                     "--email", "gift@example.com", "--note", "raffle"]) == 0
    [card] = json.loads(capsys.readouterr().out)
    assert card["expires_at"] is None and card["note"] == "raffle"
    assert card["recipient_email"] == "gift@example.com" and codes.normalize(card["code"])
    assert card["code"] in "".join(p.read_text() for p in (tmp_path / "mail").glob("*.eml"))
    for bad in (["abc"], ["-5"], ["5", "--count", "0"], ["5", "--expires", "31/01/2999"],
                ["5", "--expires", "2000-01-01"], ["5", "--expires", "9999-12-31"],
                ["1.001"]):
        assert emporium(["-c", str(ini), "giftcards", "issue", *bad]) == 1, bad
        assert capsys.readouterr().err.startswith("emporium: error:")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(sa.select(GiftCard.code_hash, GiftCard.last4)).all()
    finally:
        engine.dispose()
    assert len(stored) == 4
    assert {codes.digest(codes.normalize(c)) for c in printed} < {h for h, _ in stored}
