"""The orders' REST views: the checkout and the customer's orders (signed in), and the
staff's order desk (permission ``orders.manage``)."""
from pyramid.security import NO_PERMISSION_REQUIRED

from core.api import api_view
from core.api.errors import BadRequest, NotFound, Unauthorized
from core.api.pagination import page_of
from core.money import Money
from core.security import AUTHENTICATED, owned_or_404

from . import MANAGE, payments, services
from .representation import order_json, orders_json, quote_json
from .schemas import (IDEMPOTENCY_KEY, CustomerOrdersQuery, NoteBody, OrderBody,
                      OrderPageSchema, OrderSchema, PaymentMethodsSchema, QuoteBody,
                      QuoteSchema, RefundBody, ReturnBody, ShipBody, StaffNoteBody,
                      StaffOrdersQuery)

PUBLIC = NO_PERMISSION_REQUIRED
MAX_KEY = 200


def _private(request):
    # an order or a quote is one shopper's: no shared cache may keep it
    request.response.cache_control = "no-store"


def _user_id(request):
    return request.identity.id if request.identity is not None else None


# --- checkout ---------------------------------------------------------------------------------


@api_view(route_name="orders.quote", request_method="POST", permission=PUBLIC,
          body_schema=QuoteBody, response_schema=QuoteSchema, status=200,
          summary="The totals of the cart for this address, shipping method, codes and "
                  "points; nothing is written",
          description="Guests send X-Cart-Token, customers their Bearer token. Rules "
                      "broken (an empty cart, a coupon that does not apply) are listed in "
                      "errors; only a malformed body is a 400.")
def quote(request):
    _private(request)
    return quote_json(request, services.quote(request, request.validated))


@api_view(route_name="orders.payment_methods", request_method="GET", permission=PUBLIC,
          response_schema=PaymentMethodsSchema,
          summary="The payment methods a storefront may offer (payment_method of an order)")
def payment_methods(request):
    return {"items": payments.listing(request)}


def _idempotency_key(request):
    key = request.headers.get(IDEMPOTENCY_KEY, "").strip()
    if not key:
        raise BadRequest("Send an Idempotency-Key header (a new random value, such as a "
                         "UUID, for each order) so that a retried request cannot order "
                         "twice.", code="idempotency_key_required")
    if len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise BadRequest(f"The Idempotency-Key must be at most {MAX_KEY} printable ASCII "
                         "characters.", code="invalid_idempotency_key")
    return key


@api_view(route_name="orders.orders", request_method="POST", permission=PUBLIC,
          body_schema=OrderBody, response_schema=OrderSchema, status=201,
          summary="Place an order from the cart (header Idempotency-Key required)",
          description="201 with the new order; 200 with the same order when the same "
                      "Idempotency-Key and body come again; 422 for the same key with "
                      "another body, or when the checkout has errors (error.errors lists "
                      "them) or the stock ran out (insufficient_stock).")
def place_order(request):
    if request.identity is None:
        raise Unauthorized("Sign in to place an order: a guest cart becomes the customer's "
                           "cart at login (send its X-Cart-Token to /auth/login).",
                           headers={"WWW-Authenticate": 'Bearer realm="emporium"'})
    key = _idempotency_key(request)
    _private(request)
    order, created = services.place_order(request, request.validated, key)
    data = order_json(request, order)
    if not created:
        return _replayed(request, data)
    return data


def _replayed(request, data):
    # the deriver sets 201 after the view: answer a Response so that 200 stays
    response = request.response
    response.status = 200
    response.content_type = "application/json"
    response.headers["Idempotent-Replayed"] = "true"
    response.json_body = data
    return response


# --- the customer's orders ------------------------------------------------------------------


def _own_order(request, lock=False):
    order = services.find_order(request.dbsession, request.matchdict["number"], lock=lock)
    return owned_or_404(request, order)


@api_view(route_name="orders.orders", request_method="GET", permission=AUTHENTICATED,
          query_schema=CustomerOrdersQuery, response_schema=OrderPageSchema,
          summary="The signed-in customer's orders, newest first")
def my_orders(request):
    _private(request)
    query = request.validated_query
    orders, total = services.customer_orders(request.dbsession, request.identity.id,
                                             query["page"], query["per_page"])
    return page_of(request, orders_json(request, orders), total, query["page"],
                   query["per_page"])


@api_view(route_name="orders.order", request_method="GET", permission=AUTHENTICATED,
          response_schema=OrderSchema, summary="One of the customer's orders")
def my_order(request):
    _private(request)
    return order_json(request, _own_order(request))


@api_view(route_name="orders.cancel", request_method="POST", permission=AUTHENTICATED,
          response_schema=OrderSchema,
          summary="Cancel the order if it has not shipped (what was paid is refunded)")
def cancel_my_order(request):
    _private(request)
    order = _own_order(request, lock=True)
    services.cancel_order(request, order, actor="customer", user_id=request.identity.id,
                          note="cancelled by the customer")
    return order_json(request, services.load_order(request.dbsession, order))


# --- staff ------------------------------------------------------------------------------------


def _staff_order(request, lock=True):
    order = services.find_order(request.dbsession, request.matchdict["number"], lock=lock,
                                load=services.STAFF_ORDER_LOAD)
    if order is None:
        raise NotFound("There is no such order.", code="order_not_found")
    return order


def _staff_answer(request, order):
    request.dbsession.flush()
    return order_json(request, services.load_order(request.dbsession, order), staff=True)


@api_view(route_name="orders.admin_orders", request_method="GET", permission=MANAGE,
          query_schema=StaffOrdersQuery, response_schema=OrderPageSchema,
          summary="Every order, newest first, filtered by status, number, customer, dates")
def staff_orders(request):
    query = request.validated_query
    orders, total = services.staff_orders(request.dbsession, query, query["page"],
                                          query["per_page"])
    return page_of(request, orders_json(request, orders, staff=True), total, query["page"],
                   query["per_page"])


@api_view(route_name="orders.admin_order", request_method="GET", permission=MANAGE,
          response_schema=OrderSchema,
          summary="One order with its payments, refunds, history and notes")
def staff_order(request):
    return order_json(request, _staff_order(request, lock=False), staff=True)


@api_view(route_name="orders.admin_mark_paid", request_method="POST", permission=MANAGE,
          body_schema=NoteBody, response_schema=OrderSchema,
          summary="The money of a manual payment arrived: payment_pending -> processing")
def mark_paid(request):
    order = _staff_order(request)
    services.mark_paid(request, order, user_id=_user_id(request),
                       note=request.validated["note"])
    return _staff_answer(request, order)


@api_view(route_name="orders.admin_ship", request_method="POST", permission=MANAGE,
          body_schema=ShipBody, response_schema=OrderSchema,
          summary="processing -> shipped, with the carrier and tracking number")
def ship(request):
    order = _staff_order(request)
    body = request.validated
    services.ship(request, order, carrier=body["carrier"],
                  tracking_number=body["tracking_number"],
                  tracking_url=body.get("tracking_url"), user_id=_user_id(request),
                  note=body["note"])
    return _staff_answer(request, order)


@api_view(route_name="orders.admin_deliver", request_method="POST", permission=MANAGE,
          body_schema=NoteBody, response_schema=OrderSchema, summary="shipped -> delivered")
def deliver(request):
    order = _staff_order(request)
    services.deliver(request, order, user_id=_user_id(request), note=request.validated["note"])
    return _staff_answer(request, order)


@api_view(route_name="orders.admin_cancel", request_method="POST", permission=MANAGE,
          body_schema=NoteBody, response_schema=OrderSchema,
          summary="Cancel an order that has not shipped (refunded at once if the setting "
                  "refund_on_cancel is on)")
def staff_cancel(request):
    order = _staff_order(request)
    services.cancel_order(request, order, actor="staff", user_id=_user_id(request),
                          note=request.validated["note"])
    return _staff_answer(request, order)


@api_view(route_name="orders.admin_return", request_method="POST", permission=MANAGE,
          body_schema=ReturnBody, response_schema=OrderSchema,
          summary="The goods came back: shipped or delivered -> returned (restocked)")
def staff_return(request):
    order = _staff_order(request)
    body = request.validated
    services.return_order(request, order, restock=body["restock"], user_id=_user_id(request),
                          note=body["note"])
    return _staff_answer(request, order)


@api_view(route_name="orders.admin_refund", request_method="POST", permission=MANAGE,
          body_schema=RefundBody, response_schema=OrderSchema,
          summary="Give money back to the tenders first, the rest through the payment "
                  "provider (never more than was paid); a cancelled or returned order fully "
                  "refunded is refunded")
def staff_refund(request):
    order = _staff_order(request)
    body = request.validated
    amount = None
    if body.get("amount") is not None:
        amount = _money(body["amount"], order.currency)
    services.refund(request, order, amount=amount, lines=body.get("lines"),
                    user_id=_user_id(request), note=body["note"])
    return _staff_answer(request, order)


def _money(amount, currency):
    try:
        return Money.from_decimal(amount, currency)
    except ValueError:
        raise BadRequest("Some fields are not valid.", code="invalid", fields={
            "amount": [f"{currency} amounts have fewer decimal places."]}) from None


@api_view(route_name="orders.admin_notes", request_method="POST", permission=MANAGE,
          body_schema=StaffNoteBody, response_schema=OrderSchema, status=201,
          summary="Add a staff note to an order (customers never see notes)")
def add_note(request):
    order = _staff_order(request)
    services.add_note(request.dbsession, order, request.validated["note"],
                      user_id=_user_id(request))
    return _staff_answer(request, order)
