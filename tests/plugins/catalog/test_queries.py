"""Speed: a list costs the same number of statements for 5 or 100 products, and on
PostgreSQL every filter and sort of the API is served by an index."""
import os
import re

import pytest
import sqlalchemy as sa

from plugins.catalog import services
from plugins.catalog.models import Product
from plugins.catalog.services import ProductFilters

from .conftest import API


@pytest.fixture
def many(make_category, make_product):
    root = make_category("Many", slug="t-many")
    leaf = make_category("Leaf", parent=root, slug="t-many-leaf")
    for number in range(60):
        make_product(f"Bulk {number:02d}", leaf if number % 2 else root, brand=f"B{number % 4}",
                     images=[{"url": f"https://cdn.example.com/{number}.jpg"}],
                     variants=[{"price": f"{number + 1}.00", "stock": number % 3,
                                "options": {"Size": size, "Colour": "Red"}}
                               for size in ("S", "M", "L")])


@pytest.mark.parametrize("params", [
    {},
    {"category": "t-many", "sort": "price"},
    {"q": "bulk", "in_stock": "true", "option.Size": "M", "min_price": "2", "facets": "true"},
])
def test_statements_do_not_grow_with_the_page_size(testapp, many, count_statements, params):
    def statements(per_page):
        with count_statements() as seen:
            r = testapp.get(f"{API}/products", params={**params, "per_page": per_page})
        assert len(r.json["items"]) == min(per_page, r.json["total"])
        return len(seen)

    small, large = statements(5), statements(60)
    assert small == large
    assert large <= 12


def test_category_page_statements(testapp, many, count_statements):
    with count_statements() as few:
        testapp.get(f"{API}/categories/t-many/products", params={"per_page": 3})
    with count_statements() as lots:
        testapp.get(f"{API}/categories/t-many/products", params={"per_page": 60})
    assert len(few) == len(lots)


postgresql_only = pytest.mark.skipif(
    not os.environ.get("EMPORIUM_TEST_DATABASE_URL"),
    reason="index use is a PostgreSQL property (the benchmark database)")

# Each filter alone, without the "listed" condition (whose partial indexes would cover a
# table this small by themselves), and the index that must serve it. The price range
# reads the product's price_min and price_max, which only the listed indexes hold
# (test_a_filtered_page_is_chosen_from_an_index_alone).
FILTERS = {
    "category": (dict(category_slug="t-many"), ["ix_catalog_product_category_id"]),
    "brand": (dict(brands=["B1"]), ["ix_catalog_product_brand"]),
    "q": (dict(q="bulk 07"), ["ix_catalog_product_search"]),
    "in stock": (dict(in_stock=True), ["pk_catalog_stock"]),
    "option": (dict(options={"Size": ["M"]}),
               ["ix_catalog_option_name", "uq_catalog_option_value_option_id",
                "ix_catalog_variant_option_value_id"]),
}


def _plan(dbsession, statement, sorted_by_index=False):
    # a table this small is cheaper to scan: make scans (and sorts) look dear, so the
    # plan shows what the planner would do at 100,000 products if it can
    dbsession.execute(sa.text("SET LOCAL enable_seqscan = off"))
    if sorted_by_index:
        dbsession.execute(sa.text("SET LOCAL enable_sort = off"))
    compiled = statement.compile(dialect=dbsession.get_bind().dialect,
                                 compile_kwargs={"literal_binds": True})
    return "\n".join(dbsession.execute(sa.text(f"EXPLAIN {compiled}")).scalars())


@postgresql_only
def test_the_category_tree_is_walked_with_indexes(dbsession, many):
    plan = _plan(dbsession, services.descendant_ids(slug="t-many"))
    assert "Seq Scan" not in plan, plan
    assert "uq_catalog_category_slug" in plan and "ix_catalog_category_parent_id" in plan, plan


@postgresql_only
@pytest.mark.parametrize("sort", ["price", "-price", "name", "-name", "newest"])
def test_every_sort_reads_an_index_in_order(dbsession, many, sort):
    plan = _plan(dbsession, services.page_ids(ProductFilters(), sort, 1, 20, "postgresql"),
                 sorted_by_index=True)
    assert "Seq Scan" not in plan, plan
    assert "Sort" not in plan, plan  # the index gives the order: no sorting step
    assert re.search(r"Index Only Scan (Backward )?using ix_catalog_product_listed_", plan), plan


@postgresql_only
@pytest.mark.parametrize("sort", ["price", "newest"])
def test_a_filtered_page_is_chosen_from_an_index_alone(dbsession, many, sort):
    """The ids of a page filtered by category and price come from the index only:
    no table row is read for the products the filters reject."""
    filters = services.resolve_categories(dbsession, ProductFilters(
        category_slug="t-many", min_price=500, max_price=4000))
    plan = _plan(dbsession, services.page_ids(filters, sort, 1, 20, "postgresql"))
    assert "Index Only Scan" in plan, plan
    # any other scan of the product table reads its rows
    assert not re.search(r"(?<!Only )Scan\b[^\n]* on catalog_product\b", plan), plan


@postgresql_only
@pytest.mark.parametrize("name", FILTERS)
def test_every_filter_is_backed_by_an_index(dbsession, many, name):
    given, indexes = FILTERS[name]
    filters = services.resolve_categories(dbsession, ProductFilters(include_inactive=True,
                                                                    **given))
    conditions = services.product_conditions(filters, "postgresql")
    plan = _plan(dbsession, sa.select(Product.id).where(*conditions))
    assert "Seq Scan" not in plan, plan
    for index in indexes:
        assert index in plan, plan
