"""Coupons: discount codes with rules (percentage, fixed amount, free shipping; minimum
subtotal, dates, categories or products), usage limits that hold under concurrency,
stacking rules, and campaigns of generated single-use codes.

Customers send codes in ``coupon_codes`` of ``/checkout/quote`` and ``/orders``; the
plugin takes part in the orders plugin's checkout (``hooks.py``): it checks the codes
(``checkout_validate``), takes the discounts off (``checkout_discounts``), records each
use in the placing transaction (``order_placed``) and releases it when the order fails
or is cancelled (``order_status_changed``). Staff manage coupons under
``/admin/coupons`` (permission ``coupons.manage``). See docs/coupons.md.
"""
from marshmallow import Schema, fields, validate

from core.plugins import Manifest


class CouponsSettings(Schema):
    max_coupons_per_order = fields.Integer(
        load_default=5, validate=validate.Range(min=1, max=20), metadata={
            "description": "how many coupon codes one order may combine (each coupon must "
                           "also allow combining)"})
    code_length = fields.Integer(
        load_default=8, validate=validate.Range(min=6, max=16), metadata={
            "description": "random characters of a generated code, after its prefix (8 "
                           "characters: about a trillion possible codes)"})


manifest = Manifest(
    name="coupons",
    version="1.0.0",
    title="Coupons",
    summary="Discount codes with rules and limits, stacking, campaigns of single-use codes",
    depends=("orders",),
    default=False,
    settings=CouponsSettings,
)

MANAGE = "coupons.manage"


def includeme(config):
    config.declare_permission(MANAGE, "Create, change and deactivate coupons, generate and "
                                      "export campaign codes, see their use")
    config.add_route("coupons.admin_coupons", "/admin/coupons")
    config.add_route("coupons.admin_coupon", r"/admin/coupons/{id}")
    config.add_route("coupons.admin_deactivate", r"/admin/coupons/{id}/deactivate")
    config.add_route("coupons.admin_codes", r"/admin/coupons/{id}/codes")
    config.add_route("coupons.admin_codes_csv", r"/admin/coupons/{id}/codes.csv")
    config.add_route("coupons.admin_redemptions", r"/admin/coupons/{id}/redemptions")
    config.scan(".views")
    config.include(".admin")  # the merchant admin's pages, under /admin/coupons
