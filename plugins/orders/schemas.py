"""Request schemas (validation) and answer schemas (the OpenAPI document).

Every bound is explicit: a value the database cannot store is a 400 here, never a
database error later.
"""
from marshmallow import (Schema, ValidationError, fields, post_load, validate,
                         validates_schema)

from core.accounts.schemas import NOT_EMPTY, AddressBody, Text
from core.api.pagination import PageQuery, PageSchema
from core.api.schemas import RequestSchema, UTCDateTime
from core.money import MoneyAmount
from plugins.catalog.schemas import MAX_ID, Answer

from .models import STATUSES

MAX_CODES = 20
MAX_POINTS = 10**9
MAX_NOTE = 2000
IDEMPOTENCY_KEY = "Idempotency-Key"


def Id(**kwargs):  # noqa: N802 (a field factory)
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Codes(description):  # noqa: N802
    return fields.List(Text(max_length=64, validate=NOT_EMPTY),
                       validate=validate.Length(max=MAX_CODES), load_default=list,
                       metadata={"description": description})


class OrderAddress(AddressBody):
    """An address as the address book takes it (without is_default)."""

    class Meta(AddressBody.Meta):
        exclude = ("is_default",)


def Address(**kwargs):  # noqa: N802
    return fields.Nested(OrderAddress, **kwargs)


class QuoteBody(RequestSchema):
    shipping_address = Address(metadata={
        "description": "where the order goes; or address_id, a saved address"})
    address_id = Id(metadata={"description": "one of the customer's saved addresses"})
    billing_address = Address(metadata={"description": "default: the shipping address"})
    shipping_method = Text(max_length=64, validate=NOT_EMPTY, allow_none=True, metadata={
        "description": "the code of one of the quote's shipping_options"})
    coupon_codes = Codes("coupon codes to apply (plugin coupons)")
    gift_card_codes = Codes("gift cards to pay with (plugin giftcards)")
    loyalty_points = fields.Integer(strict=True, load_default=0, validate=validate.Range(
        min=0, max=MAX_POINTS), metadata={"description": "points to pay with (plugin loyalty)"})

    @validates_schema
    def _one_address(self, data, **kwargs):
        if data.get("shipping_address") is not None and data.get("address_id") is not None:
            raise ValidationError("Send shipping_address or address_id, not both.",
                                  "address_id")

    @post_load
    def _unique_codes(self, data, **kwargs):
        for key in ("coupon_codes", "gift_card_codes"):
            data[key] = list(dict.fromkeys(data.get(key, [])))
        return data


class OrderBody(QuoteBody):
    payment_method = Text(max_length=40, validate=NOT_EMPTY, metadata={
        "description": "a provider of GET /checkout/payment-methods; default: the shop's "
                       "(setting default_payment_method)"})
    note = Text(max_length=MAX_NOTE, load_default="", metadata={
        "description": "a note from the customer to the shop"})


class CustomerOrdersQuery(PageQuery, RequestSchema):
    pass


class StaffOrdersQuery(PageQuery, RequestSchema):
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)), metadata={
        "description": "repeat for several statuses"})
    number = Text(max_length=32, metadata={"description": "the number, or its beginning"})
    email = Text(max_length=254, metadata={"description": "part of the customer's e-mail"})
    user_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    placed_from = UTCDateTime(metadata={"description": "placed at or after"})
    placed_to = UTCDateTime(metadata={"description": "placed before"})


class NoteBody(RequestSchema):
    note = Text(max_length=MAX_NOTE, load_default="", metadata={
        "description": "kept in the status history"})


class ShipBody(NoteBody):
    carrier = Text(max_length=100, load_default="")
    tracking_number = Text(max_length=100, load_default="")
    tracking_url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=1000),
                              metadata={"description": "the parcel's tracking page, linked "
                                                       "in the customer's shipped mail"})


class ReturnBody(NoteBody):
    restock = fields.Boolean(load_default=True, metadata={
        "description": "put the returned units back on sale"})


class RefundLineBody(RequestSchema):
    id = Id(required=True, metadata={"description": "an item's id"})
    quantity = fields.Integer(strict=True, required=True,
                              validate=validate.Range(min=1, max=10**9))


class RefundBody(NoteBody):
    amount = MoneyAmount(validate=validate.Range(min=0, min_inclusive=False, max=10**12),
                         metadata={"description": "default: everything not refunded yet"})
    lines = fields.List(fields.Nested(RefundLineBody), validate=validate.Length(min=1, max=1000),
                        metadata={"description": "refund these units at what was paid for "
                                                 "them (instead of amount)"})

    @validates_schema
    def _amount_or_lines(self, data, **kwargs):
        if data.get("amount") is not None and data.get("lines"):
            raise ValidationError("Send amount or lines, not both.", "lines")


class StaffNoteBody(RequestSchema):
    note = Text(max_length=MAX_NOTE, required=True, validate=NOT_EMPTY)


# --- answers ---------------------------------------------------------------------------------


class AdjustmentSchema(Schema):
    source = fields.String()
    code = fields.String(allow_none=True)
    amount = fields.String(metadata={"description": "decimal string"})


class ShippingOptionSchema(Schema):
    code = fields.String()
    name = fields.String()
    price = fields.String()
    min_days = fields.Integer(allow_none=True)
    max_days = fields.Integer(allow_none=True)


class ErrorEntrySchema(Schema):
    code = fields.String()
    message = fields.String()
    item_id = fields.Integer()
    field = fields.String()


class QuoteSchema(Answer):
    items = fields.List(fields.Dict())
    subtotal = fields.String()
    discounts = fields.List(fields.Nested(AdjustmentSchema))
    discount_total = fields.String()
    shipping_options = fields.List(fields.Nested(ShippingOptionSchema))
    shipping_method = fields.String(allow_none=True)
    shipping = fields.String()
    taxes = fields.List(fields.Dict())
    tax = fields.String()
    total = fields.String()
    tenders = fields.List(fields.Nested(AdjustmentSchema))
    tender_total = fields.String()
    amount_due = fields.String()
    currency = fields.String()
    errors = fields.List(fields.Nested(ErrorEntrySchema))


class PaymentSchema(Schema):
    provider = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "pending, paid, failed, cancelled, or "
                                                    "not_required (tenders paid it all)"})
    client_secret = fields.String(allow_none=True)
    instructions = fields.String()


class OrderSchema(Answer):
    number = fields.String()
    status = fields.String()
    items = fields.List(fields.Dict())
    subtotal = fields.String()
    discounts = fields.List(fields.Nested(AdjustmentSchema))
    shipping = fields.String()
    tax = fields.String()
    total = fields.String()
    tenders = fields.List(fields.Nested(AdjustmentSchema))
    amount_due = fields.String()
    paid = fields.String()
    refunded = fields.String()
    currency = fields.String()
    payment = fields.Nested(PaymentSchema)
    status_history = fields.List(fields.Dict())
    shipments = fields.List(fields.Dict())
    can_cancel = fields.Boolean()
    placed_at = fields.String()


class OrderPageSchema(PageSchema, Answer):
    items = fields.List(fields.Nested(OrderSchema))


class PaymentMethodSchema(Schema):
    name = fields.String()
    title = fields.String()


class PaymentMethodsSchema(Answer):
    items = fields.List(fields.Nested(PaymentMethodSchema))
