"""Request schemas (validation) and response schemas (the OpenAPI document).

Every bound is explicit: a number or a string the database cannot store is a
400 here, never a database error later.
"""
import re
from decimal import Decimal

from marshmallow import (RAISE, Schema, ValidationError, fields, pre_load, validate,
                         validates_schema)

from core.api.pagination import PageQuery, PageSchema
from core.api.schemas import RequestSchema
from core.money import MoneyAmount

MAX_ID = 2**31 - 1
MAX_QUANTITY = 10**9
MAX_POSITION = 10**6
MAX_PRICE = Decimal(10**9)  # major units; far below what BIGINT minor units hold

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
SORTS = ("price", "-price", "name", "-name", "newest")
OPTION_PREFIX = "option."


class Text(fields.String):
    """A string PostgreSQL can store: it refuses NUL characters."""

    default_error_messages = {"nul": "The text must not contain NUL characters."}

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in value:
            raise self.make_error("nul")
        return value


def Name(max_length, **kwargs):  # noqa: N802 (a field factory)
    return Text(validate=validate.Length(min=1, max=max_length), **kwargs)


def is_slug(value):
    return isinstance(value, str) and len(value) <= 200 and bool(SLUG.match(value)) \
        and not value.isdigit()


def _slug(value):
    if not is_slug(value):
        raise ValidationError("Use lower-case letters, digits and single hyphens "
                              "(not digits only), at most 200 characters.")


def Slug(**kwargs):  # noqa: N802
    return Text(validate=_slug, **kwargs)


def Id(**kwargs):  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Position(**kwargs):  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=-MAX_POSITION,
                                                               max=MAX_POSITION), **kwargs)


def Price(**kwargs):  # noqa: N802
    return MoneyAmount(validate=validate.Range(max=MAX_PRICE), **kwargs)


def Sku(**kwargs):  # noqa: N802
    return Text(validate=[validate.Length(min=1, max=64), validate.Regexp(
        SKU, error="Use letters, digits and . _ / - (starting with a letter or digit).")],
        **kwargs)


def Currency(**kwargs):  # noqa: N802
    return fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$"), metadata={
        "description": "default and only accepted value: the shop currency"}, **kwargs)


# --- queries ------------------------------------------------------------------------------


class ProductListQuery(PageQuery, RequestSchema):
    """``option.<Name>=<value>`` parameters are collected into ``options``."""

    class Meta:
        unknown = RAISE

    q = Text(validate=validate.Length(max=200), metadata={
        "description": "keywords; every word must start a word of the name, brand, "
                       "description or a SKU"})
    category = Text(validate=validate.Length(max=200), metadata={
        "description": "category slug; includes its sub-categories"})
    brand = fields.List(Text(validate=validate.Length(max=200)), metadata={
        "description": "repeat for several brands (any of them)"})
    min_price = Price(metadata={"description": "a variant costs at least this (shop currency)"})
    max_price = Price(metadata={"description": "a variant costs at most this"})
    in_stock = fields.Boolean(metadata={"description": "true: a variant is available"})
    options = fields.Dict(
        keys=Text(validate=validate.Length(min=1, max=100)),
        values=Text(validate=validate.Length(min=1, max=500)),
        metadata={"description": "sent as option.<Name>=<value>[,<value>...]; one variant "
                                 "must match every option filter, the price range and "
                                 "in_stock together"})
    sort = fields.String(validate=validate.OneOf(SORTS), metadata={
        "description": "default: relevance when q is given (PostgreSQL), else newest"})
    facets = fields.Boolean(load_default=False, metadata={
        "description": "also count the matching products per brand and category"})
    include_inactive = fields.Boolean(load_default=False, metadata={
        "description": "staff only: list inactive products too"})

    @pre_load
    def _collect_options(self, data, **kwargs):
        options = {k[len(OPTION_PREFIX):]: v for k, v in data.items()
                   if k.startswith(OPTION_PREFIX)}
        if not options:
            return data
        rest = {k: v for k, v in data.items() if not k.startswith(OPTION_PREFIX)}
        rest["options"] = options
        return rest

    @validates_schema
    def _price_range(self, data, **kwargs):
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            raise ValidationError("min_price is above max_price.", "min_price")


class ImportQuery(RequestSchema):
    format = fields.String(validate=validate.OneOf(("csv", "json")), metadata={
        "description": "default: from the Content-Type (text/csv or application/json)"})
    partial = fields.Boolean(load_default=False, metadata={
        "description": "import the good products even if others are rejected"})


# --- bodies --------------------------------------------------------------------------------


class CategoryBody(RequestSchema):
    name = Name(200, required=True)
    slug = Slug(metadata={"description": "default: made from the name"})
    parent_id = Id(allow_none=True)
    position = Position()
    description = Text(validate=validate.Length(max=20000))


class CategoryPatch(CategoryBody):
    """Used with partial=True: any subset of the fields."""


class ImageBody(RequestSchema):
    url = fields.Url(required=True, relative=True, schemes={"http", "https"},
                     validate=validate.Length(max=2000))
    alt = Text(validate=validate.Length(max=300))


class OptionBody(RequestSchema):
    name = Name(100, required=True)
    values = fields.List(Name(100), required=True, validate=validate.Length(min=1, max=100))


class VariantBody(RequestSchema):
    sku = Sku(required=True)
    price = Price(required=True)
    compare_at_price = Price(allow_none=True)
    currency = Currency()
    weight_grams = fields.Integer(strict=True, allow_none=True,
                                  validate=validate.Range(min=0, max=10**7))
    options = fields.Dict(keys=Name(100), values=Name(100), metadata={
        "description": "option name -> value, e.g. {\"Size\": \"M\"}"})
    stock = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_QUANTITY),
                           metadata={"description": "units on hand when created"})
    position = Position()


class VariantPatch(VariantBody):
    class Meta:
        exclude = ("stock",)


class ProductBody(RequestSchema):
    name = Name(300, required=True)
    slug = Slug(metadata={"description": "default: made from the name"})
    description = Text(validate=validate.Length(max=100_000))
    brand = Text(allow_none=True, validate=validate.Length(max=200))
    category_id = Id(allow_none=True)
    is_active = fields.Boolean()
    images = fields.List(fields.Nested(ImageBody), validate=validate.Length(max=50))
    options = fields.List(fields.Nested(OptionBody), validate=validate.Length(max=10), metadata={
        "description": "the order of options and values; default: as the variants name them"})
    variants = fields.List(fields.Nested(VariantBody), validate=validate.Length(max=250))


class ProductPatch(ProductBody):
    class Meta:
        exclude = ("variants",)


class StockChangeBody(RequestSchema):
    change = fields.Integer(strict=True, validate=[
        validate.Range(min=-MAX_QUANTITY, max=MAX_QUANTITY),
        validate.NoneOf([0], error="A change of 0 changes nothing.")],
        metadata={"description": "units to add (positive) or remove (negative)"})
    on_hand = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_QUANTITY),
                             metadata={"description": "or: the counted number of units"})
    reason = Name(300, required=True)
    reference = Text(allow_none=True, validate=validate.Length(max=200))

    @validates_schema
    def _one_of(self, data, **kwargs):
        if ("change" in data) == ("on_hand" in data):
            raise ValidationError("Give either change or on_hand.", "change")


# --- answers: for the OpenAPI document --------------------------------------------------------


class Answer(Schema):
    """Describes an answer in the OpenAPI document without re-serializing it.

    The views build plain JSON values already (representation.py), with the
    fields other plugins add through the ``serialize`` hook, which a marshmallow
    dump would drop; dumping hundreds of variants again would also cost a
    list request a fifth of its time.
    """

    def dump(self, obj, *, many=None):
        return obj


class CategoryRefSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()


class ImageSchema(Schema):
    url = fields.String()
    alt = fields.String()


class OptionSchema(Schema):
    name = fields.String()
    values = fields.List(fields.String())


class VariantSchema(Answer):
    id = fields.Integer()
    sku = fields.String()
    options = fields.Dict(keys=fields.String(), values=fields.String())
    price = fields.String(metadata={"description": "decimal string"})
    compare_at_price = fields.String(allow_none=True)
    currency = fields.String()
    weight_grams = fields.Integer(allow_none=True)
    stock_available = fields.Integer()
    in_stock = fields.Boolean()


class ProductSchema(Answer):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()
    description = fields.String()
    brand = fields.String(allow_none=True)
    category = fields.Nested(CategoryRefSchema, allow_none=True)
    images = fields.List(fields.Nested(ImageSchema))
    options = fields.List(fields.Nested(OptionSchema))
    variants = fields.List(fields.Nested(VariantSchema))
    price = fields.String(allow_none=True, metadata={"description": "the lowest variant price"})
    price_max = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    in_stock = fields.Boolean()
    is_active = fields.Boolean()
    created_at = fields.String()
    updated_at = fields.String()


class CountSchema(Schema):
    value = fields.String()
    count = fields.Integer()


class CategoryCountSchema(CategoryRefSchema):
    count = fields.Integer()


class FacetsSchema(Schema):
    brands = fields.List(fields.Nested(CountSchema))
    categories = fields.List(fields.Nested(CategoryCountSchema))


class ProductPageSchema(PageSchema, Answer):
    items = fields.List(fields.Nested(ProductSchema))
    facets = fields.Nested(FacetsSchema)


class CategoryNodeSchema(Answer):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    position = fields.Integer()
    description = fields.String()
    children = fields.List(fields.Nested(lambda: CategoryNodeSchema()))


class CategoryTreeSchema(Answer):
    items = fields.List(fields.Nested(CategoryNodeSchema))


class CategoryDetailSchema(CategoryNodeSchema):
    path = fields.List(fields.Nested(CategoryRefSchema), metadata={
        "description": "the categories from the root down to this one (breadcrumbs)"})


class StockSchema(Schema):
    variant_id = fields.Integer()
    sku = fields.String()
    on_hand = fields.Integer()
    reserved = fields.Integer()
    available = fields.Integer()


class MovementSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    on_hand_change = fields.Integer()
    reserved_change = fields.Integer()
    on_hand_after = fields.Integer()
    reserved_after = fields.Integer()
    reason = fields.String()
    reference = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    created_at = fields.String()


class MovementPageSchema(PageSchema, Answer):
    items = fields.List(fields.Nested(MovementSchema))
    stock = fields.Nested(StockSchema)


class ImportRowSchema(Schema):
    row = fields.Integer()
    rows = fields.List(fields.Integer())
    slug = fields.String(allow_none=True)
    id = fields.Integer(allow_none=True)
    reason = fields.String()
    errors = fields.Dict()


class ImportReportSchema(Answer):
    created = fields.List(fields.Nested(ImportRowSchema))
    updated = fields.List(fields.Nested(ImportRowSchema))
    rejected = fields.List(fields.Nested(ImportRowSchema))
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    applied = fields.Boolean()


# --- import (rows come from CSV as strings: numbers are not strict here) --------------------


class ImportImage(RequestSchema):
    url = fields.Url(required=True, relative=True, schemes={"http", "https"},
                     validate=validate.Length(max=2000))
    alt = Text(validate=validate.Length(max=300))


class ImportVariant(RequestSchema):
    sku = Sku(required=True)
    price = Price()
    compare_at_price = Price(allow_none=True)
    currency = Currency()
    weight_grams = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=10**7))
    stock = fields.Integer(validate=validate.Range(min=0, max=MAX_QUANTITY), metadata={
        "description": "units on hand after the import"})
    options = fields.Dict(keys=Name(100), values=Name(100))


class ImportProduct(RequestSchema):
    slug = Slug(required=True)
    name = Name(300)
    description = Text(validate=validate.Length(max=100_000))
    brand = Text(allow_none=True, validate=validate.Length(max=200))
    category = Text(allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "the slug of an existing category"})
    is_active = fields.Boolean()
    images = fields.List(fields.Nested(ImportImage), validate=validate.Length(max=50))
    variants = fields.List(fields.Nested(ImportVariant), validate=validate.Length(max=250))
