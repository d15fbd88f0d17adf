"""Racing requests on a committed database: one winner, no 500, exact counts."""
import concurrent.futures

import sqlalchemy as sa

from core.accounts import ratelimit
from core.accounts.models import LoginAttempt, RefreshToken

from .conftest import PASSWORD

RACERS = 6


def race(calls):
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_a_refresh_token_raced_by_many_requests_rotates_once(committed_apps):
    first, second = committed_apps
    tokens = first.post_json("/api/v1/auth/login",
                             {"email": "shared@example.com", "password": PASSWORD}).json
    body = {"refresh_token": tokens["refresh_token"]}
    responses = race([
        lambda app=app: app.post_json("/api/v1/auth/refresh", body, expect_errors=True)
        for app in [first, second] * (RACERS // 2)])
    statuses = sorted(response.status_int for response in responses)
    assert statuses == [200] + [401] * (RACERS - 1), [r.text for r in responses]
    assert {r.json["error"]["code"] for r in responses if r.status_int == 401} <= {
        "refresh_token_reused", "invalid_refresh_token"}
    # a raced token counts as reused: the pair the winner got is revoked as well
    winner = next(r.json for r in responses if r.status_int == 200)
    second.post_json("/api/v1/auth/refresh", {"refresh_token": winner["refresh_token"]},
                     status=401)
    engine = first.app.registry["db_engine"]
    with engine.connect() as connection:
        rows = connection.execute(sa.select(RefreshToken.rotated_at, RefreshToken.revoked_at)
                                  ).all()
    assert len(rows) == 2 and all(revoked is not None for _, revoked in rows)


def test_failures_raced_from_many_processes_are_all_counted(committed_apps):
    first, second = committed_apps
    body = {"email": "shared@example.com", "password": "wrong password"}
    responses = race([
        lambda app=app: app.post_json("/api/v1/auth/login", body, expect_errors=True)
        for app in [first, second] * (RACERS // 2)])
    assert sorted(r.status_int for r in responses) == [401] * RACERS
    engine = first.app.registry["db_engine"]
    with engine.connect() as connection:
        failures = connection.execute(
            sa.select(LoginAttempt.failures).where(
                LoginAttempt.key == ratelimit.account_key("shared@example.com"))).scalar()
    assert failures == RACERS


def test_many_sign_ins_at_once_all_succeed(committed_apps):
    first, second = committed_apps
    body = {"email": "shared@example.com", "password": PASSWORD}
    responses = race([
        lambda app=app: app.post_json("/api/v1/auth/login", body, expect_errors=True)
        for app in [first, second] * (RACERS // 2)])
    assert [r.status_int for r in responses] == [200] * RACERS, [r.text for r in responses]
    assert len({r.json["refresh_token"] for r in responses}) == RACERS


def test_registrations_at_once_give_one_account_per_address(committed_apps):
    first, second = committed_apps

    def register(app, n):
        return app.post_json("/api/v1/auth/register", {
            "email": f"racer-{n // 2}@example.com", "password": PASSWORD}, expect_errors=True)

    responses = race([lambda app=app, n=n: register(app, n)
                      for n, app in enumerate([first, second] * (RACERS // 2))])
    assert sorted(r.status_int for r in responses) == [201] * (RACERS // 2) + [409] * (
        RACERS // 2), [r.text for r in responses]
