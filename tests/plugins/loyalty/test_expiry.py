"""Points expire after the period, oldest first, by a periodic job that is idempotent; the
customer sees the next points to expire; `emporium loyalty expire` does it by hand."""
import datetime as dt
import json

import pytest
from celery.schedules import crontab

from core import cli
from core.db import utcnow
from core.tasks import celery_app
from plugins.loyalty import services

from .conftest import ADDRESS


def later(moment, **delta):
    return moment + dt.timedelta(**delta)


def expiring(loyalty, user):
    found = loyalty.me(user).json["expiring_next"]
    return found and (found["points"], dt.datetime.fromisoformat(found["expires_at"]))


def expires_at(loyalty, user, index=0):
    return dt.datetime.fromisoformat(
        loyalty.me(user).json["history"]["items"][index]["expires_at"])


@pytest.fixture
def clock(monkeypatch):
    """``clock(moment)``: the loyalty services' now, for requests and jobs alike."""
    def set_to(moment):
        monkeypatch.setattr(services, "utcnow", lambda: moment)

    return set_to


def test_unspent_points_expire_oldest_first_and_only_once(loyalty, buyer, dbsession):
    loyalty.adjust(buyer.user, 100)
    first = expires_at(loyalty, buyer.user)
    loyalty.settings(expiry_months=24)
    loyalty.adjust(buyer.user, 50)
    second = expires_at(loyalty, buyer.user)
    assert later(first, days=360) < second
    loyalty.adjust(buyer.user, -30, reason="spent in the shop")  # from the oldest points
    assert expiring(loyalty, buyer.user) == (70, first)

    assert services.expire_due(dbsession, now=later(first, days=-1)) == []
    assert services.expire_due(dbsession, now=later(first, seconds=1)) == [(buyer.user.id, 70)]
    assert services.expire_due(dbsession, now=later(first, seconds=2)) == []
    assert loyalty.balance(buyer.user) == 50
    assert loyalty.ledger(buyer.user)[-1] == ("expired", -70)
    assert expiring(loyalty, buyer.user) == (50, second)

    assert services.expire_due(dbsession, now=later(second, seconds=1)) == [(buyer.user.id, 50)]
    assert loyalty.balance(buyer.user) == 0 and expiring(loyalty, buyer.user) is None
    assert services.expire_due(dbsession, now=later(second, days=999)) == []
    loyalty.assert_consistent(buyer.user)


def test_points_that_never_expire_are_spent_last(loyalty, buyer, dbsession):
    loyalty.settings(expiry_months=0)
    loyalty.adjust(buyer.user, 40, reason="founding customer")
    loyalty.settings(expiry_months=12)
    loyalty.adjust(buyer.user, 60)
    moment = expires_at(loyalty, buyer.user)
    loyalty.adjust(buyer.user, -50, reason="spent")  # the expiring 60 go first
    assert expiring(loyalty, buyer.user) == (10, moment)
    services.expire_due(dbsession, now=later(moment, seconds=1))
    assert loyalty.balance(buyer.user) == 40


def test_points_given_back_after_their_date_expire_at_the_next_run(loyalty, buyer, red,
                                                                   dbsession):
    loyalty.adjust(buyer.user, 100)
    moment = expires_at(loyalty, buyer.user)
    buyer.add(red, 1)
    number = buyer.place({"shipping_address": ADDRESS, "loyalty_points": 100}).json["number"]
    assert services.expire_due(dbsession, now=later(moment, seconds=1)) == []  # all spent
    buyer.cancel(number)  # the 100 points come back, but their bucket is past its date
    assert loyalty.balance(buyer.user) == 100
    assert services.expire_due(dbsession, now=later(moment, seconds=2)) == [
        (buyer.user.id, 100)]
    loyalty.assert_consistent(buyer.user)


def test_refunding_after_the_points_expired_takes_nothing_more(loyalty, buyer, desk, red,
                                                               dbsession, clock,
                                                               make_order):
    buyer.add(red, 2)
    number = make_order(customer=buyer.user).number  # 25 points
    moment = expires_at(loyalty, buyer.user)
    loyalty.settings(expiry_months=24)
    loyalty.adjust(buyer.user, 10, reason="later goodwill")
    services.expire_due(dbsession, now=later(moment, seconds=1))
    assert loyalty.balance(buyer.user) == 10
    clock(later(moment, days=2))
    desk.act(number, "refund")
    assert loyalty.balance(buyer.user) == 10  # the earned 25 are gone already
    loyalty.assert_consistent(buyer.user)


def test_the_periodic_job(loyalty, buyer, registry, clock):
    app = celery_app(registry)
    entry = app.conf.beat_schedule["loyalty.expire_points"]
    assert entry["task"] == "loyalty.expire_points" and entry["schedule"] == crontab(minute=41)
    loyalty.adjust(buyer.user, 80)
    moment = expires_at(loyalty, buyer.user)
    assert app.tasks["loyalty.expire_points"].apply().get() == {"accounts": 0, "points": 0}
    clock(later(moment, hours=1))
    assert app.tasks["loyalty.expire_points"].apply().get() == {"accounts": 1, "points": 80}
    assert app.tasks["loyalty.expire_points"].apply().get() == {"accounts": 0, "points": 0}
    assert loyalty.ledger(buyer.user) == [("adjusted", 80), ("expired", -80)]


def test_the_commands(make_database, tmp_path, capsys):
    url = make_database()
    ini = tmp_path / "shop.ini"
    ini.write_text(f"[app:main]\nuse = egg:emporium\nsqlalchemy.url = {url}\n"
                   f"emporium.jwt_secret = {'k' * 40}\nemporium.plugins.refresh_interval = 0\n")
    assert cli.main(["-c", str(ini), "init"]) == 0
    capsys.readouterr()
    assert cli.main(["-c", str(ini), "loyalty", "expire"]) == 1
    assert "not enabled" in capsys.readouterr().err
    assert cli.main(["-c", str(ini), "plugins", "install", "loyalty"]) == 0
    capsys.readouterr()
    assert cli.main(["-c", str(ini), "--json", "loyalty", "expire"]) == 0
    assert json.loads(capsys.readouterr().out) == {"accounts": 0, "points": 0}
    assert cli.main(["-c", str(ini), "loyalty", "check"]) == 0
    assert "Every balance is the sum of its ledger." in capsys.readouterr().out
    assert cli.main(["-c", str(ini), "loyalty", "expire", "--limit", "0"]) == 1


def test_a_due_date_a_month_on_keeps_to_the_calendar():
    moment = dt.datetime(2027, 1, 31, 12, 0, tzinfo=dt.timezone.utc)
    assert services.add_months(moment, 1) == dt.datetime(2027, 2, 28, 12, 0,
                                                         tzinfo=dt.timezone.utc)
    assert services.add_months(moment, 13) == dt.datetime(2028, 2, 29, 12, 0,
                                                          tzinfo=dt.timezone.utc)
    assert services.add_months(moment, 12).year == 2028
    assert utcnow() < services.add_months(utcnow(), 1)
