"""The Stripe plugin's REST views: the webhook Stripe calls, and the storefront's config."""
from pyramid.security import NO_PERMISSION_REQUIRED

from core.api import api_view

from . import gateway, services
from .schemas import ConfigAnswer, WebhookAnswer

PUBLIC = NO_PERMISSION_REQUIRED
SIGNATURE = "Stripe-Signature"


@api_view(route_name="payments_stripe.webhook", request_method="POST", permission=PUBLIC,
          response_schema=WebhookAnswer, status=200,
          summary="Stripe's webhook: events signed with the endpoint's secret, each applied once",
          description="The body is Stripe's event as sent; the Stripe-Signature header must "
                      "sign it with the webhook signing secret and be younger than the "
                      "tolerance (400 invalid_signature otherwise, nothing changed). An event "
                      "delivered again answers 200 with duplicate true and changes nothing. "
                      "503 while Stripe cannot be reached or the plugin is not set up: "
                      "Stripe delivers the event again later.")
def webhook(request):
    # the signature covers the raw bytes: they are verified before anything is parsed
    return services.receive(request, request.body, request.headers.get(SIGNATURE))


@api_view(route_name="payments_stripe.config", request_method="GET", permission=PUBLIC,
          response_schema=ConfigAnswer, status=200,
          summary="What a storefront needs to take card payments with Stripe.js")
def config(request):
    values = gateway.settings(request)
    request.response.cache_control = "public, max-age=60"
    return {"provider": "stripe", "publishable_key": values["publishable_key"] or None,
            "ready": bool(values["secret_key"] and values["publishable_key"]
                          and values["webhook_secret"])}
