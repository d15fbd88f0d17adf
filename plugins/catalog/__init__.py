"""The catalog: categories, products with options and variants, stock, search, import.

Public routes answer anyone (only active products); writes need ``catalog.manage``
(staff). Other plugins use ``plugins.catalog.services`` (variants and prices) and
``plugins.catalog.inventory`` (reserve, release, commit, restock) from Python.
"""
from marshmallow import Schema, ValidationError, fields, validate, validates

from core.money import validate_currency
from core.plugins import Manifest


class CatalogSettings(Schema):
    default_currency = fields.String(load_default="EUR", metadata={
        "description": "ISO 4217 code every price of the shop is in"})
    cache_max_age = fields.Integer(load_default=60, validate=validate.Range(min=0, max=86400),
                                   metadata={"description": "seconds a CDN or browser may reuse "
                                                            "a public catalog answer"})
    low_stock_threshold = fields.Integer(
        load_default=5, validate=validate.Range(min=0, max=1_000_000),
        metadata={"description": "units available at or below which a variant is low on "
                                 "stock: on the admin dashboard and in the staff alert"})
    low_stock_alerts = fields.Boolean(
        load_default=True, metadata={"description": "e-mail staff when variants run low on "
                                                    "stock (the job catalog.low_stock_alert)"})

    @validates("default_currency")
    def _currency(self, value, **kwargs):
        try:
            validate_currency(value)
        except ValueError:
            raise ValidationError(
                "Use a three-letter ISO 4217 code in capitals, such as EUR.") from None


manifest = Manifest(
    name="catalog",
    version="1.1.0",
    title="Catalog",
    summary="Categories, products with options and variants, inventory, search and import",
    default=True,
    settings=CatalogSettings,
    requires_kernel=">=0.1,<1",
)


def includeme(config):
    # public reads (cached by CDNs and browsers) and the staff writes on the same paths
    config.add_route("catalog.products", "/products")
    config.add_route("catalog.product", "/products/{ref}")
    config.add_route("catalog.product_variants", "/products/{ref}/variants")
    config.add_route("catalog.categories", "/categories")
    config.add_route("catalog.category", "/categories/{ref}")
    config.add_route("catalog.category_products", "/categories/{ref}/products")
    # staff only
    config.add_route("catalog.variant", "/variants/{id}")
    config.add_route("catalog.variant_stock", "/variants/{id}/stock")
    config.add_route("catalog.import", "/catalog/import")
    config.scan(".views")
    config.include(".admin")  # the merchant admin's pages, under /admin/catalog
