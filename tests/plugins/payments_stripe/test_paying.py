"""Paying with Stripe: an order placed with payment_method stripe gets a real
PaymentIntent at (local)Stripe for its amount due, and its client_secret."""
import pytest

from plugins.payments_stripe import gateway, provider

from .conftest import API, NAME, STRIPE, assert_error, placed
from .stripe_fake import PUBLISHABLE_KEY, free_port


def test_stripe_is_offered_as_a_payment_method(testapp, stripe_plugin):
    methods = testapp.get(f"{API}/checkout/payment-methods").json["items"]
    assert {"name": "stripe", "title": "Card (Stripe)"} in methods


def test_an_order_gets_a_payment_intent_for_its_amount_due(stripe_buyer, stripe_plugin,
                                                           stock, red):
    order = placed(stripe_buyer)
    assert order["status"] == "payment_pending"
    assert order["amount_due"] == "25.00" and order["currency"] == "EUR"
    payment = order["payment"]
    assert payment["provider"] == "stripe" and payment["status"] == "pending"
    intent_id = payment["client_secret"].split("_secret_")[0]
    intent = stripe_plugin.intent(intent_id)
    assert intent["client_secret"] == payment["client_secret"]
    assert (intent["amount"], intent["currency"]) == (2500, "eur")
    assert intent["metadata"] == {"order_number": order["number"], "attempt": "1"}
    assert intent["status"] == "requires_payment_method"
    assert stock(red).reserved == 2


@pytest.fixture
def stripe_calls(monkeypatch):
    """Every call the plugin makes to Stripe, as (what, keyword arguments); the calls
    still go to localstripe."""
    calls = []
    real_call = gateway.call

    def spy(what, fn, *args, **kwargs):
        calls.append((what, kwargs))
        return real_call(what, fn, *args, **kwargs)

    monkeypatch.setattr(gateway, "call", spy)
    return calls


def test_the_intent_is_created_with_an_idempotency_key_of_order_and_attempt(
        stripe_buyer, stripe_plugin, stripe_calls):
    order = placed(stripe_buyer)
    (what, kwargs), = stripe_calls
    assert kwargs["options"] == {"idempotency_key": f"emporium:{order['number']}:payment:1"}
    assert kwargs["params"] == {"amount": 2500, "currency": "eur", "metadata": {
        "order_number": order["number"], "attempt": "1"}}


def test_payment_method_types_are_passed_when_set(stripe_buyer, stripe_plugin,
                                                 stripe_settings, stripe_calls):
    # localstripe takes the parameter but does not keep it: look at what was sent
    stripe_settings(payment_method_types=["card", "sepa_debit"])
    placed(stripe_buyer)
    (what, kwargs), = stripe_calls
    assert kwargs["params"]["payment_method_types"] == ["card", "sepa_debit"]


def test_the_staff_view_shows_the_intent_as_the_payments_reference(stripe_buyer, desk,
                                                                   stripe_plugin):
    order = placed(stripe_buyer)
    staff_view = desk.get(order["number"]).json
    (payment,) = staff_view["payments"]
    assert payment["reference"].startswith("pi_")
    assert order["payment"]["client_secret"].startswith(payment["reference"] + "_secret_")


def test_without_a_secret_key_nothing_is_ordered(stripe_buyer, stripe_plugin, stripe_settings,
                                                 stock, red):
    stripe_settings(secret_key=None)
    response = stripe_buyer.place(STRIPE, status=503)
    assert_error(response, 503, "stripe_not_configured")
    assert stock(red).reserved == 0
    assert stripe_buyer.orders().json["total"] == 0
    assert len(stripe_buyer.testapp.get(f"{API}/cart", headers=stripe_buyer.headers)
               .json["items"]) == 1


def test_stripe_unreachable_orders_nothing(stripe_buyer, stripe_plugin, stripe_settings, stock,
                                           red):
    stripe_settings(api_base=f"http://127.0.0.1:{free_port()}", timeout_seconds=2)
    response = stripe_buyer.place(STRIPE, status=503)
    assert_error(response, 503, "stripe_unavailable")
    assert response.headers["Retry-After"]
    assert stock(red).reserved == 0
    assert stripe_buyer.orders().json["total"] == 0


def test_a_key_stripe_refuses_orders_nothing(stripe_buyer, stripe_plugin, stripe_settings,
                                            stock, red):
    stripe_settings(secret_key="sk_")  # localstripe, as Stripe, answers 401
    response = stripe_buyer.place(STRIPE, status=503)
    assert_error(response, 503, "stripe_unavailable")
    assert stock(red).reserved == 0


def test_the_storefront_config_gives_the_publishable_key(testapp, stripe_plugin):
    answer = testapp.get(f"{API}/payments/stripe/config").json
    assert answer == {"provider": "stripe", "publishable_key": PUBLISHABLE_KEY, "ready": True}


def test_the_plugin_answers_404_while_it_is_not_enabled(testapp):
    for path in ("/payments/stripe/config", "/payments/stripe/webhook"):
        response = testapp.get(f"{API}{path}", status=404) if path.endswith("config") else \
            testapp.post(f"{API}{path}", "{}", status=404)
        assert response.json["error"]["code"] == "not_found"


def test_the_idempotency_keys_name_the_order_and_the_attempt():
    class Order:
        number = "EM-7KQ4-M2XD"

    from core.money import Money

    assert provider.intent_key(Order, 2) == "emporium:EM-7KQ4-M2XD:payment:2"
    assert provider.refund_key(Order, 1, Money(500, "EUR")) == \
        "emporium:EM-7KQ4-M2XD:refund:1:500"


@pytest.mark.parametrize("intent, expected", [
    ({"amount": 2500, "currency": "eur"}, (2500, "EUR")),
    ({"amount": 2500, "amount_received": 2400, "currency": "eur"}, (2400, "EUR")),
    ({"amount": 25.0, "currency": "eur"}, None),
    ({"amount": True, "currency": "eur"}, None),
    ({"amount": 2500, "currency": "euro"}, None),
    ({"amount": 2500, "currency": "\u00e9ur"}, None),
    ({"amount": 2500}, None),
])
def test_what_stripe_took_is_read_strictly(intent, expected):
    assert provider.stripe_amount(intent) == expected


def test_the_provider_is_named_after_the_plugin():
    assert NAME == "payments_stripe"
