"""The balance check, and the protection against enumerating codes: after repeated unknown
codes a client address gets 429 with Retry-After, for any code, on the check and at
checkout, with the counts shared through the database."""
import datetime as dt

import sqlalchemy as sa

from core.accounts.models import LoginAttempt
from core.db import utcnow
from plugins.giftcards import codes, ratelimit

from .conftest import API, assert_error, checkout_body

FREE = 10  # the setting lookup_free_misses


def client(testapp, address):
    """A client of the shop from ``address``."""
    testapp.extra_environ = dict(testapp.extra_environ, REMOTE_ADDR=address)
    return testapp


def unknown_code(n):
    return codes.display(f"{n:04d}" + "Z" * 12)


def check(testapp, code, status=200, address="203.0.113.7"):
    return client(testapp, address).get(f"{API}/gift-cards/{code}", status=status)


def test_the_balance_check_gives_balance_currency_expiry_and_status(cards, testapp):
    code = cards.issue("30.00", expires_at="2999-12-31T23:59:59+00:00")
    response = check(testapp, code)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {"code": f"****-****-****-{code[-4:]}", "balance": "30.00",
                             "currency": "EUR", "expires_at": "2999-12-31T23:59:59+00:00",
                             "valid_until": "2999-12-31", "status": "active"}
    # read as typed: lower case, no hyphens
    assert check(testapp, code.replace("-", "").lower()).json["balance"] == "30.00"
    # the code in the body keeps it out of URLs and server logs
    response = testapp.post_json(f"{API}/gift-cards/lookup", {"code": code})
    assert response.json["balance"] == "30.00"


def test_a_card_that_cannot_pay_says_why(cards, testapp):
    expired = cards.issue("5.00")
    cards.card(expired).expires_at = utcnow() - dt.timedelta(seconds=1)
    cards.dbsession.flush()
    assert check(testapp, expired).json["status"] == "expired"
    inactive = cards.issue("5.00")
    cards.patch(inactive, is_active=False)
    assert check(testapp, inactive).json["status"] == "inactive"
    empty = cards.issue("5.00")
    cards.adjust(empty, "-5.00")
    assert check(testapp, empty).json == {**check(testapp, empty).json, "balance": "0.00",
                                          "status": "empty"}


def test_an_unknown_code_is_a_404_whatever_it_looks_like(testapp):
    for code in (unknown_code(1), "not-a-code", "x" * 300, "%00", "%C3%84%C3%96"):
        assert_error(check(testapp, code, status=404), 404, "gift_card_not_found")
    assert_error(check(testapp, "%FF", status=400), 400, "invalid_url")
    response = testapp.post_json(f"{API}/gift-cards/lookup", {"code": ""}, status=400)
    assert "code" in response.json["error"]["fields"]
    testapp.post_json(f"{API}/gift-cards/lookup", {"code": 12}, status=400)
    testapp.post_json(f"{API}/gift-cards/lookup", {"code": "A", "x": 1}, status=400)


def test_repeated_misses_shut_the_address_out_even_for_real_codes(cards, testapp, dbsession):
    real = cards.issue("20.00")
    for n in range(FREE):
        check(testapp, unknown_code(n), status=404)
    assert check(testapp, real).json["balance"] == "20.00"  # the free misses cost nothing
    check(testapp, unknown_code(99), status=404)  # one past the free ones: blocked 2 s
    response = check(testapp, real, status=429)
    assert_error(response, 429, "too_many_attempts")
    assert 1 <= int(response.headers["Retry-After"]) <= 2
    assert response.json["error"]["retry_after"] == int(response.headers["Retry-After"])
    testapp.post_json(f"{API}/gift-cards/lookup", {"code": real}, status=429)
    # another address is not concerned
    assert check(testapp, real, address="198.51.100.1").json["balance"] == "20.00"
    # the count is in the database, shared by every process, under its own scope
    key = ratelimit.address_key("203.0.113.7")
    attempt = dbsession.get(LoginAttempt, key)
    assert key.startswith("giftcards:") and attempt.failures == FREE + 1
    assert attempt.blocked_until > utcnow()


def test_the_wait_doubles_with_each_miss_up_to_the_setting(cards, testapp, staff, dbsession):
    testapp.put_json(f"{API}/admin/plugins/giftcards/settings",
                     {"lookup_free_misses": 1, "lookup_max_block_seconds": 5},
                     headers=staff.headers)
    key = ratelimit.address_key("203.0.113.9")
    waits = []
    for n in range(5):
        dbsession.execute(sa.update(LoginAttempt).where(LoginAttempt.key == key)
                          .values(blocked_until=None))  # as if the wait were over
        check(testapp, unknown_code(n), status=404, address="203.0.113.9")
        dbsession.expire_all()
        attempt = dbsession.get(LoginAttempt, key)
        waits.append(round((attempt.blocked_until - attempt.last_failure_at).total_seconds())
                     if attempt.blocked_until else 0)
    assert waits == [0, 2, 4, 5, 5]


def test_an_ipv6_client_is_counted_by_its_64(testapp, staff):
    testapp.put_json(f"{API}/admin/plugins/giftcards/settings", {"lookup_free_misses": 1},
                     headers=staff.headers)
    check(testapp, unknown_code(1), status=404, address="2001:db8:1:2::1")
    check(testapp, unknown_code(2), status=404, address="2001:db8:1:2::ffff")
    check(testapp, unknown_code(3), status=429, address="2001:db8:1:2:abcd::9")
    check(testapp, unknown_code(4), status=404, address="2001:db8:1:3::1")


def test_unknown_codes_at_checkout_count_too_and_blocked_checkouts_get_429(
        cards, testapp, buyer, red, staff):
    testapp.put_json(f"{API}/admin/plugins/giftcards/settings", {"lookup_free_misses": 2},
                     headers=staff.headers)
    real = cards.issue("20.00")
    buyer.add(red)
    client(testapp, "192.0.2.44")
    quote = buyer.quote(checkout_body(unknown_code(1), unknown_code(2), real)).json
    assert [e["code"] for e in quote["errors"]] == ["gift_card_not_found"] * 2
    assert [e["gift_card"] for e in quote["errors"]] == [unknown_code(1), unknown_code(2)]
    # a refused order counts as well, although its transaction is rolled back: each of
    # its codes is a miss (the 5th blocks the address for 8 seconds)
    buyer.place(checkout_body(unknown_code(3), unknown_code(4), unknown_code(5)),
                status=422)
    response = buyer.quote(checkout_body(real), status=429)
    assert_error(response, 429, "too_many_attempts")
    buyer.place(checkout_body(real), status=429)
    # a checkout without codes goes on
    assert buyer.quote(checkout_body()).json["errors"] == []
    assert check(testapp, real, status=429, address="192.0.2.44")
