"""Request schemas (validation) and answer schemas (the OpenAPI document).

Every bound is explicit: a value the database cannot store is a 400 here, never a
database error later. Rules that involve several fields (a percentage coupon needs a
percent, a category coupon categories) are checked by ``services`` on the coupon as
it will be, for creation and changes alike.
"""
import re
from decimal import Decimal

from marshmallow import fields, validate

from core.accounts.schemas import Text
from core.api.pagination import PageQuery, PageSchema
from core.api.schemas import RequestSchema
from core.money import MoneyAmount
from plugins.catalog.schemas import MAX_ID, Answer

from .checkout import normalize
from .models import KINDS, SCOPES

MAX_MONEY = Decimal(10**9)  # major units; far below what BIGINT minor units hold
MAX_COUNT = 10**9
MAX_SCOPE = 1000
MAX_GENERATE = 10_000
PERCENT = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
PREFIX = re.compile(r"^[A-Z0-9]{0,20}$")


def Id(**kwargs):  # noqa: N802 (a field factory)
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def Count(**kwargs):  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_COUNT), **kwargs)


class CouponCode(fields.String):
    """A code as staff type it; stored upper-case."""

    default_error_messages = {
        "code": "Use 1 to 64 letters, digits, - and _, starting with a letter or digit."}

    def _deserialize(self, value, attr, data, **kwargs):
        code = normalize(super()._deserialize(value, attr, data, **kwargs))
        if code is None:
            raise self.make_error("code")
        return code


class Percent(fields.Field):
    """A percentage as a decimal string ("12.5") or a whole number, more than 0 and at
    most 100, to the hundredth; loads as hundredths of a percent (1250)."""

    default_error_messages = {
        "invalid": 'Enter the percentage as a decimal string, such as "12.5".',
        "range": "The percentage must be more than 0 and at most 100.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise self.make_error("invalid")  # floats too: 12.5 as binary is not exact
        text = str(value)
        if not PERCENT.match(text):
            raise self.make_error("invalid")
        hundredths = int(Decimal(text) * 100)
        if not 0 < hundredths <= 10000:
            raise self.make_error("range")
        return hundredths


def _money(**kwargs):
    return MoneyAmount(validate=validate.Range(max=MAX_MONEY), **kwargs)


class CouponPatch(RequestSchema):
    """The fields of a coupon; a PATCH sends those it changes."""

    code = CouponCode(allow_none=True, metadata={
        "description": "what customers type (any case; stored upper-case, unique); null: "
                       "the coupon is used through generated codes only"})
    name = Text(max_length=200, metadata={"description": "shown with the discount"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    percent = Percent(allow_none=True, metadata={
        "description": "percentage coupons: the percentage off, such as \"12.5\""})
    amount = _money(allow_none=True, metadata={
        "description": "fixed_amount coupons: the amount off, in the shop currency"})
    currency = fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$"), metadata={
        "description": "default and only accepted value: the coupon's (the shop's) currency"})
    min_subtotal = _money(allow_none=True, metadata={
        "description": "the cart's subtotal (before discounts) must be at least this"})
    starts_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "usable from (UTC); null: at once"})
    ends_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "usable until (UTC, excluded); null: no end"})
    usage_limit = Count(allow_none=True, metadata={
        "description": "uses in total, all codes together; null: no limit"})
    per_customer_limit = Count(allow_none=True, metadata={
        "description": "uses by one customer; null: no limit"})
    applies_to = fields.String(validate=validate.OneOf(SCOPES), metadata={
        "description": "all: every product; categories: products in category_ids (and "
                       "below); products: product_ids"})
    category_ids = fields.List(Id(), validate=validate.Length(max=MAX_SCOPE))
    product_ids = fields.List(Id(), validate=validate.Length(max=MAX_SCOPE))
    combinable = fields.Boolean(metadata={
        "description": "may be used together with other coupons that are combinable too"})
    is_active = fields.Boolean()


class CouponBody(CouponPatch):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name = Text(max_length=200, load_default="")
    applies_to = fields.String(load_default="all", validate=validate.OneOf(SCOPES))
    combinable = fields.Boolean(load_default=False)
    is_active = fields.Boolean(load_default=True)


class CouponListQuery(PageQuery, RequestSchema):
    q = Text(max_length=64, metadata={"description": "part of the code or the name"})
    active = fields.Boolean(metadata={"description": "only active (true) or inactive (false)"})
    kind = fields.String(validate=validate.OneOf(KINDS))


class Prefix(fields.String):
    """What generated codes start with; upper-cased."""

    default_error_messages = {"prefix": "Use up to 20 letters and digits."}

    def _deserialize(self, value, attr, data, **kwargs):
        prefix = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if not PREFIX.match(prefix):
            raise self.make_error("prefix")
        return prefix


class GenerateBody(RequestSchema):
    count = fields.Integer(strict=True, required=True, validate=validate.Range(
        min=1, max=MAX_GENERATE), metadata={"description": f"at most {MAX_GENERATE} at once"})
    prefix = Prefix(load_default="", metadata={
        "description": "the codes start with it and a hyphen: NEWS-7KQ4M2XD"})
    length = fields.Integer(strict=True, validate=validate.Range(min=6, max=16), metadata={
        "description": "random characters after the prefix; default: setting code_length"})
    uses_per_code = Count(load_default=1, metadata={
        "description": "how often each code may be used (default: once)"})


class CodesQuery(PageQuery, RequestSchema):
    batch = Text(max_length=32, metadata={"description": "the codes of one generation run"})
    used = fields.Boolean(metadata={"description": "only used (true) or unused (false) codes"})


class CsvQuery(RequestSchema):
    batch = Text(max_length=32, metadata={"description": "the codes of one generation run"})


class RedemptionsQuery(PageQuery, RequestSchema):
    pass


# --- answers ---------------------------------------------------------------------------------


class CouponSchema(Answer):
    id = fields.Integer()
    code = fields.String(allow_none=True)
    name = fields.String()
    kind = fields.String()
    percent = fields.String(allow_none=True)
    amount = fields.String(allow_none=True)
    min_subtotal = fields.String(allow_none=True)
    currency = fields.String()
    starts_at = fields.String(allow_none=True)
    ends_at = fields.String(allow_none=True)
    usage_limit = fields.Integer(allow_none=True)
    per_customer_limit = fields.Integer(allow_none=True)
    applies_to = fields.String()
    category_ids = fields.List(fields.Integer())
    product_ids = fields.List(fields.Integer())
    combinable = fields.Boolean()
    is_active = fields.Boolean()
    uses = fields.Integer(metadata={"description": "orders using it (not failed or "
                                                   "cancelled)"})
    released = fields.Integer(metadata={"description": "uses given back by failed or "
                                                       "cancelled orders"})
    discount_total = fields.String(metadata={"description": "what its uses took off"})
    codes = fields.Dict(metadata={"description": "total, generated, used"})


class CouponPageSchema(PageSchema, Answer):
    items = fields.List(fields.Nested(CouponSchema))


class CodeSchema(Answer):
    code = fields.String()
    batch = fields.String(allow_none=True)
    usage_limit = fields.Integer(allow_none=True)
    times_used = fields.Integer()
    created_at = fields.String()


class CodePageSchema(PageSchema, Answer):
    items = fields.List(fields.Nested(CodeSchema))


class GeneratedSchema(Answer):
    coupon_id = fields.Integer()
    batch = fields.String()
    count = fields.Integer()
    codes = fields.List(fields.String())
    csv_url = fields.String()


class RedemptionSchema(Answer):
    order_number = fields.String()
    code = fields.String()
    amount = fields.String()
    currency = fields.String()
    user_id = fields.Integer(allow_none=True)
    created_at = fields.String()
    released_at = fields.String(allow_none=True)


class RedemptionPageSchema(PageSchema, Answer):
    items = fields.List(fields.Nested(RedemptionSchema))
