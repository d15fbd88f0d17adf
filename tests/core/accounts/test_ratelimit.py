"""Login protection: failures per account and per client address slow down, then refuse."""
import datetime as dt

import pytest
import sqlalchemy as sa

from core.accounts import ratelimit, services
from core.accounts.models import LoginAttempt
from core.db import utcnow

from .conftest import PASSWORD, assert_error


@pytest.fixture
def clock(monkeypatch):
    """The time the account services see; ``clock.advance(seconds)`` moves it on."""

    class Clock:
        now = utcnow()

        def advance(self, seconds):
            self.now += dt.timedelta(seconds=seconds)

    clock = Clock()
    monkeypatch.setattr(services, "utcnow", lambda: clock.now)
    return clock


def fail(accounts, email, times, **kwargs):
    for _ in range(times):
        assert_error(accounts.login(email, "wrong password", status=401, **kwargs), 401,
                     "invalid_credentials")


def test_delays_double_after_the_free_failures_up_to_a_cap():
    policy = ratelimit.ACCOUNT
    delays = [ratelimit.delay_after(policy, n) for n in range(1, 20)]
    assert delays[:policy.free] == [0] * policy.free
    assert delays[policy.free:policy.free + 4] == [2, 4, 8, 16]
    assert max(delays) == delays[-1] == 900


def test_an_account_is_slowed_then_refused_with_retry_after(accounts, customer, clock):
    fail(accounts, customer.email, ratelimit.ACCOUNT.free)
    # the sixth failure still gets its answer, and blocks the account for 2 seconds
    fail(accounts, customer.email, 1)
    response = accounts.login(customer.email, status=429)
    error = assert_error(response, 429, "too_many_requests")
    assert response.headers["Retry-After"] == "2"
    assert error["retry_after"] == 2
    # refused whatever the password, so that a guess during the block tells nothing
    assert_error(accounts.login(customer.email, "wrong password", status=429), 429)
    clock.advance(2)
    fail(accounts, customer.email, 1)
    assert accounts.login(customer.email, status=429).headers["Retry-After"] == "4"
    clock.advance(4)
    accounts.login(customer.email)  # the right password, once the block is over


def test_a_success_clears_the_account_count(accounts, customer, clock):
    fail(accounts, customer.email, ratelimit.ACCOUNT.free)
    accounts.login(customer.email)
    fail(accounts, customer.email, ratelimit.ACCOUNT.free)
    accounts.login(customer.email)


def test_the_account_is_blocked_from_every_address(accounts, customer, clock):
    for n in range(ratelimit.ACCOUNT.free + 1):
        fail(accounts, customer.email, 1, client_addr=f"203.0.113.{n + 1}")
    assert_error(accounts.login(customer.email, status=429, client_addr="203.0.113.99"), 429)


def test_an_address_is_blocked_across_accounts(accounts, customer, clock):
    for n in range(ratelimit.ADDRESS.free):
        fail(accounts, f"guess-{n}@example.com", 1)
    fail(accounts, "one-more@example.com", 1)
    response = accounts.login(customer.email, status=429)
    assert int(response.headers["Retry-After"]) >= 1
    # another address is not affected, and a success does not clear the address count
    accounts.login(customer.email, client_addr="192.0.2.200")
    assert_error(accounts.login(customer.email, status=429), 429)


def test_counts_are_forgotten_after_an_hour_without_failures(accounts, customer, clock):
    fail(accounts, customer.email, ratelimit.ACCOUNT.free + 1)
    clock.advance(ratelimit.ACCOUNT.forget_after + 1)
    fail(accounts, customer.email, ratelimit.ACCOUNT.free)  # free again: no 429 in between
    accounts.login(customer.email)


def test_counts_are_stored_hashed(accounts, customer, dbsession):
    fail(accounts, customer.email, 2)
    rows = dbsession.execute(sa.select(LoginAttempt)).scalars().all()
    assert {row.key for row in rows} == {ratelimit.account_key(customer.email),
                                         ratelimit.keys_for("", accounts.client_addr)[1][1]}
    assert all(row.failures == 2 for row in rows)
    assert not any(customer.email in row.key or accounts.client_addr in row.key for row in rows)


def test_ipv6_addresses_count_by_their_64_network():
    assert ratelimit.client_network("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert (ratelimit.keys_for("a@example.com", "2001:db8:1:2::1")[1]
            == ratelimit.keys_for("a@example.com", "2001:db8:1:2:ffff::9")[1])
    assert ratelimit.client_network("::ffff:192.0.2.1") == "192.0.2.1"
    assert ratelimit.client_network(None) == "unknown"


def test_the_password_change_counts_against_the_same_limits(accounts, customer, clock):
    for _ in range(ratelimit.ACCOUNT.free + 1):
        response = accounts.post("/users/me/password", {"current_password": "wrong password",
                                                        "new_password": "a new long password"},
                                 headers=customer.headers, status=400)
        assert_error(response, 400, "invalid_credentials", fields=["current_password"])
    response = accounts.post("/users/me/password", {"current_password": PASSWORD,
                                                    "new_password": "a new long password"},
                             headers=customer.headers, status=429)
    assert_error(response, 429, "too_many_requests")
    assert_error(accounts.login(customer.email, status=429), 429)


def test_processes_share_the_counts_through_the_database(committed_apps):
    first, second = committed_apps
    body = {"email": "shared@example.com", "password": "wrong password"}
    for _ in range(ratelimit.ACCOUNT.free + 1):
        first.post_json("/api/v1/auth/login", body, status=401)
    response = second.post_json("/api/v1/auth/login", {**body, "password": PASSWORD},
                                status=429)
    assert response.json["error"]["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) in (1, 2)
