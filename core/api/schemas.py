"""Base schemas that every plugin's request and response schemas build on."""
from marshmallow import RAISE, Schema, fields


class RequestSchema(Schema):
    """A request body or query: unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = RAISE


class ErrorDetail(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorSchema(Schema):
    """The shape of every error answer."""

    error = fields.Nested(ErrorDetail, required=True)
