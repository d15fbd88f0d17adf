"""Talking to Stripe's API with the official ``stripe`` library.

One ``StripeClient`` per (key, API base, timeout), kept for the process: its
HTTP client keeps a connection pool per thread. Every call goes through
``call``, which turns Stripe's errors into API errors: Stripe refusing the request
is a 422 (its message says why), Stripe unreachable or failing a 503
(``StripeUnavailable``, which the webhook lets through so that Stripe delivers
the event again), a wrong key a 503 as well, logged for the operator.
"""
import functools
import logging
import threading

import stripe

from core.api.errors import APIError, Conflict, Unprocessable

from . import NAME

log = logging.getLogger(__name__)

# Stripe retries a failed network call itself, with the same idempotency key
NETWORK_RETRIES = 2
_lock = threading.Lock()


class StripeUnavailable(APIError):
    """Stripe could not be asked (network, outage, rate limit, wrong key): try later."""

    status, code = 503, "stripe_unavailable"


class NotConfigured(StripeUnavailable):
    code = "stripe_not_configured"


def settings(request):
    return request.plugins.settings(NAME)


@functools.lru_cache(maxsize=16)
def _client(secret_key, api_base, timeout):
    http_client = stripe.new_default_http_client(timeout=timeout)
    return stripe.StripeClient(secret_key, base_addresses={"api": api_base},
                               max_network_retries=NETWORK_RETRIES, http_client=http_client)


def client(request):
    """The ``StripeClient`` of the plugin's settings; 503 while no secret key is set."""
    values = settings(request)
    if not values["secret_key"]:
        raise NotConfigured("Card payments are not set up yet: the shop has no Stripe "
                            "secret key.", headers={"Retry-After": "600"})
    with _lock:
        return _client(values["secret_key"], values["api_base"].rstrip("/"),
                       values["timeout_seconds"])


def call(what, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, Stripe's errors turned into API errors about ``what``."""
    try:
        return fn(*args, **kwargs)
    except stripe.IdempotencyError as exc:
        log.error("Stripe refused %s (idempotency): %s", what, exc.user_message or exc)
        raise Conflict(f"Stripe refused to {what}: the same request was sent before with "
                       "other values.", code="stripe_idempotency_conflict") from None
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        log.error("Stripe refused the API key to %s: %s", what, exc.user_message or exc)
        raise StripeUnavailable(f"Stripe could not be asked to {what}: the shop's Stripe "
                                "keys are not valid.", headers={"Retry-After": "600"}) from None
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        log.warning("Stripe unavailable to %s: %s", what, exc.user_message or exc)
        raise StripeUnavailable(f"Stripe could not be reached to {what}; try again in a "
                                "moment.", headers={"Retry-After": "30"}) from None
    except stripe.StripeError as exc:  # invalid requests, declined cards
        message = exc.user_message or "the request was refused"
        log.info("Stripe refused to %s: %s", what, message)
        raise Unprocessable(f"Stripe refused to {what}: {message}", code="stripe_refused",
                            extra={"stripe_code": exc.code}) from None


def as_dict(stripe_object):
    return stripe_object.to_dict() if hasattr(stripe_object, "to_dict") else dict(stripe_object)


# --- the calls ----------------------------------------------------------------------------


def create_intent(request, params, idempotency_key):
    found = client(request)
    return as_dict(call("take the payment", found.v1.payment_intents.create, params=params,
                        options={"idempotency_key": idempotency_key}))


def retrieve_intent(request, intent_id):
    found = client(request)
    return as_dict(call("look up the payment", found.v1.payment_intents.retrieve, intent_id))


def cancel_intent(request, intent_id):
    found = client(request)
    return as_dict(call("cancel the payment", found.v1.payment_intents.cancel, intent_id))


def create_refund(request, params, idempotency_key):
    found = client(request)
    return as_dict(call("refund the payment", found.v1.refunds.create, params=params,
                        options={"idempotency_key": idempotency_key}))


def refunded_amount(request, intent):
    """What Stripe has refunded of the PaymentIntent ``intent`` (a dict), in minor units:
    the ``amount_refunded`` of its latest charge (0 before it has one)."""
    charge = intent.get("latest_charge")
    if isinstance(charge, str):
        found = client(request)
        charge = as_dict(call("look up the payment", found.v1.charges.retrieve, charge))
    if not isinstance(charge, dict):
        return 0
    amount = charge.get("amount_refunded")
    return amount if isinstance(amount, int) and not isinstance(amount, bool) else 0


def intent_of_charge(request, charge_id):
    """The PaymentIntent id of the charge ``charge_id`` (None if it has none)."""
    found = client(request)
    charge = as_dict(call("look up the payment", found.v1.charges.retrieve, charge_id))
    intent = charge.get("payment_intent")
    return intent.get("id") if isinstance(intent, dict) else intent
