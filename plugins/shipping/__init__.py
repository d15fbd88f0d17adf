"""Shipping: zones of countries and regions, methods with their rates, options at checkout,
and shipments (in parts) with carriers' tracking links.

At checkout the plugin offers the methods of the zone that serves the shipping address
(``checkout_shipping_options``) and reports an address it does not serve
(``checkout_validate``). Staff record shipments of some or all of an order's items;
the orders plugin's services move the order to shipped once every item has left, and
to delivered once every shipment arrived. Shipments appear in the order's JSON as
``fulfillment`` (``serialize_many``). Staff configure zones, methods and carriers with
``shipping.manage``; shipping an order needs the orders' ``orders.manage``.
See docs/shipping.md.
"""
from marshmallow import Schema, fields, validate

from core.plugins import Manifest


class ShippingSettings(Schema):
    default_weight_grams = fields.Integer(
        load_default=0, validate=validate.Range(min=0, max=10**7), metadata={
            "description": "grams counted for a variant that has no weight, when a method's "
                           "rate depends on the weight"})
    mail_partial_shipments = fields.Boolean(load_default=True, metadata={
        "description": "mail the customer for each shipment that leaves part of the order "
                       "behind (the last one sends the orders plugin's 'shipped' mail)"})


manifest = Manifest(
    name="shipping",
    version="1.0.0",
    title="Shipping",
    summary="Zones, methods and rates, shipping options at checkout, shipments with tracking",
    depends=("orders",),
    default=False,
    settings=ShippingSettings,
)

MANAGE = "shipping.manage"


def includeme(config):
    config.declare_permission(MANAGE, "Configure shipping zones, methods and carriers")
    # public: what a storefront shows before the checkout
    config.add_route("shipping.methods", "/shipping/methods")
    # staff: configuration
    config.add_route("shipping.zones", "/shipping/zones")
    config.add_route("shipping.zone", "/shipping/zones/{id}")
    config.add_route("shipping.zone_methods", "/shipping/zones/{id}/methods")
    config.add_route("shipping.method", "/shipping/methods/{id}")
    config.add_route("shipping.carriers", "/shipping/carriers")
    config.add_route("shipping.carrier", "/shipping/carriers/{code}")
    # staff: an order's shipments (permission orders.manage)
    config.add_route("shipping.shipments", "/shipping/orders/{number}/shipments")
    config.add_route("shipping.deliver",
                     "/shipping/orders/{number}/shipments/{shipment_id}/deliver")
    config.scan(".views")
    config.include(".admin")  # the merchant admin's pages, under /admin/shipping
