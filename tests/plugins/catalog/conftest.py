"""Factories for catalog tests: categories and products made through the services."""
import itertools
import uuid

import pytest

from plugins.catalog import services
from plugins.catalog.schemas import ProductBody

API = "/api/v1"


@pytest.fixture
def make_category(dbsession):
    def make(name, parent=None, slug=None, position=0):
        data = {"name": name, "position": position}
        if parent is not None:
            data["parent_id"] = parent.id
        if slug is not None:
            data["slug"] = slug
        return services.create_category(dbsession, data)

    return make


@pytest.fixture
def make_product(dbsession):
    """``make_product(name, variants=[{"price": "9.99", "options": {...}, "stock": 3}], ...)``."""
    counter = itertools.count(1)
    run = uuid.uuid4().hex[:6].upper()

    def make(name=None, category=None, variants=None, brand=None, description="",
             is_active=True, images=None, slug=None, options=None):
        number = next(counter)
        if variants is None:
            variants = [{"price": "10.00", "stock": 5}]
        body = {
            "name": name or f"Product {number}",
            "description": description,
            "brand": brand,
            "is_active": is_active,
            "images": images or [],
            "variants": [{"sku": f"T{run}-{number}-{index}", **variant}
                         for index, variant in enumerate(variants)],
        }
        if category is not None:
            body["category_id"] = category.id
        if slug is not None:
            body["slug"] = slug
        if options is not None:
            body["options"] = options
        product = services.create_product(dbsession, ProductBody().load(body), "EUR")
        dbsession.flush()
        return product

    return make


def ids(response):
    return [item["id"] for item in response.json["items"]]
