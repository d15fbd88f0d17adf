"""Request schemas (validation) and answer schemas (the OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from core.accounts.schemas import NOT_EMPTY, Text
from core.api.pagination import PageQuery, PageSchema
from core.api.schemas import RequestSchema
from plugins.catalog.schemas import Answer

from .models import KINDS, MAX_REASON

MAX_POINTS = 10**9


class HistoryQuery(PageQuery, RequestSchema):
    """The page of the history (newest first)."""


class AccountsQuery(PageQuery, RequestSchema):
    email = Text(max_length=254, metadata={"description": "part of the customer's e-mail"})


class AdjustBody(RequestSchema):
    points = fields.Integer(strict=True, required=True, validate=validate.Range(
        min=-MAX_POINTS, max=MAX_POINTS), metadata={
            "description": "points to add (positive) or take (negative); never zero"})
    reason = Text(max_length=MAX_REASON, required=True, validate=NOT_EMPTY, metadata={
        "description": "why, kept in the ledger and shown to the customer"})

    @validates("points")
    def _not_zero(self, value, **kwargs):
        if value == 0:
            raise ValidationError("Add or take at least one point.")


# --- answers ---------------------------------------------------------------------------------


class EntrySchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(KINDS)})
    points = fields.Integer(metadata={"description": "added (positive) or taken (negative)"})
    balance_after = fields.Integer()
    order_number = fields.String(allow_none=True)
    expires_at = fields.String(allow_none=True, metadata={
        "description": "earned and added points: when they expire"})
    reason = fields.String()
    created_at = fields.String()


class HistoryPageSchema(PageSchema):
    items = fields.List(fields.Nested(EntrySchema))


class ExpiringSchema(Schema):
    points = fields.Integer()
    expires_at = fields.String()


class CustomerSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()


class AccountSchema(Answer):
    balance = fields.Integer(metadata={"description": "points"})
    balance_value = fields.String(metadata={"description": "what the points pay at checkout "
                                                          "now (decimal string)"})
    currency = fields.String()
    expiring_next = fields.Nested(ExpiringSchema, allow_none=True, metadata={
        "description": "the next points to expire, or null"})
    history = fields.Nested(HistoryPageSchema)
    customer = fields.Nested(CustomerSchema, metadata={"description": "staff answers only"})


class AccountRowSchema(Schema):
    customer = fields.Nested(CustomerSchema)
    balance = fields.Integer()
    balance_value = fields.String()
    updated_at = fields.String()


class AccountPageSchema(PageSchema, Answer):
    items = fields.List(fields.Nested(AccountRowSchema))
