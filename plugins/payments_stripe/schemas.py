"""Answer schemas (the OpenAPI document). The webhook's body is Stripe's raw event,
verified against its signature before it is parsed: it has no request schema."""
from marshmallow import Schema, fields


class WebhookAnswer(Schema):
    received = fields.Boolean(metadata={"description": "always true: the event was taken"})
    duplicate = fields.Boolean(metadata={
        "description": "true when the event was applied before: nothing changed"})
    event_id = fields.String()
    type = fields.String()
    outcome = fields.String(metadata={
        "description": "what the event did: paid, already_paid, late, late_refunded, "
                       "amount_mismatch, failed, ignored, refused, unknown_payment, "
                       "refund_recorded, refund_known, refund_mismatch, not_handled"})
    order_number = fields.String(allow_none=True)


class ConfigAnswer(Schema):
    provider = fields.String(metadata={"description": "the payment_method to place orders "
                                                      "with: stripe"})
    publishable_key = fields.String(allow_none=True, metadata={
        "description": "for Stripe.js: Stripe(publishable_key); null until it is set"})
    ready = fields.Boolean(metadata={
        "description": "the shop takes card payments (its keys and webhook secret are set)"})
