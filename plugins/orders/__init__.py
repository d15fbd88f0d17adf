"""Orders: the checkout pipeline, quotes, idempotent order placement, the order
lifecycle and payments (with a ``manual`` provider for bank transfer or cash).

The checkout runs the kernel's checkout hooks (``core/hookspecs.py``) in their
phases over the customer's cart; placing an order writes it, reserves its stock
and lets every plugin record its redemptions in one transaction. Customers use
``/checkout/quote`` and ``/orders``; staff use ``/admin/orders`` (permission
``orders.manage``). Other plugins use ``services`` (finding and moving orders)
and ``payments`` (reporting a payment's result) from Python. See docs/checkout.md
and docs/orders.md.
"""
import re

from marshmallow import Schema, ValidationError, fields, validate, validates

from core.plugins import Manifest

NUMBER_PREFIX = re.compile(r"^[A-Z0-9]{0,6}-?$")


class OrdersSettings(Schema):
    number_prefix = fields.String(load_default="EM-", metadata={
        "description": "what every order number starts with: up to 6 capital letters or "
                       "digits and an optional hyphen (EM-7KQ4-M2XD)"})
    payment_pending_minutes = fields.Integer(
        load_default=60, validate=validate.Range(min=5, max=60 * 24 * 90), metadata={
            "description": "minutes an order waits for an online payment before it is "
                           "failed and its stock released"})
    manual_payment_pending_minutes = fields.Integer(
        load_default=60 * 24 * 7, validate=validate.Range(min=5, max=60 * 24 * 90), metadata={
            "description": "minutes an order paid by bank transfer or cash (provider "
                           "manual) waits for staff to mark it paid"})
    default_payment_method = fields.String(load_default="manual", validate=validate.Length(
        min=1, max=40), metadata={"description": "the provider used when an order names none"})
    manual_instructions = fields.String(
        load_default="Pay by bank transfer; we ship once the money arrived.",
        validate=validate.Length(max=2000), metadata={
            "description": "shown with an order paid with the manual provider (bank details, "
                           "cash on delivery terms)"})
    require_shipping_address = fields.Boolean(load_default=True, metadata={
        "description": "an order needs a shipping address (false for digital goods)"})
    refund_on_cancel = fields.Boolean(load_default=True, metadata={
        "description": "cancelling an order gives back at once what was paid on it"})

    @validates("number_prefix")
    def _prefix(self, value, **kwargs):
        if not NUMBER_PREFIX.match(value):
            raise ValidationError("Up to 6 capital letters or digits, optionally followed by "
                                  "a hyphen, such as EM-.")


manifest = Manifest(
    name="orders",
    version="1.1.0",
    title="Orders",
    summary="Checkout, quotes, idempotent order placement, the order lifecycle, payments",
    depends=("cart",),
    default=True,
    settings=OrdersSettings,
)

MANAGE = "orders.manage"


def includeme(config):
    config.declare_permission(MANAGE, "See every order and move orders on: mark paid, ship, "
                                      "deliver, cancel, return, refund, add notes")
    # the customer's side
    config.add_route("orders.quote", "/checkout/quote")
    config.add_route("orders.payment_methods", "/checkout/payment-methods")
    config.add_route("orders.orders", "/orders")
    config.add_route("orders.order", "/orders/{number}")
    config.add_route("orders.cancel", "/orders/{number}/cancel")
    # staff
    config.add_route("orders.admin_orders", "/admin/orders")
    config.add_route("orders.admin_order", "/admin/orders/{number}")
    for action in ("mark-paid", "ship", "deliver", "cancel", "return", "refund", "notes"):
        config.add_route(f"orders.admin_{action.replace('-', '_')}",
                         f"/admin/orders/{{number}}/{action}")
    config.scan(".views")
    config.include(".admin")  # the merchant admin's order desk, under /admin/orders
