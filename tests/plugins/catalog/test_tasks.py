"""The staff's low-stock alert, a periodic job: one e-mail per run to each active staff
member, each variant told once while it stays low, told again after a restock and a
new drop, and one mail when two workers run it at once. Mail goes through a real SMTP
server (aiosmtpd); tasks run eagerly (a real worker runs it in
tests/core/tasks/test_worker_shop.py)."""
import uuid

import pytest
import sqlalchemy as sa

from core.security import create_user
from core.tasks import celery_app, crontab
from plugins.catalog import inventory, services
from plugins.catalog.models import StockAlert
from plugins.catalog.schemas import ProductBody
from tests.core.notifications.committing import mailing_app, run_at_once
from tests.core.notifications.conftest import catcher, mail_settings, smtp  # noqa: F401
from tests.core.notifications.smtp import parts

API = "/api/v1"
JOB = "catalog.low_stock_alert"


@pytest.fixture
def run_job(registry):
    """Run the job as beat has a worker do it; its answer."""
    def run():
        return celery_app(registry).tasks[JOB].apply().get()

    return run


@pytest.fixture
def catalog_settings(testapp, staff):
    def store(**values):
        testapp.put_json(f"{API}/admin/plugins/catalog/settings", values, headers=staff.headers)

    return store


def variant_of(product):
    return product.variants[0]


def test_each_variant_is_told_once_while_low_and_again_after_a_restock(
        smtp, run_job, make_product, make_user, staff, dbsession):
    second = make_user(staff=True, email=f"buyer-{uuid.uuid4().hex[:6]}@example.com")
    customer = make_user()
    gone = make_user(staff=True)
    gone.is_active = False  # a former employee hears nothing
    dbsession.flush()
    low = make_product("Linen Shirt", variants=[{"price": "39.90", "stock": 3}])
    plenty = make_product("Wool Socks", variants=[{"price": "9.90", "stock": 10}])
    make_product("Old Hat", variants=[{"price": "5.00", "stock": 0}], is_active=False)
    shirt, socks = variant_of(low), variant_of(plenty)

    answer = run_job()
    assert answer == {"forgotten": 0, "alerted": [shirt.sku], "mailed": 2}
    assert sorted(rcpt for rcpts, _ in smtp.messages for rcpt in rcpts) == sorted(
        [staff.email, second.email])
    assert smtp.to(customer.email) == smtp.to(gone.email) == []
    [message] = smtp.to(staff.email)
    assert message["Subject"] == "Low stock: 1 variant at or below 5 available"
    body = parts(message)
    assert f"{shirt.sku}  Linen Shirt: 3 available" in body["text/plain"]
    assert f"<code>{shirt.sku}</code></td><td>Linen Shirt</td>" in body["text/html"]
    assert "Wool Socks" not in body["text/plain"] and "Old Hat" not in body["text/plain"]

    # still low, lower even: told already
    inventory.reserve(dbsession, shirt.id, 2)
    assert run_job() == {"forgotten": 0, "alerted": [], "mailed": 0}
    # socks run low: only they are in the next mail
    inventory.adjust(dbsession, socks.id, -6, "counted")
    assert run_job()["alerted"] == [socks.sku]
    [_, message] = smtp.to(staff.email)
    assert "Wool Socks: 4 available" in parts(message)["text/plain"]
    assert "Linen Shirt" not in parts(message)["text/plain"]

    # restocked above the threshold: forgotten; run low again: told again
    inventory.adjust(dbsession, shirt.id, 20, "delivery")
    assert run_job() == {"forgotten": 1, "alerted": [], "mailed": 0}
    inventory.adjust(dbsession, shirt.id, -20, "damaged")
    assert run_job() == {"forgotten": 0, "alerted": [shirt.sku], "mailed": 2}
    assert len(smtp.to(staff.email)) == 3
    assert dbsession.get(StockAlert, shirt.id).available == 1


def test_the_threshold_and_the_on_off_setting(smtp, run_job, make_product, staff,
                                             catalog_settings, registry):
    shirt = variant_of(make_product(variants=[{"price": "1.00", "stock": 8}]))
    catalog_settings(low_stock_alerts=False, low_stock_threshold=10)
    assert run_job() == {"skipped": "the setting low_stock_alerts is off"}
    assert smtp.messages == []
    catalog_settings(low_stock_alerts=True)
    assert run_job()["alerted"] == [shirt.sku]
    [message] = smtp.to(staff.email)
    assert message["Subject"] == "Low stock: 1 variant at or below 10 available"
    # a lower threshold: 8 is no longer low, so it is forgotten
    catalog_settings(low_stock_threshold=5)
    assert run_job()["forgotten"] == 1


def test_without_staff_nothing_is_claimed_until_someone_can_be_told(smtp, run_job,
                                                                    make_product, make_user,
                                                                    dbsession):
    shirt = variant_of(make_product(variants=[{"price": "1.00", "stock": 0}]))
    assert run_job() == {"forgotten": 0, "alerted": [], "mailed": 0}
    assert dbsession.get(StockAlert, shirt.id) is None
    boss = make_user(staff=True)
    assert run_job()["alerted"] == [shirt.sku]
    assert len(smtp.to(boss.email)) == 1


def test_a_long_list_is_cut_short_in_the_mail(smtp, run_job, make_product, staff,
                                              monkeypatch):
    from plugins.catalog import alerts

    monkeypatch.setattr(alerts, "MAX_LISTED", 2)  # instead of making 201 products
    products = [make_product(variants=[{"price": "1.00", "stock": n}]) for n in range(3)]
    assert len(run_job()["alerted"]) == 3
    [message] = smtp.to(staff.email)
    text = parts(message)["text/plain"]
    assert message["Subject"] == "Low stock: 3 variants at or below 5 available"
    assert variant_of(products[2]).sku not in text  # the fullest is left out
    assert "... and 1 more." in text


def test_a_deleted_variant_is_forgotten_with_it(smtp, run_job, make_product, staff, dbsession):
    product = make_product(variants=[{"price": "1.00", "stock": 1}])
    run_job()
    services.delete_product(dbsession, product)
    dbsession.flush()
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(StockAlert)) == 0


def test_the_job_is_scheduled_every_quarter_of_an_hour(registry):
    entry = celery_app(registry).conf.beat_schedule[JOB]
    assert (entry["task"], entry["schedule"]) == (JOB, crontab(minute="*/15"))


# --- two workers at once, on a database whose transactions really commit ----------------


@pytest.fixture(scope="module")
def shop(make_database, catcher, tmp_path_factory):  # noqa: F811 (the imported fixture)
    with mailing_app(make_database(), catcher, tmp_path_factory.mktemp("mail")) as registry:
        with registry["dbsession_factory"]() as session, session.begin():
            for name in ("ann", "bob"):
                create_user(session, f"{name}-{uuid.uuid4().hex[:6]}@example.com",
                            "correct horse battery", staff=True)
        yield registry


def test_two_runs_at_once_send_one_mail_per_staff_member(shop, catcher):
    catcher.messages.clear()
    with shop["dbsession_factory"]() as session, session.begin():
        skus = [f"RACE-{uuid.uuid4().hex[:8]}-{n}" for n in range(5)]
        for sku in skus:
            services.create_product(session, ProductBody().load({
                "name": f"Racing {sku}", "variants": [
                    {"sku": sku, "price": "2.00", "stock": 1}]}), "EUR")

    job = celery_app(shop).tasks[JOB]
    results = run_at_once(job, 3)
    alerted = [sku for result in results for sku in result["alerted"]]
    assert sorted(alerted) == sorted(skus)  # each variant claimed by one run
    # the winner's mail went to both staff members; the other runs had nothing to say
    assert sum(result["mailed"] for result in results) == 2
    assert len(catcher.messages) == 2
    assert run_at_once(job, 2) == [{"forgotten": 0, "alerted": [], "mailed": 0}] * 2
    assert len(catcher.messages) == 2
