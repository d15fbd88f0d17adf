"""Expired guest carts (and long-ordered carts) are deleted: by the periodic job, or by
``emporium cart purge-expired``."""
import datetime as dt
import json
import textwrap

import pytest
import sqlalchemy as sa

from core.cli import main as emporium
from core.db import utcnow
from core.tasks import celery_app, crontab
from plugins.cart import services
from plugins.cart.models import Cart, CartItem

from .conftest import Shopper


def aged(dbsession, cart_id, days):
    cart = dbsession.get(Cart, cart_id)
    cart.updated_at = utcnow() - dt.timedelta(days=days)
    dbsession.flush()
    return cart


def remaining(dbsession):
    return set(dbsession.scalars(sa.select(Cart.id)))


def test_purge_deletes_what_expired_and_nothing_else(guest, testapp, shopper, customer, staff,
                                                     mug, dbsession):
    red = mug.variants[0]
    old_guest = aged(dbsession, guest.add(red.id).json["id"], 31)
    fresher = Shopper(testapp)
    recent_guest = aged(dbsession, fresher.add(red.id).json["id"], 29)
    old_customer = aged(dbsession, shopper(customer).add(red.id).json["id"], 400)
    ordered = services.open_user_cart(dbsession, staff.id)
    services.add_item(dbsession, ordered, red.id, 1, services.Limits())
    services.mark_ordered(dbsession, ordered)
    aged(dbsession, ordered.id, 31)

    assert services.purge_expired(dbsession, 30) == 2
    assert remaining(dbsession) == {recent_guest.id, old_customer.id}
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(CartItem).where(
        CartItem.cart_id.in_([old_guest.id, ordered.id]))) == 0
    assert services.purge_expired(dbsession, 30) == 0  # safe to run again
    assert services.purge_expired(dbsession, 1) == 1


def test_the_periodic_job(registry, guest, mug, dbsession, cart_settings):
    app = celery_app(registry)
    entry = app.conf.beat_schedule["cart.purge_expired"]
    assert entry["task"] == "cart.purge_expired"
    assert entry["schedule"] == crontab(minute=17)  # hourly
    cart_id = guest.add(mug.variants[0].id).json["id"]
    aged(dbsession, cart_id, 8)
    assert app.tasks["cart.purge_expired"].apply().get() == {"deleted": 0}
    cart_settings(guest_cart_days=7)
    assert app.tasks["cart.purge_expired"].apply().get() == {"deleted": 1}
    assert cart_id not in remaining(dbsession)


def test_cli_purge_expired(make_database, tmp_path, capsys):
    url = make_database()
    ini = tmp_path / "shop.ini"
    ini.write_text(textwrap.dedent(f"""\
        [app:main]
        use = egg:emporium
        sqlalchemy.url = {url}
        emporium.jwt_secret = {"k" * 40}
        emporium.plugins.refresh_interval = 0
    """))
    assert emporium(["-c", str(ini), "init"]) == 0
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            old = utcnow() - dt.timedelta(days=45)
            for updated_at in (old, utcnow()):
                connection.execute(sa.insert(Cart).values(
                    status="open", token_hash=services.hash_token(services.new_token()),
                    created_at=old, updated_at=updated_at))
        capsys.readouterr()
        assert emporium(["-c", str(ini), "--json", "cart", "purge-expired"]) == 0
        assert json.loads(capsys.readouterr().out) == {"deleted": 1, "guest_cart_days": 30}
        assert emporium(["-c", str(ini), "cart", "purge-expired"]) == 0
        assert capsys.readouterr().out.startswith("Deleted 0 expired cart(s)")
        with engine.connect() as connection:
            assert connection.scalar(sa.select(sa.func.count()).select_from(Cart)) == 1

        for name in _needing_cart()[::-1] + ["cart"]:  # what needs the cart goes first
            assert emporium(["-c", str(ini), "plugins", "disable", name]) == 0
        capsys.readouterr()
        assert emporium(["-c", str(ini), "cart", "purge-expired"]) == 1
        assert "not enabled" in capsys.readouterr().err
    finally:
        engine.dispose()


def test_the_status_is_checked_by_the_database(dbsession):
    with pytest.raises(sa.exc.IntegrityError):
        with dbsession.begin_nested():
            dbsession.add(Cart(status="lost"))
            dbsession.flush()


def _needing_cart():
    """The plugins `emporium init` installed that depend on the cart (orders, ...)."""
    from core.plugins.discovery import discover
    from core.plugins.graph import dependents

    found = discover()
    return [name for name in dependents(found.depends, "cart")
            if found.plugins[name].manifest.default]
