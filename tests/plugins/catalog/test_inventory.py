"""The inventory service: reserve, release, commit, restock, adjust; and real concurrency."""
import os

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from core.config import configure
from core.testing import postgresql_only, race
from plugins.catalog import inventory, services
from plugins.catalog.models import Stock, StockMovement
from plugins.catalog.schemas import ProductBody
from tests.conftest import app_settings, initialize


@pytest.fixture
def variant(make_product):
    return make_product(variants=[{"price": "5.00", "stock": 10}]).variants[0]


def ledger(dbsession, variant_id):
    return [(m.kind, m.on_hand_change, m.reserved_change, m.on_hand_after, m.reserved_after,
             m.reference) for m in dbsession.scalars(
        sa.select(StockMovement).where(StockMovement.variant_id == variant_id)
        .order_by(StockMovement.id))]


def test_an_order_life(dbsession, variant):
    level = inventory.reserve(dbsession, variant.id, 3, reference="order:A")
    assert (level.on_hand, level.reserved, level.available) == (10, 3, 7)
    assert inventory.commit(dbsession, variant.id, 2, reference="order:A").as_dict() == {
        "variant_id": variant.id, "on_hand": 8, "reserved": 1, "available": 7}
    assert inventory.release(dbsession, variant.id, 1, reference="order:A").reserved == 0
    assert inventory.restock(dbsession, variant.id, 2, reference="order:A").on_hand == 10
    assert ledger(dbsession, variant.id) == [
        ("initial", 10, 0, 10, 0, None),
        ("reserve", 0, 3, 10, 3, "order:A"),
        ("commit", -2, -2, 8, 1, "order:A"),
        ("release", 0, -1, 8, 0, "order:A"),
        ("restock", 2, 0, 10, 0, "order:A"),
    ]
    # the ORM sees the new numbers too
    assert (variant.stock.on_hand, variant.stock.reserved) == (10, 0)


def test_reserve_refuses_more_than_available(dbsession, variant):
    inventory.reserve(dbsession, variant.id, 8)
    with pytest.raises(inventory.InsufficientStock) as caught:
        inventory.reserve(dbsession, variant.id, 3)
    assert caught.value.status == 422
    assert caught.value.shortages == [{"variant_id": variant.id, "requested": 3, "available": 2}]
    assert inventory.reserve(dbsession, variant.id, 2).available == 0
    assert inventory.level(dbsession, variant.id).reserved == 10


def test_release_and_commit_refuse_more_than_reserved(dbsession, variant):
    inventory.reserve(dbsession, variant.id, 2)
    with pytest.raises(inventory.StockConflict):
        inventory.release(dbsession, variant.id, 3)
    with pytest.raises(inventory.StockConflict):
        inventory.commit(dbsession, variant.id, 3)
    assert inventory.level(dbsession, variant.id).as_dict()["reserved"] == 2


def test_unknown_variants_and_bad_quantities(dbsession, variant):
    for operation in (inventory.reserve, inventory.release, inventory.commit, inventory.restock):
        with pytest.raises(inventory.UnknownVariant):
            operation(dbsession, 2**31 - 1, 1)
        for bad in (0, -1, 10**10):
            with pytest.raises(ValueError):
                operation(dbsession, variant.id, bad)
        for bad in (1.0, "1", True, None):
            with pytest.raises(TypeError):
                operation(dbsession, variant.id, bad)


def test_adjust_never_goes_below_reserved(dbsession, variant):
    inventory.reserve(dbsession, variant.id, 4)
    with pytest.raises(inventory.StockConflict):
        inventory.adjust(dbsession, variant.id, -7, "broken")
    assert inventory.adjust(dbsession, variant.id, -6, "broken").on_hand == 4
    assert inventory.set_on_hand(dbsession, variant.id, 20, "count").on_hand == 20
    with pytest.raises(inventory.StockConflict):
        inventory.set_on_hand(dbsession, variant.id, 3, "count")
    assert inventory.set_on_hand(dbsession, variant.id, 20, "count").on_hand == 20  # no change
    assert ledger(dbsession, variant.id)[-1][:3] == ("adjustment", 16, 0)


def test_reserve_many_is_all_or_nothing(dbsession, make_product):
    product = make_product(variants=[{"price": "1", "stock": 5, "options": {"Size": "S"}},
                                     {"price": "1", "stock": 1, "options": {"Size": "M"}},
                                     {"price": "1", "stock": 0, "options": {"Size": "L"}}])
    small, medium, large = (v.id for v in product.variants)
    with pytest.raises(inventory.InsufficientStock) as caught:
        inventory.reserve_many(dbsession, [(small, 2), (medium, 2), (large, 1), (small, 1)],
                               reference="order:B")
    assert caught.value.shortages == [
        {"variant_id": medium, "requested": 2, "available": 1},
        {"variant_id": large, "requested": 1, "available": 0}]
    assert [inventory.level(dbsession, v).reserved for v in (small, medium, large)] == [0, 0, 0]
    assert [k for k, *_ in ledger(dbsession, small)] == ["initial"]
    done = inventory.reserve_many(dbsession, [(small, 2), (medium, 1), (small, 3)])
    assert (done[small].reserved, done[medium].reserved) == (5, 1)
    with pytest.raises(inventory.UnknownVariant):
        inventory.reserve_many(dbsession, [(small, 0 + 1), (2**31 - 1, 1)])


def test_many_variants_move_at_once_in_a_fixed_number_of_statements(dbsession, make_product,
                                                                    count_statements):
    product = make_product(variants=[{"price": "1", "stock": 5, "options": {"Size": s}}
                                     for s in ("S", "M", "L")])
    small, medium, large = product.variants
    with count_statements() as two:
        inventory.reserve_many(dbsession, [(small.id, 2), (medium.id, 1)], reference="order:C")
    with count_statements() as three:
        inventory.reserve_many(dbsession, [(small.id, 1), (medium.id, 1), (large.id, 4)])
    assert len(two) == len(three) <= 3, three  # lock (PostgreSQL), UPDATE, INSERT
    assert (small.stock.reserved, medium.stock.reserved) == (3, 2)  # the ORM sees it
    done = inventory.move_many(dbsession, "commit", [(small.id, 2), (medium.id, 1)],
                               reference="order:C")
    assert (done[small.id].on_hand, done[small.id].reserved) == (3, 1)
    assert ledger(dbsession, small.id)[-1] == ("commit", -2, -2, 3, 1, "order:C")
    assert ledger(dbsession, medium.id)[-1] == ("commit", -1, -1, 4, 1, "order:C")
    with pytest.raises(inventory.StockConflict, match=f"release 2 units of variant {medium.id}"):
        inventory.move_many(dbsession, "release", [(small.id, 1), (medium.id, 2)])
    assert inventory.level(dbsession, small.id).reserved == 1  # all or nothing
    assert inventory.move_many(dbsession, "restock", [(large.id, 3)])[large.id].on_hand == 8
    with pytest.raises(inventory.UnknownVariant):
        inventory.move_many(dbsession, "restock", [(2**31 - 1, 1)])


def test_the_database_refuses_oversell_even_without_the_service(dbsession, variant):
    with pytest.raises(sa.exc.IntegrityError):
        with dbsession.begin_nested():
            dbsession.execute(sa.update(Stock).where(Stock.variant_id == variant.id)
                              .values(reserved=11))


def test_variant_infos_for_carts_and_orders(dbsession, make_product, count_statements):
    product = make_product("Mug", variants=[
        {"price": "12.50", "stock": 3, "options": {"Colour": "Red"}},
        {"price": "13.00", "stock": 0, "options": {"Colour": "Blue"}}],
        images=[{"url": "https://cdn.example.com/mug.jpg"}])
    red, blue = product.variants
    dbsession.expunge_all()
    with count_statements() as seen:
        infos = services.variant_infos(dbsession, [red.id, blue.id, 2**31 - 1, -5])
    assert len(seen) <= 5
    assert set(infos) == {red.id, blue.id}
    info = infos[red.id]
    assert (info.name, info.sku, info.options, str(info.unit_price), info.unit_price.currency,
            info.available, info.is_active, info.image_url) == (
        "Mug", red.sku, {"Colour": "Red"}, "12.50", "EUR", 3, True,
        "https://cdn.example.com/mug.jpg")
    assert infos[blue.id].available == 0


# --- concurrency (PostgreSQL) -----------------------------------------------------------------

@pytest.fixture(scope="module")
def committed_app(make_database):
    """A fresh database with the catalog installed; its sessions really commit."""
    config = configure(app_settings(make_database(), extra_plugins=[]))
    config.commit()
    initialize(config)
    engine = config.registry["db_engine"]
    yield sessionmaker(bind=engine)
    engine.dispose()


def _stock_product(factory, stock_per_variant, variants):
    with factory() as session, session.begin():
        body = ProductBody().load({"name": "Limited edition", "variants": [
            {"sku": f"LTD-{os.getpid()}-{id(factory)}-{n}-{stock_per_variant}", "price": "99",
             "stock": stock_per_variant, "options": {"Number": str(n)}}
            for n in range(variants)]})
        product = services.create_product(session, body, "EUR")
        session.flush()
        return [v.id for v in product.variants]


def _race(factory, workers, work):
    """``work(session, number)`` in ``workers`` threads at once, each in a transaction of
    its own; None where the stock ran out."""
    def run(number):
        try:
            with factory() as session, session.begin():
                return work(session, number)
        except inventory.InsufficientStock:
            return None

    return race(run, list(range(workers)), timeout=60)


@postgresql_only
def test_concurrent_reservations_never_oversell(committed_app):
    (variant_id,) = _stock_product(committed_app, 10, 1)
    quantities = [1, 2, 3] * 8  # 48 units wanted, 10 on hand

    def reserve(session, number):
        quantity = quantities[number]
        inventory.reserve(session, variant_id, quantity, reference=f"order:{number}")
        return quantity

    results = _race(committed_app, len(quantities), reserve)
    granted = sum(q for q in results if q)
    with committed_app() as session:
        level = inventory.level(session, variant_id)
        reserved_in_ledger = session.scalar(sa.select(sa.func.sum(StockMovement.reserved_change))
                                            .where(StockMovement.variant_id == variant_id))
    assert level.on_hand == 10
    assert level.reserved == granted == reserved_in_ledger
    assert 8 <= granted <= 10  # only the last 1 or 2 units can be left over
    assert level.available >= 0 and level.reserved <= level.on_hand


@postgresql_only
def test_concurrent_multi_variant_orders_neither_oversell_nor_deadlock(committed_app):
    first, second = _stock_product(committed_app, 6, 2)

    def order(session, number):
        # half the orders list the variants the other way round
        lines = [(first, 1), (second, 1)] if number % 2 else [(second, 1), (first, 1)]
        inventory.reserve_many(session, lines, reference=f"order:{number}")
        if number % 3 == 0:  # some are cancelled at once
            inventory.release(session, first, 1)
            inventory.release(session, second, 1)
            return 0
        return 1

    results = _race(committed_app, 20, order)
    kept = sum(r for r in results if r)
    with committed_app() as session:
        levels = inventory.levels(session, [first, second])
    for level in levels.values():
        assert 0 <= level.reserved <= level.on_hand == 6
        assert level.reserved == kept
