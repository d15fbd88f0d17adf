"""Reconciliation: orders still waiting for their card payment are checked with Stripe,
so a lost webhook never leaves one stuck; and the orders plugin's stale-payment job
never fails an order Stripe has the money for."""
import datetime as dt

import pytest

from core.db import utcnow
from plugins.orders import services as orders
from plugins.payments_stripe import services, tasks

from .conftest import NAME, placed, run_task
from .stripe_fake import DECLINED_CARD, free_port


def later(minutes):
    return utcnow() + dt.timedelta(minutes=minutes)


def intent_of(order):
    return order["payment"]["client_secret"].split("_secret_")[0]


def levels(stock, variant_id):
    level = stock(variant_id)
    return level.on_hand, level.reserved


def reconcile(task_ctx, minutes=11, **kwargs):
    return run_task(task_ctx(), lambda ctx: services.reconcile(ctx, now=later(minutes),
                                                               **kwargs))


@pytest.fixture
def order(stripe_buyer, stripe_plugin):
    return placed(stripe_buyer)


def test_a_payment_whose_webhook_was_lost_is_found(order, stripe_plugin, task_ctx, buyer,
                                                   stock, red):
    stripe_plugin.pay(intent_of(order))  # the webhook never arrives
    report = reconcile(task_ctx)
    assert report == {"checked": 1, "results": {order["number"]: "paid"}, "errors": {}}
    seen = buyer.order(order["number"]).json
    assert seen["status"] == "processing" and seen["status_history"][-1]["by"] == "payment"
    assert levels(stock, red) == (8, 0)
    # paid: no longer waiting, so not asked about again
    assert reconcile(task_ctx) == {"checked": 0, "results": {}, "errors": {}}


def test_a_declined_payment_whose_webhook_was_lost_fails_the_order(order, stripe_plugin,
                                                                   task_ctx, buyer, stock,
                                                                   red):
    stripe_plugin.pay(intent_of(order), card=DECLINED_CARD)
    assert reconcile(task_ctx)["results"] == {order["number"]: "failed"}
    assert buyer.order(order["number"]).json["status"] == "failed"
    assert levels(stock, red) == (10, 0)
    assert stripe_plugin.intent(intent_of(order))["status"] == "canceled"


def test_an_intent_cancelled_at_stripe_fails_the_order(order, stripe_plugin, task_ctx, buyer):
    stripe_plugin.client.v1.payment_intents.cancel(intent_of(order))
    assert reconcile(task_ctx)["results"] == {order["number"]: "failed"}
    assert buyer.order(order["number"]).json["status"] == "failed"


def test_an_order_still_being_paid_keeps_waiting(order, stripe_plugin, task_ctx, buyer, stock,
                                                 red):
    assert reconcile(task_ctx)["results"] == {order["number"]: "waiting"}
    assert buyer.order(order["number"]).json["status"] == "payment_pending"
    assert levels(stock, red) == (10, 2)


def test_young_orders_are_left_to_their_webhook(order, stripe_plugin, task_ctx,
                                                stripe_settings):
    stripe_plugin.pay(intent_of(order))
    assert reconcile(task_ctx, minutes=9)["checked"] == 0
    stripe_settings(reconcile_after_minutes=5)
    assert reconcile(task_ctx, minutes=6)["results"] == {order["number"]: "paid"}


def test_stripe_down_stops_the_run_and_changes_nothing(order, stripe_plugin, task_ctx, buyer,
                                                       stripe_settings):
    stripe_plugin.pay(intent_of(order))
    stripe_settings(api_base=f"http://127.0.0.1:{free_port()}", timeout_seconds=1)
    report = reconcile(task_ctx)
    assert report == {"checked": 1, "results": {}, "errors": {order["number"]:
                                                              "stripe_unavailable"}}
    assert buyer.order(order["number"]).json["status"] == "payment_pending"


def test_without_keys_the_run_is_skipped(order, task_ctx, stripe_settings):
    stripe_settings(secret_key=None)
    assert reconcile(task_ctx)["skipped"] == "no Stripe secret key"


def test_the_stale_payment_job_does_not_fail_an_order_stripe_has_the_money_for(
        order, stripe_plugin, task_ctx, buyer, stock, red):
    stripe_plugin.pay(intent_of(order))  # paid, the webhook lost
    failed = run_task(task_ctx(), lambda ctx: orders.fail_stale_orders(ctx, now=later(61)))
    assert failed == []
    assert buyer.order(order["number"]).json["status"] == "payment_pending"
    reconcile(task_ctx)
    assert buyer.order(order["number"]).json["status"] == "processing"
    assert levels(stock, red) == (8, 0)


def test_the_stale_payment_job_fails_an_unpaid_order_and_cancels_its_intent(
        order, stripe_plugin, task_ctx, buyer, stock, red, stripe_settings):
    stripe_settings(payment_pending_minutes=30)
    assert run_task(task_ctx(), lambda ctx: orders.fail_stale_orders(ctx, now=later(29))) == []
    failed = run_task(task_ctx(), lambda ctx: orders.fail_stale_orders(ctx, now=later(31)))
    assert failed == [order["number"]]
    assert buyer.order(order["number"]).json["status"] == "failed"
    assert stripe_plugin.intent(intent_of(order))["status"] == "canceled"
    assert levels(stock, red) == (10, 0)


def test_the_reconciliation_is_a_periodic_task(registry):
    from core.tasks import celery_app

    app = celery_app(registry)
    assert tasks.reconcile.name == f"{NAME}.reconcile"
    entry = app.conf.beat_schedule[f"{NAME}.reconcile"]
    assert entry["task"] == f"{NAME}.reconcile"
    assert f"{NAME}.reconcile" in app.tasks


def test_the_task_runs_the_reconciliation(order, stripe_plugin, task_ctx, buyer):
    stripe_plugin.pay(intent_of(order))
    # right after placing, the order is too young: the task checks nothing yet
    report = run_task(task_ctx(), tasks.reconcile)
    assert report == {"checked": 0, "results": {}, "errors": {}}


def test_the_command(make_database, tmp_path, capsys, localstripe):
    import json

    from core import cli

    ini = tmp_path / "shop.ini"
    ini.write_text(f"[app:main]\nuse = egg:emporium\nsqlalchemy.url = {make_database()}\n"
                   f"emporium.jwt_secret = {'k' * 40}\nemporium.plugins.refresh_interval = 0\n"
                   f"emporium.mail_dir = {tmp_path / 'mail'}\n")
    assert cli.main(["-c", str(ini), "init"]) == 0
    capsys.readouterr()
    assert cli.main(["-c", str(ini), NAME, "reconcile"]) == 1
    assert "not enabled" in capsys.readouterr().err
    assert cli.main(["-c", str(ini), "plugins", "install", NAME]) == 0
    capsys.readouterr()
    assert cli.main(["-c", str(ini), NAME, "reconcile"]) == 0
    assert "Skipped: no Stripe secret key." in capsys.readouterr().out
    # the operator gives the keys in the ini (from the environment), not through the API
    with ini.open("a") as file:
        for key, value in localstripe.settings().items():
            file.write(f"emporium.plugin.{NAME}.{key} = {value}\n")
    assert cli.main(["-c", str(ini), "--json", NAME, "reconcile", "--limit", "10"]) == 0
    assert json.loads(capsys.readouterr().out) == {"checked": 0, "results": {}, "errors": {}}
    assert cli.main(["-c", str(ini), NAME, "reconcile", "--limit", "0"]) == 1
    assert "--limit" in capsys.readouterr().err
