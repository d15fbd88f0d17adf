"""The gift cards' REST views: the customer's balance check (public, rate limited per
client address) and the staff's cards and gift card products (``giftcards.manage``)."""
from pyramid.httpexceptions import HTTPNoContent
from pyramid.security import NO_PERMISSION_REQUIRED

from core.api import api_view
from core.api.errors import BadRequest, NotFound
from core.api.pagination import page_of
from core.money import Money
from plugins.catalog.models import Product
from plugins.orders import services as orders

from . import MANAGE, ratelimit, services
from .representation import card_json, check_json, product_json
from .schemas import (AdjustBody, CardPageSchema, CardPatch, CardSchema, CardsQuery,
                      CheckSchema, IssueBody, IssuedSchema, LookupBody, ProductBody,
                      ProductListSchema, ProductSchema, product_id)

PUBLIC = NO_PERMISSION_REQUIRED
MISS = "There is no gift card with this code."


# --- the balance check ------------------------------------------------------------------------


def _check(request, text):
    # what a card holds is its holder's business: no shared cache may keep it
    request.response.cache_control = "no-store"
    ratelimit.check(request)
    card = services.find(request.dbsession, text)
    if card is None:
        ratelimit.record_miss(request)
        raise NotFound(MISS, code="gift_card_not_found")
    return check_json(card)


CHECK_DESCRIPTION = ("404 gift_card_not_found for an unknown code; after "
                     "lookup_free_misses unknown codes from one client address, 429 "
                     "too_many_attempts with Retry-After (seconds) for any code until then. "
                     "status is active, inactive, expired or empty.")


@api_view(route_name="giftcards.check", request_method="GET", permission=PUBLIC,
          response_schema=CheckSchema, summary="A gift card's balance, currency and expiry",
          description=CHECK_DESCRIPTION + " Prefer POST /gift-cards/lookup, which keeps the "
                                          "code out of URLs and server logs.")
def check(request):
    return _check(request, request.matchdict["code"])


@api_view(route_name="giftcards.lookup", request_method="POST", permission=PUBLIC,
          body_schema=LookupBody, response_schema=CheckSchema, status=200,
          summary="A gift card's balance, currency and expiry (the code in the body)",
          description=CHECK_DESCRIPTION)
def lookup(request):
    return _check(request, request.validated["code"])


# --- staff: cards -----------------------------------------------------------------------------


def _card_id(request):
    value = request.matchdict["id"]
    return int(value) if value.isascii() and value.isdigit() and len(value) < 11 else None


def _staff_card(request, lock=False):
    card = services.get_card(request.dbsession, _card_id(request), lock=lock)
    if card is None:
        raise NotFound("There is no such gift card.", code="gift_card_not_found")
    return card


def _with_ledger(request, card):
    # the balance changed through a Core UPDATE and the ledger grew: read both again
    request.dbsession.flush()
    request.dbsession.expire(card)
    return card_json(request, card, ledger=True)


def money(amount, currency, field="amount"):
    try:
        return Money.from_decimal(amount, currency)
    except ValueError:
        raise BadRequest("Some fields are not valid.", code="invalid", fields={
            field: [f"{currency} amounts have fewer decimal places."]}) from None


@api_view(route_name="giftcards.admin_cards", request_method="POST", permission=MANAGE,
          body_schema=IssueBody, response_schema=IssuedSchema, status=201,
          summary="Issue one or more gift cards; the answer is the only place their codes "
                  "are shown (and the e-mail, if email is given)")
def issue(request):
    body = request.validated
    config = services.settings(request)
    amount = money(body["amount"], services.shop_currency(request))
    expires_at = body["expires_at"] if "expires_at" in body \
        else services.expiry(config["valid_days"])
    issued = services.issue(request.dbsession, amount, count=body["count"],
                            expires_at=expires_at, note=body["note"],
                            length=config["code_length"], recipient_email=body.get("email"),
                            issued_by=request.identity.id)
    if body.get("email"):
        services.mail_codes(request, body["email"], issued)
    request.response.cache_control = "no-store"
    return {"items": [card_json(request, item.card, code=item.code) for item in issued]}


@api_view(route_name="giftcards.admin_cards", request_method="GET", permission=MANAGE,
          query_schema=CardsQuery, response_schema=CardPageSchema,
          summary="Every gift card, newest first, by the last 4 characters of its code, "
                  "status, order or recipient")
def list_cards(request):
    query = dict(request.validated_query)
    if query.get("order"):
        order = orders.find_order(request.dbsession, query.pop("order"), load=False)
        query["order_id"] = order.id if order is not None else -1
    cards, total = services.list_cards(request.dbsession, query, query["page"],
                                       query["per_page"])
    return page_of(request, [card_json(request, card) for card in cards], total,
                   query["page"], query["per_page"])


@api_view(route_name="giftcards.admin_card", request_method="GET", permission=MANAGE,
          response_schema=CardSchema, summary="One gift card with its ledger")
def get_card(request):
    return card_json(request, _staff_card(request), ledger=True)


@api_view(route_name="giftcards.admin_card", request_method="PATCH", permission=MANAGE,
          body_schema=CardPatch, response_schema=CardSchema,
          summary="Deactivate or reactivate a card, change its expiry or note")
def patch_card(request):
    card = services.update_card(_staff_card(request, lock=True), request.validated)
    return _with_ledger(request, card)


@api_view(route_name="giftcards.admin_adjust", request_method="POST", permission=MANAGE,
          body_schema=AdjustBody, response_schema=CardSchema, status=200,
          summary="Add to or take from a card's balance (never below zero), with a reason "
                  "kept in its ledger")
def adjust_card(request):
    card = _staff_card(request, lock=True)
    body = request.validated
    services.adjust(request.dbsession, card, money(body["amount"], card.currency),
                    note=body["note"], user_id=request.identity.id)
    return _with_ledger(request, card)


# --- staff: gift card products ----------------------------------------------------------------


def _product_id(request):
    found = product_id(request.matchdict["product_id"])
    if found is None:
        raise NotFound("There is no such product.", code="product_not_found")
    return found


@api_view(route_name="giftcards.admin_products", request_method="GET", permission=MANAGE,
          response_schema=ProductListSchema,
          summary="The catalog products sold as gift cards")
def list_products(request):
    return {"items": [product_json(marked, product) for marked, product in
                      services.marked_products(request.dbsession)]}


@api_view(route_name="giftcards.admin_product", request_method="PUT", permission=MANAGE,
          body_schema=ProductBody, response_schema=ProductSchema, status=200,
          summary="Sell a catalog product as a gift card: each unit paid for issues a card "
                  "worth its price, e-mailed to the buyer")
def mark_product(request):
    marked, _created = services.mark_product(request.dbsession, _product_id(request),
                                             request.validated["valid_days"])
    return product_json(marked, request.dbsession.get(Product, marked.product_id))


@api_view(route_name="giftcards.admin_product", request_method="DELETE", permission=MANAGE,
          status=204, summary="Stop selling a product as a gift card (cards sold stay)")
def unmark_product(request):
    services.unmark_product(request.dbsession, _product_id(request))
    return HTTPNoContent()
