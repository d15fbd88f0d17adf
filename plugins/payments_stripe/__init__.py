"""Stripe payments: the ``stripe`` payment provider of the orders plugin.

Placing an order with ``payment_method: "stripe"`` creates a Stripe PaymentIntent
for the amount due (the order's ``payment.client_secret`` lets Stripe.js take the
card in the browser: card data never reaches this backend). Stripe tells the shop
how the payment went through signed webhooks at ``/payments/stripe/webhook``, each
event applied once; refunds go through Stripe's Refund API; a periodic job asks
Stripe about orders still waiting, so a lost webhook never leaves one stuck.
See docs/payments_stripe.md.
"""
import re

from marshmallow import Schema, ValidationError, fields, validate

from core.plugins import Manifest

NAME = "payments_stripe"
PROVIDER = "stripe"  # the payment_method a storefront sends
DEFAULT_API_BASE = "https://api.stripe.com"
PAYMENT_METHOD_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _key(*prefixes):
    """A Stripe key: empty (not set yet) or starting with one of ``prefixes``."""
    def check(value):
        if value and (not value.startswith(prefixes) or len(value) > 255
                      or not value.isascii() or not value.isprintable() or " " in value):
            raise ValidationError(f"A Stripe key here starts with {' or '.join(prefixes)} "
                                  "(copy it from the Stripe Dashboard).")
    return check


def _method_type(value):
    if not PAYMENT_METHOD_TYPE.match(value):
        raise ValidationError("A Stripe payment method type, such as card or sepa_debit.")


class StripeSettings(Schema):
    secret_key = fields.String(load_default="", validate=_key("sk_", "rk_"), metadata={
        "secret": True,
        "description": "the secret (sk_...) or restricted (rk_...) API key; the restricted "
                       "key needs write access to PaymentIntents and Refunds"})
    publishable_key = fields.String(load_default="", validate=_key("pk_"), metadata={
        "description": "the publishable key (pk_...) Stripe.js needs in the storefront; "
                       "public, served at /payments/stripe/config"})
    webhook_secret = fields.String(load_default="", validate=_key("whsec_"), metadata={
        "secret": True,
        "description": "the signing secret (whsec_...) of the webhook endpoint "
                       "/api/v1/payments/stripe/webhook"})
    api_base = fields.Url(load_default=DEFAULT_API_BASE, schemes={"http", "https"},
                          require_tld=False, validate=validate.Length(max=200), metadata={
                              "description": "where Stripe's API answers: change it only to "
                                             "test against a local fake such as localstripe"})
    webhook_tolerance_seconds = fields.Integer(
        load_default=300, validate=validate.Range(min=30, max=3600), metadata={
            "description": "how old a signed webhook may be before it is refused as a replay"})
    payment_method_types = fields.List(
        fields.String(validate=_method_type), load_default=list,
        validate=validate.Length(max=20), metadata={
            "description": "payment method types offered (card, sepa_debit, ...); empty: the "
                           "ones enabled in the Stripe Dashboard"})
    payment_pending_minutes = fields.Integer(
        load_default=60, validate=validate.Range(min=5, max=60 * 24 * 30), metadata={
            "description": "minutes an order waits for its card payment before it fails and "
                           "its stock is released"})
    reconcile_after_minutes = fields.Integer(
        load_default=10, validate=validate.Range(min=1, max=60 * 24), metadata={
            "description": "the reconciliation asks Stripe about an order still waiting "
                           "this long after it was placed"})
    refund_late_payments = fields.Boolean(load_default=True, metadata={
        "description": "give back at once a payment that succeeds after its order failed "
                       "or was cancelled (otherwise staff refunds it)"})
    timeout_seconds = fields.Integer(load_default=20, validate=validate.Range(min=1, max=120),
                                     metadata={"description": "how long to wait for Stripe's "
                                                              "API on each call"})


manifest = Manifest(
    name=NAME,
    version="1.0.0",
    title="Stripe payments",
    summary="Card payments with Stripe PaymentIntents, signed webhooks applied once, refunds "
            "and reconciliation",
    depends=("orders",),
    default=False,
    settings=StripeSettings,
    requires_kernel=">=0.1,<1",
)


def includeme(config):
    config.add_route("payments_stripe.webhook", "/payments/stripe/webhook")
    config.add_route("payments_stripe.config", "/payments/stripe/config")
    config.scan(".views")
