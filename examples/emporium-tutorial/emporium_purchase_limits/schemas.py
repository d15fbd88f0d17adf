from marshmallow import Schema, fields, validate

from core.api.pagination import PageQuery
from core.api.schemas import RequestSchema

MAX_LIMIT = 10_000


class LimitListQuery(PageQuery, RequestSchema):
    """?page=&per_page=; anything else is a 400."""


class LimitBody(RequestSchema):
    max_quantity = fields.Integer(required=True, strict=True,
                                  validate=validate.Range(min=1, max=MAX_LIMIT))


class Limit(Schema):
    product_id = fields.Integer()
    product_name = fields.String()
    max_quantity = fields.Integer()
    updated_at = fields.DateTime(format="iso")
