"""The catalog's reads cost a fixed number of SQL statements, with every built-in optional
plugin enabled: the same for a page of 5 products or of 50, for a product of 1 variant
or of 20. The upper bounds are what the code costs now; a regression shows there."""
import pytest

from .conftest import API

OPTIONAL_PLUGINS = ("coupons", "shipping", "loyalty", "giftcards", "payments_stripe")
SIZES = ("S", "M", "L", "XL")


@pytest.fixture
def every_plugin(install_plugin):
    for name in OPTIONAL_PLUGINS:
        install_plugin(name)


@pytest.fixture
def shelf(every_plugin, make_category, make_product):
    """60 products of 4 variants and 2 images each, in a category and its child."""
    root = make_category("Shelf", slug="t-shelf")
    leaf = make_category("Shelf leaf", parent=root, slug="t-shelf-leaf")
    for number in range(60):
        make_product(f"Shelved {number:02d}", leaf if number % 2 else root,
                     brand=f"B{number % 3}",
                     images=[{"url": f"https://cdn.example.com/{number}-{side}.jpg"}
                             for side in ("front", "back")],
                     variants=[{"price": f"{number + index + 1}.00", "stock": index,
                                "options": {"Size": size, "Colour": "Red"}}
                               for index, size in enumerate(SIZES)])


def _count(count_statements, testapp, url, params):
    with count_statements() as seen:
        response = testapp.get(url, params=params)
    return response, seen


@pytest.mark.parametrize("params, most", [
    ({}, 6),
    ({"category": "t-shelf", "sort": "price"}, 7),
    ({"q": "shelved"}, 6),
    ({"q": "shelved", "category": "t-shelf", "in_stock": "true", "option.Size": "M",
      "facets": "true"}, 9),
], ids=["plain", "category", "search", "everything"])
def test_a_product_page_costs_the_same_for_5_or_50(testapp, shelf, count_statements,
                                                   params, most):
    small, few = _count(count_statements, testapp, f"{API}/products", {**params, "per_page": 5})
    large, many = _count(count_statements, testapp, f"{API}/products",
                         {**params, "per_page": 50})
    assert len(small.json["items"]) == 5
    assert len(large.json["items"]) == min(50, large.json["total"]) > 5
    assert len(few) == len(many), f"5 products:\n{few}\n50 products:\n{many}"
    assert len(many) <= most, f"\n{many}"


def test_a_category_page_costs_the_same_for_5_or_50(testapp, shelf, count_statements):
    url = f"{API}/categories/t-shelf/products"
    small, few = _count(count_statements, testapp, url, {"per_page": 5})
    large, many = _count(count_statements, testapp, url, {"per_page": 50})
    assert len(small.json["items"]) == 5 and len(large.json["items"]) == 50
    assert len(few) == len(many), f"5 products:\n{few}\n50 products:\n{many}"
    assert len(many) <= 8, f"\n{many}"


def test_a_product_costs_the_same_with_1_or_20_variants(testapp, every_plugin, make_product,
                                                        count_statements):
    one = make_product("Plain", images=[{"url": "https://cdn.example.com/plain.jpg"}],
                       variants=[{"price": "1.00", "stock": 1,
                                  "options": {"Size": "S", "Colour": "Red"}}])
    twenty = make_product("Many sizes", images=[
        {"url": f"https://cdn.example.com/many-{n}.jpg"} for n in range(3)], variants=[
        {"price": f"{n + 1}.00", "stock": n, "options": {"Size": f"S{n}", "Colour": "Red"}}
        for n in range(20)])
    small, few = _count(count_statements, testapp, f"{API}/products/{one.id}", {})
    large, many = _count(count_statements, testapp, f"{API}/products/{twenty.slug}", {})
    assert len(small.json["variants"]) == 1 and len(large.json["variants"]) == 20
    assert len(few) == len(many), f"1 variant:\n{few}\n20 variants:\n{many}"
    assert len(many) <= 5, f"\n{many}"
