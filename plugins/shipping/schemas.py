"""Request schemas (validation) and answer schemas (the OpenAPI document).

Every bound is explicit, so that a value the database cannot hold is a 400 here. Rules
that need more than one field or the stored row (a flat method needs a price, tiers
start at 0) are checked by ``services`` on the merged values, for a PATCH too.
"""
import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.accounts.countries import COUNTRY_CODES
from core.accounts.schemas import NOT_EMPTY, Country, Text
from core.api.pagination import PageQuery, PageSchema
from core.api.schemas import RequestSchema
from core.money import MoneyAmount
from plugins.catalog.schemas import MAX_ID, Answer

from .models import ANYWHERE, KINDS

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_AMOUNT = 10**9  # major units; far below what BIGINT minor units hold
MAX_GRAMS = 10**9
MAX_DAYS = 365
MAX_POSITION = 10**6
MAX_AREAS = 500
MAX_TIERS = 50
MAX_ITEMS = 1000
MAX_NOTE = 2000


def Name(max_length, **kwargs):  # noqa: N802 (a field factory)
    return Text(max_length=max_length, validate=NOT_EMPTY, **kwargs)


def Code(max_length, **kwargs):  # noqa: N802
    return Text(max_length=max_length, validate=[NOT_EMPTY, validate.Regexp(
        CODE, error="Use lower-case letters, digits, - and _, starting with a letter or "
                    "digit.")], **kwargs)


def Amount(**kwargs):  # noqa: N802
    return MoneyAmount(validate=validate.Range(min=0, max=MAX_AMOUNT), **kwargs)


def Days(**kwargs):  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_DAYS), **kwargs)


def Position(**kwargs):  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=-MAX_POSITION,
                                                               max=MAX_POSITION), **kwargs)


def patch(schema_class):
    """An instance of ``schema_class`` for PATCH: any subset of its top-level fields (the
    fields of nested objects keep their own rules)."""
    return schema_class(partial=tuple(schema_class._declared_fields))


class CountryOrAnywhere(Text):
    """An ISO 3166-1 alpha-2 code ("de" is read as "DE"), or ``*``: the rest of the world."""

    default_error_messages = {
        "country": "Not an ISO 3166-1 alpha-2 country code (such as DE or US), nor *.",
    }

    def __init__(self, **kwargs):
        super().__init__(max_length=2, **kwargs)
        self.metadata.setdefault("description", "ISO 3166-1 alpha-2 code such as DE, or * "
                                                "for every country no other zone names")

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).upper()
        if value != ANYWHERE and value not in COUNTRY_CODES:
            raise self.make_error("country")
        return value


# --- zones and methods ---------------------------------------------------------------


class AreaBody(RequestSchema):
    country = CountryOrAnywhere(required=True)
    region = Text(max_length=100, load_default="", metadata={
        "description": "a region of the country, compared with the address's state "
                       "(case aside); empty: the whole country"})

    @validates_schema
    def _no_region_of_anywhere(self, data, **kwargs):
        if data.get("country") == ANYWHERE and data.get("region"):
            raise ValidationError("The rest of the world has no regions.", "region")


class ZoneBody(RequestSchema):
    name = Name(200, required=True)
    areas = fields.List(fields.Nested(AreaBody), required=True, validate=validate.Length(
        min=1, max=MAX_AREAS), metadata={"description": "the countries and regions served; "
                                                        "each belongs to one zone only"})
    is_active = fields.Boolean(load_default=True)
    position = Position(load_default=0)


class TierBody(RequestSchema):
    # grams (an integer) for a weight rate, an amount ("50.00") for a value rate
    start = fields.Raw(required=True, data_key="from", metadata={
        "description": "grams (an integer) for kind weight, an amount such as \"50.00\" for "
                       "kind value; the first tier is from 0"})
    price = Amount(required=True)


class MethodBody(RequestSchema):
    code = Code(64, required=True, metadata={
        "description": "what a checkout sends as shipping_method; unique in the shop"})
    name = Name(200, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={
        "description": "flat (price), weight or value (tiers), free (from free_over)"})
    price = Amount(allow_none=True, metadata={"description": "kind flat only"})
    tiers = fields.List(fields.Nested(TierBody), validate=validate.Length(max=MAX_TIERS),
                        metadata={"description": "kinds weight and value: [{from, price}]"})
    free_over = Amount(allow_none=True, metadata={
        "description": "free from this order value (after discounts); required for kind "
                       "free, which is not offered below it"})
    max_weight_grams = fields.Integer(strict=True, allow_none=True, validate=validate.Range(
        min=0, max=MAX_GRAMS), metadata={"description": "not offered above this weight"})
    min_days = Days(required=True)
    max_days = Days(required=True)
    is_active = fields.Boolean(load_default=True)
    position = Position(load_default=0)


class ZoneListQuery(PageQuery, RequestSchema):
    pass


class MethodsQuery(RequestSchema):
    country = Country(required=True)
    region = Text(max_length=100, load_default="", metadata={
        "description": "the address's state, for zones that serve regions"})


# --- carriers --------------------------------------------------------------------------


def _tracking_template(value):
    if value and "{tracking_number}" not in value:
        raise ValidationError("Put {tracking_number} where the tracking number goes.")
    if value and not value.startswith(("https://", "http://")):
        raise ValidationError("Start the address with https:// or http://.")


class CarrierBody(RequestSchema):
    code = Code(40, required=True)
    name = Name(100, required=True)
    tracking_url = Text(max_length=500, load_default="", validate=_tracking_template,
                        metadata={"description": "the tracking page with {tracking_number}, "
                                                 "such as https://track.example/?n="
                                                 "{tracking_number}"})


class CarrierPatch(CarrierBody):
    class Meta(CarrierBody.Meta):
        exclude = ("code",)


# --- shipments -------------------------------------------------------------------------


class ShipmentItemBody(RequestSchema):
    item_id = fields.Integer(strict=True, required=True, validate=validate.Range(
        min=1, max=MAX_ID), metadata={"description": "the id of one of the order's items"})
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(
        min=1, max=10**9))


class ShipmentBody(RequestSchema):
    items = fields.List(fields.Nested(ShipmentItemBody), validate=validate.Length(
        min=1, max=MAX_ITEMS), metadata={"description": "default: every unit not shipped yet"})
    carrier = Text(max_length=100, load_default="", metadata={
        "description": "a carrier's code or name (its tracking page makes tracking_url), or "
                       "any name"})
    tracking_number = Text(max_length=100, load_default="")
    tracking_url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=1000),
                              metadata={"description": "default: from the carrier's template"})
    note = Text(max_length=MAX_NOTE, load_default="")

    @validates_schema
    def _items_once(self, data, **kwargs):
        seen = set()
        for index, item in enumerate(data.get("items") or ()):
            if item["item_id"] in seen:
                raise ValidationError("Name each item once.", f"items.{index}.item_id")
            seen.add(item["item_id"])


class DeliverBody(RequestSchema):
    note = Text(max_length=MAX_NOTE, load_default="")


# --- answers -----------------------------------------------------------------------------


class TierSchema(Schema):
    start = fields.Raw(data_key="from")
    price = fields.String()


class MethodSchema(Schema):
    id = fields.Integer()
    zone_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    price = fields.String(allow_none=True)
    tiers = fields.List(fields.Nested(TierSchema))
    free_over = fields.String(allow_none=True)
    max_weight_grams = fields.Integer(allow_none=True)
    min_days = fields.Integer()
    max_days = fields.Integer()
    currency = fields.String()
    is_active = fields.Boolean()
    position = fields.Integer()


class AreaSchema(Schema):
    country = fields.String()
    region = fields.String()


class ZoneSchema(Answer):
    id = fields.Integer()
    name = fields.String()
    areas = fields.List(fields.Nested(AreaSchema))
    is_active = fields.Boolean()
    position = fields.Integer()
    methods = fields.List(fields.Nested(MethodSchema))


class ZonePageSchema(PageSchema, Answer):
    items = fields.List(fields.Nested(ZoneSchema))


class MethodAnswer(MethodSchema, Answer):
    pass


class PublicMethodsSchema(Answer):
    country = fields.String()
    region = fields.String()
    zone = fields.Dict(allow_none=True, metadata={"description": "{id, name} or null"})
    items = fields.List(fields.Nested(MethodSchema))


class CarrierSchema(Answer):
    code = fields.String()
    name = fields.String()
    tracking_url = fields.String()


class CarrierListSchema(Answer):
    items = fields.List(fields.Nested(CarrierSchema))


class FulfillmentSchema(Answer):
    number = fields.String()
    order_status = fields.String()
    status = fields.String(metadata={
        "description": "unshipped, partially_shipped, shipped or delivered"})
    items = fields.List(fields.Dict())
    shipments = fields.List(fields.Dict())
