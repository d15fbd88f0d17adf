"""Loyalty: points earned on paid orders, paid with at checkout, taken back on refunds,
expiring after a number of months.

Every change of a customer's points is one row of an append-only ledger
(``loyalty_entry``); the balance on the customer's account row
(``loyalty_account``) is the sum of that ledger and never below zero: a debit is a
conditional UPDATE of that row, so two orders spending the same points cannot both
succeed. The plugin takes part in the checkout as a tender (``loyalty_points`` in
the quote and the order) and follows the order's events: points are earned when it
is paid, and taken back or given back when it is refunded. Customers read
``/loyalty/me``; staff read and adjust any account under ``/admin/loyalty``
(permission ``loyalty.manage``). See docs/loyalty.md.
"""
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates

from core.plugins import Manifest

MAX_PLACES = 6  # a point worth 0.000001 of the currency is as fine as it gets


class Exact(fields.Decimal):
    """A decimal sent as a string (or an int), never a float: 0.1 is not exact in binary."""

    default_error_messages = {"float": 'Send a decimal string, such as "0.01".'}

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise self.make_error("float")
        return super()._deserialize(value, attr, data, **kwargs)


def _places(value):
    if value.as_tuple().exponent < -MAX_PLACES:
        raise ValidationError(f"Use at most {MAX_PLACES} decimal places.")


class LoyaltySettings(Schema):
    points_per_unit = Exact(
        load_default=Decimal("1"),
        validate=validate.Range(min=0, max=10_000), metadata={
            "description": "points earned per unit of the shop currency (1 EUR) paid for the "
                           "goods, after discounts, without shipping, tax and the part paid "
                           "with points; 0 earns nothing"})
    point_value = Exact(
        load_default=Decimal("0.01"),
        validate=validate.Range(min=0, min_inclusive=False, max=10_000), metadata={
            "description": "what one point is worth at checkout, in the shop currency "
                           "(0.01: 100 points pay 1.00)"})
    min_redeem_points = fields.Integer(
        load_default=0, validate=validate.Range(min=0, max=10**9), metadata={
            "description": "the fewest points a customer may use on an order"})
    max_redeem_percent = fields.Integer(
        load_default=100, validate=validate.Range(min=0, max=100), metadata={
            "description": "the largest share of an order's total, in percent, that points "
                           "may pay (0: points cannot be used)"})
    expiry_months = fields.Integer(
        load_default=12, validate=validate.Range(min=0, max=120), metadata={
            "description": "months after which earned points expire (0: never)"})

    @validates("points_per_unit")
    def _rate_places(self, value, **kwargs):
        _places(value)

    @validates("point_value")
    def _value_places(self, value, **kwargs):
        _places(value)


manifest = Manifest(
    name="loyalty",
    version="1.0.0",
    title="Loyalty points",
    summary="Points earned on paid orders, redeemed at checkout, reversed on refunds, "
            "expiring",
    depends=("orders",),
    default=False,
    settings=LoyaltySettings,
)

MANAGE = "loyalty.manage"


def includeme(config):
    config.declare_permission(MANAGE, "See every customer's points and adjust them")
    config.add_route("loyalty.me", "/loyalty/me")
    config.add_route("loyalty.admin_accounts", "/admin/loyalty/accounts")
    config.add_route("loyalty.admin_account", "/admin/loyalty/accounts/{user_id}")
    config.add_route("loyalty.admin_adjust", "/admin/loyalty/accounts/{user_id}/adjustments")
    config.scan(".views")
    config.include(".admin")  # the merchant admin's pages, under /admin/loyalty
