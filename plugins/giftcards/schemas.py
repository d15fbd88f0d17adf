"""Request schemas (validation) and answer schemas (the OpenAPI document).

Every bound is explicit: a value the database cannot store is a 400 here, never a
database error later.
"""
from marshmallow import (ValidationError, fields, post_load, validate, validates,
                         validates_schema)

from core.accounts.schemas import NOT_EMPTY, Email, Text
from core.api.pagination import PageQuery, PageSchema
from core.api.schemas import RequestSchema
from core.db import utcnow
from core.money import MoneyAmount
from plugins.catalog.schemas import MAX_ID, Answer

from .codes import READ_AS
from .models import STATES
from .services import MAX_ISSUE

MAX_AMOUNT = 10**9  # major units: far above any card, far below BIGINT in minor units
MAX_NOTE = 2000
MAX_VALID_DAYS = 100 * 365


def _storable(value):
    # year 1 an hour east of UTC is year 0 in UTC: out of range where it is stored
    if value is not None and not 2000 <= value.year <= 9998:
        raise ValidationError("Give a date between the years 2000 and 9998.")


def _future(value):
    _storable(value)
    if value is not None and value <= utcnow():
        raise ValidationError("Must be in the future.")


class LookupBody(RequestSchema):
    code = Text(max_length=64, required=True, validate=NOT_EMPTY, metadata={
        "description": "the code as the customer typed it (any case, hyphens or not)"})


class IssueBody(RequestSchema):
    amount = MoneyAmount(required=True, validate=validate.Range(
        min=0, min_inclusive=False, max=MAX_AMOUNT), metadata={
            "description": "what each card is worth, in the shop's currency"})
    count = fields.Integer(strict=True, load_default=1, validate=validate.Range(
        min=1, max=MAX_ISSUE), metadata={"description": "how many cards to issue"})
    expires_at = fields.AwareDateTime(allow_none=True, validate=_future, metadata={
        "description": "when the cards stop working (UTC); null: never; left out: after "
                       "the setting valid_days"})
    note = Text(max_length=MAX_NOTE, load_default="", metadata={
        "description": "for staff: why the cards were issued"})
    email = Email(metadata={"description": "send the codes to this address as well"})


class CardsQuery(PageQuery, RequestSchema):
    last4 = Text(max_length=4, validate=validate.Regexp(
        "^[0-9A-Za-z]{4}$", error="The last 4 characters of a code."),
        metadata={"description": "the last 4 characters of the code"})
    status = fields.String(validate=validate.OneOf(STATES))
    order = Text(max_length=32, metadata={"description": "the number of the order that "
                                                        "bought the cards"})
    email = Text(max_length=254, metadata={"description": "part of the recipient's e-mail"})

    @post_load
    def _read_last4(self, data, **kwargs):
        if data.get("last4"):
            data["last4"] = data["last4"].upper().translate(READ_AS)
        return data


class CardPatch(RequestSchema):
    is_active = fields.Boolean()
    expires_at = fields.AwareDateTime(allow_none=True, validate=_storable, metadata={
        "description": "null: never expires"})
    note = Text(max_length=MAX_NOTE)

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("Send is_active, expires_at or note.", "_schema")


class AdjustBody(RequestSchema):
    amount = MoneyAmount(required=True, allow_negative=True, validate=validate.Range(
        min=-MAX_AMOUNT, max=MAX_AMOUNT), metadata={
            "description": "added to the balance; negative to take money off"})
    note = Text(max_length=MAX_NOTE, required=True, validate=NOT_EMPTY, metadata={
        "description": "why: kept in the card's ledger"})

    @validates("amount")
    def _not_zero(self, value, **kwargs):
        if value == 0:
            raise ValidationError("Must not be zero.")


class ProductBody(RequestSchema):
    valid_days = fields.Integer(strict=True, allow_none=True, load_default=None,
                                validate=validate.Range(min=0, max=MAX_VALID_DAYS), metadata={
                                    "description": "days the cards sold can be spent; 0: "
                                                   "never expire; null: the setting "
                                                   "valid_days"})


def product_id(value):
    """A product id from the URL, or None."""
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


# --- answers ---------------------------------------------------------------------------------


class CheckSchema(Answer):
    code = fields.String(metadata={"description": "masked: ****-****-****-TR5W"})
    balance = fields.String(metadata={"description": "decimal string"})
    currency = fields.String()
    expires_at = fields.String(allow_none=True, metadata={"description": "UTC; null: never"})
    valid_until = fields.String(allow_none=True, metadata={
        "description": "the last day (UTC) it works, as a date"})
    status = fields.String(metadata={"description": "active, inactive, expired or empty"})


class CardSchema(Answer):
    id = fields.Integer()
    code = fields.String(metadata={"description": "masked, except in the answer that "
                                                  "issued the card"})
    last4 = fields.String()
    currency = fields.String()
    initial_balance = fields.String()
    balance = fields.String()
    status = fields.String()
    is_active = fields.Boolean()
    expires_at = fields.String(allow_none=True)
    valid_until = fields.String(allow_none=True)
    note = fields.String()
    recipient_email = fields.String(allow_none=True)
    order_number = fields.String(allow_none=True)
    created_at = fields.String()
    ledger = fields.List(fields.Dict(), metadata={"description": "one card only"})


class IssuedSchema(Answer):
    items = fields.List(fields.Nested(CardSchema))


class CardPageSchema(PageSchema, Answer):
    items = fields.List(fields.Nested(CardSchema))


class ProductSchema(Answer):
    product_id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    is_active = fields.Boolean()
    valid_days = fields.Integer(allow_none=True)


class ProductListSchema(Answer):
    items = fields.List(fields.Nested(ProductSchema))
