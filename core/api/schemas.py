"""Base schemas that every plugin's request and response schemas build on."""
import datetime as dt

from marshmallow import RAISE, Schema, ValidationError, fields


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


class UTCDateTime(fields.AwareDateTime):
    """An ISO 8601 time with a zone, loaded as UTC; times that do not fit a UTC year
    between 1 and 9999 are a field error, not an overflow deep in the database layer."""

    def _deserialize(self, value, attr, data, **kwargs):
        loaded = super()._deserialize(value, attr, data, **kwargs)
        try:
            return loaded.astimezone(dt.timezone.utc)
        except (OverflowError, ValueError):
            raise ValidationError("The time is out of range.") from None
