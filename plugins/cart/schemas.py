"""Request schemas (validation) and response schemas (the OpenAPI document).

The per-line limit is a setting, checked by the service; the bound here only keeps
a number the database cannot store from reaching it.
"""
from marshmallow import fields, validate

from core.api.schemas import RequestSchema
from plugins.catalog.schemas import MAX_ID, Answer

MAX_QUANTITY = 10**6


def Quantity(**kwargs):  # noqa: N802 (a field factory)
    return fields.Integer(strict=True, validate=validate.Range(
        min=1, max=MAX_QUANTITY, error="Must be a whole number from {min} to {max}."),
        metadata={"description": "units; at most the max_quantity_per_line setting"},
        **kwargs)


class ItemBody(RequestSchema):
    variant_id = fields.Integer(strict=True, required=True,
                                validate=validate.Range(min=1, max=MAX_ID))
    quantity = Quantity(required=True)


class QuantityBody(RequestSchema):
    quantity = Quantity(required=True)


# --- answers: for the OpenAPI document (the views build the JSON, see representation.py) ----


class CartItemSchema(Answer):
    id = fields.Integer()
    variant_id = fields.Integer()
    product_id = fields.Integer()
    product_slug = fields.String()
    name = fields.String()
    sku = fields.String()
    options = fields.Dict(keys=fields.String(), values=fields.String())
    image_url = fields.String(allow_none=True)
    quantity = fields.Integer()
    unit_price = fields.String(metadata={"description": "decimal string, from the catalog now"})
    line_total = fields.String(metadata={"description": "unit_price times quantity"})
    currency = fields.String()
    available = fields.Boolean(metadata={"description": "the line can be ordered as it is"})
    available_quantity = fields.Integer(metadata={"description": "units the shop can sell now"})
    problems = fields.List(fields.String(), metadata={
        "description": "unavailable, currency_mismatch, out_of_stock, insufficient_stock, "
                       "quantity_above_limit"})


class CartSchema(Answer):
    id = fields.Integer(allow_none=True, metadata={"description": "null: no cart yet"})
    items = fields.List(fields.Nested(CartItemSchema))
    subtotal = fields.String(metadata={"description": "decimal string"})
    currency = fields.String()
    item_count = fields.Integer(metadata={"description": "units in the cart"})
    line_count = fields.Integer(metadata={"description": "items (lines) in the cart"})
    has_problems = fields.Boolean(metadata={"description": "some item cannot be ordered as "
                                                           "it is"})
    expires_at = fields.String(allow_none=True, metadata={
        "description": "when a guest cart expires unless changed before; null for customers"})
    updated_at = fields.String(allow_none=True)
