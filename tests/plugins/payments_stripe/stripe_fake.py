"""The real ``stripe`` library against a real fake: localstripe, a stateful Stripe API
server from PyPI, run as a subprocess on loopback; and webhook events signed the way
Stripe signs them, for what localstripe does not send (refund events) or to forge,
replay and tamper with deliveries.

What localstripe lacks (and the tests work around): it ignores idempotency keys,
rejects ``automatic_payment_methods`` and ``description`` on PaymentIntents, cannot
confirm with a payment_method (the intent is updated, then confirmed), takes only
pm_/card_ ids and sends no refund events.
"""
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import stripe

SECRET_KEY = "sk_test_emporium_0123456789"
PUBLISHABLE_KEY = "pk_test_emporium_0123456789"
WEBHOOK_SECRET = "whsec_emporium_test_0123456789"
CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"  # localstripe: attaches, then the charge is declined
WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"

# localstripe's app on 127.0.0.1 only, its store kept in memory (it would otherwise
# pickle itself to /tmp/localstripe.pickle after every write, shared by every run)
LAUNCH = """
import sys
from aiohttp import web
from localstripe import resources, server
resources.Store.dump_to_disk = lambda self: None
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None,
            access_log=None)
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStripe:
    """A running localstripe server and the real stripe library pointed at it."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen([sys.executable, "-c", LAUNCH, str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("localstripe did not start: "
                                   + self.process.stderr.read().decode(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("localstripe did not listen within 30 s")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    @property
    def client(self):
        return stripe.StripeClient(SECRET_KEY, base_addresses={"api": self.url})

    def settings(self, **more):
        """The plugin's settings for this server."""
        return {"secret_key": SECRET_KEY, "publishable_key": PUBLISHABLE_KEY,
                "webhook_secret": WEBHOOK_SECRET, "api_base": self.url, **more}

    # --- the storefront's side: what Stripe.js does with the client_secret ---------------

    def pay(self, intent_id, card=CARD):
        """Attach a card to the PaymentIntent and confirm it; the intent as a dict."""
        client = self.client
        method = client.v1.payment_methods.create(params={
            "type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2034,
                                     "cvc": "123"}})
        client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
        try:
            client.v1.payment_intents.confirm(intent_id)
        except stripe.CardError:
            pass  # declined: the intent says so
        return self.intent(intent_id)

    # --- looking at Stripe's state ----------------------------------------------------------

    def intent(self, intent_id):
        return self.client.v1.payment_intents.retrieve(intent_id).to_dict()

    def refunds(self, intent_id):
        listed = self.client.v1.refunds.list(params={"payment_intent": intent_id})
        return [refund.to_dict() for refund in listed.data]

    def refund(self, intent_id, amount):
        """A refund made in Stripe's Dashboard (not through the shop)."""
        return self.client.v1.refunds.create(params={"payment_intent": intent_id,
                                                     "amount": amount}).to_dict()

    # --- localstripe's own configuration -----------------------------------------------------

    def send_webhooks_to(self, name, url, secret=WEBHOOK_SECRET):
        """Deliver every event, signed with ``secret``, to ``url`` (registration ``name``)."""
        body = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
        request = urllib.request.Request(f"{self.url}/_config/webhooks/{name}", data=body,
                                         method="POST")
        request.add_header("Authorization", f"Bearer {SECRET_KEY}")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


# --- signed events ------------------------------------------------------------------------------


def sign(payload, secret=WEBHOOK_SECRET, timestamp=None):
    """The Stripe-Signature header of ``payload`` (bytes): ``t=<unix time>,v1=<HMAC-SHA256
    of "<t>.<payload>" with the endpoint's secret>``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def make_event(event_type, obj, event_id=None, created=None):
    """A Stripe event as its webhook delivers it."""
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}", "object": "event",
        "api_version": stripe.api_version, "created": created or int(time.time()),
        "livemode": False, "pending_webhooks": 1, "type": event_type,
        "request": {"id": None, "idempotency_key": None}, "data": {"object": obj},
    }


def body_of(event):
    return json.dumps(event, indent=2).encode()


def post_http(url, body, headers, timeout=30):
    """POST ``body`` over real HTTP; ``(status, JSON answer)``."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
