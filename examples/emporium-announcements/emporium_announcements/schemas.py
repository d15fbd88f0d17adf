import datetime as dt

from marshmallow import Schema, fields, validate, validates_schema

from core.api.schemas import RequestSchema

from .services import check_period


def _when(**kwargs):
    # a time without a zone is taken as UTC, the API's zone
    return fields.AwareDateTime(format="iso", default_timezone=dt.timezone.utc, **kwargs)


class AnnouncementBody(RequestSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    starts_at = _when(required=True)
    ends_at = _when(load_default=None, allow_none=True,
                    metadata={"description": "Omitted or null: shown until deleted"})

    @validates_schema
    def _ends_after_start(self, data, **kwargs):
        check_period(data.get("starts_at"), data.get("ends_at"))


class Announcement(Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String()
    starts_at = fields.DateTime(format="iso")
    ends_at = fields.DateTime(format="iso", allow_none=True)
    created_at = fields.DateTime(format="iso")

