"""The baseline: the framework's own limit on this machine.

A bare Pyramid application with one view, ``GET /baseline/products/{id}``, that runs
one indexed SELECT (a product row by primary key) with SQLAlchemy Core and answers it
as JSON. It reads the same ini file as Emporium (the same database, the same pool
settings) and bench/server.py serves it exactly as it serves Emporium, so the ratio
of an endpoint's requests per second to the baseline's is what Emporium's own work
costs.
"""
import sqlalchemy as sa
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound

PRODUCT = sa.text("SELECT id, name, slug, brand, price_min FROM catalog_product WHERE id = :id")


def product(request):
    try:
        product_id = int(request.matchdict["id"])
    except ValueError:
        raise HTTPNotFound() from None
    with request.registry["engine"].connect() as connection:
        row = connection.execute(PRODUCT, {"id": product_id}).one_or_none()
    if row is None:
        raise HTTPNotFound()
    return dict(row._mapping)


def make_app(settings):
    config = Configurator(settings=settings)
    config.registry["engine"] = sa.engine_from_config(settings, "sqlalchemy.")
    config.add_route("product", "/baseline/products/{id}")
    config.add_view(product, route_name="product", renderer="json")
    return config.make_wsgi_app()
