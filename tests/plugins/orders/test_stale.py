"""Orders whose payment never comes fail, and their stock goes back on sale: the periodic
job, and the ``emporium orders fail-stale`` command."""
import datetime as dt
import json

from core import cli
from core.db import utcnow
from core.tasks import celery_app
from plugins.orders import services

from .conftest import ADDRESS

ONLINE = {"shipping_address": ADDRESS, "shipping_method": "standard",
          "payment_method": "probe_pay"}


def later(**delta):
    return utcnow() + dt.timedelta(**delta)


def test_each_provider_has_its_time(make_buyer, red, probe, ctx, stock):
    manual, online = make_buyer(), make_buyer()
    manual.add(red, 2)
    online.add(red, 3)
    by_bank = manual.place({"shipping_address": ADDRESS, "shipping_method": "standard"}).json[
        "number"]
    by_card = online.place(ONLINE).json["number"]
    assert stock(red).reserved == 5
    assert services.fail_stale_orders(ctx, now=later(minutes=29)) == []
    # probe_pay waits 30 minutes, the manual provider a week (the settings' default)
    assert services.fail_stale_orders(ctx, now=later(minutes=31)) == [by_card]
    assert stock(red).reserved == 2
    assert services.fail_stale_orders(ctx, now=later(days=6)) == []
    assert services.fail_stale_orders(ctx, now=later(days=7, minutes=1)) == [by_bank]
    assert stock(red).reserved == 0
    assert services.fail_stale_orders(ctx, now=later(days=30)) == []  # idempotent
    order = services.find_order(ctx.dbsession, by_bank)
    assert order.status == "failed" and order.payment.status == "cancelled"
    assert order.history[-1].actor == "system"
    assert "no payment within 10080 minutes" in order.history[-1].note


def test_orders_within_a_long_deadline_do_not_hide_the_overdue_ones(make_buyer, red, probe,
                                                                   ctx):
    by_bank = make_buyer()
    by_bank.add(red, 1)
    by_bank.place({"shipping_address": ADDRESS, "shipping_method": "standard"})
    by_card = make_buyer()
    by_card.add(red, 1)
    number = by_card.place(ONLINE).json["number"]
    # one order per run: the older bank transfer, with days left, must not take the place
    assert services.fail_stale_orders(ctx, now=later(minutes=31), limit=1) == [number]


def test_a_paid_order_is_never_failed(buyer, red, desk, ctx, orders_settings):
    buyer.add(red, 1)
    number = buyer.place().json["number"]
    desk.act(number, "mark-paid")
    assert services.fail_stale_orders(ctx, now=later(days=365)) == []
    assert desk.get(number).json["status"] == "processing"


def test_the_timeouts_are_settings(buyer, red, ctx, orders_settings, registry):
    orders_settings(manual_payment_pending_minutes=10)
    buyer.add(red, 1)
    number = buyer.place().json["number"]
    ctx.plugins = registry["plugins"].current()  # the settings as stored now
    assert services.fail_stale_orders(ctx, now=later(minutes=11)) == [number]


def test_the_job_is_a_periodic_task(registry):
    app = celery_app(registry)
    assert "orders.fail_stale" in app.tasks
    assert app.conf.beat_schedule["orders.fail_stale"]["task"] == "orders.fail_stale"


def test_the_command(make_database, tmp_path, capsys):
    url = make_database()
    ini = tmp_path / "shop.ini"
    ini.write_text(f"[app:main]\nuse = egg:emporium\nsqlalchemy.url = {url}\n"
                   f"emporium.jwt_secret = {'k' * 40}\nemporium.plugins.refresh_interval = 0\n"
                   "emporium.mail_dir = " + str(tmp_path / "mail") + "\n")
    assert cli.main(["-c", str(ini), "init"]) == 0
    capsys.readouterr()
    assert cli.main(["-c", str(ini), "--json", "orders", "fail-stale"]) == 0
    assert json.loads(capsys.readouterr().out) == {"failed": []}
    assert cli.main(["-c", str(ini), "plugins", "disable", "orders"]) == 0
    capsys.readouterr()
    assert cli.main(["-c", str(ini), "orders", "fail-stale"]) == 1
    assert "not enabled" in capsys.readouterr().err
