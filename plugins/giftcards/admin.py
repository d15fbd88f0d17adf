"""Gift cards in the merchant admin: the list with the issue form, a card with its ledger
(deactivate, expiry, adjust), and the catalog products sold as gift cards.

The pages load the REST API's schemas and call the same ``services``, so they
refuse for the same reasons in the same words. Issued codes are shown once, on the
page that answers the issue form (never in a flash message: the session cookie is
signed, not encrypted). Routes are named ``giftcards.admin_page_*`` (the JSON
routes already use ``giftcards.admin_*``); the menu entry and the dashboard widget
come from ``hooks.py``.
"""
from core.admin import add_admin_route, admin_view
from core.admin.forms import (attempt, checked, done, found_or_404, input_errors, integer,
                              load_filters, not_done, pager, refused, text, utc_day)
from core.api.errors import NotFound
from core.money import Money
from core.plugins import hookimpl
from plugins.catalog import services as catalog
from plugins.orders import services as orders

from . import MANAGE, services
from .models import ACTIVE, STATES
from .representation import card_data, last_day, product_json
from .schemas import AdjustBody, CardPatch, CardsQuery, IssueBody, ProductBody
from .views import money

TEMPLATES = "plugins.giftcards:templates/admin/"
ACTIONS = ("update", "adjust")


def includeme(config):
    add_admin_route(config, "giftcards.admin_page_cards", "/giftcards")
    add_admin_route(config, "giftcards.admin_page_issue", "/giftcards/issue")
    add_admin_route(config, "giftcards.admin_page_products", "/giftcards/products")
    add_admin_route(config, "giftcards.admin_page_product_remove",
                    r"/giftcards/products/{product_id:\d{1,10}}/remove")
    add_admin_route(config, "giftcards.admin_page_card", r"/giftcards/{id:\d{1,10}}")
    add_admin_route(config, "giftcards.admin_page_card_action",
                    r"/giftcards/{id:\d{1,10}}/{action:" + "|".join(ACTIONS) + "}")
    config.scan(__name__)


# --- menu and dashboard (registered through hooks.py) ---------------------------------


@hookimpl
def admin_menu(request):
    return [{"title": "Gift cards", "route_name": "giftcards.admin_page_cards",
             "permission": MANAGE, "match": "giftcards.admin_page", "order": 60}]


@hookimpl
def admin_dashboard(request):
    owed, count = services.outstanding(request.dbsession)
    value = ", ".join(f"{Money(amount, currency)} {currency}"
                      for currency, amount in sorted(owed.items())) or "0"
    return [{"title": "Gift cards", "order": 40, "permission": MANAGE, "figures": [
        {"label": "Active cards", "value": str(count), "url": request.route_path(
            "giftcards.admin_page_cards", _query={"status": ACTIVE})},
        {"label": "Still to be spent", "value": value, "url": None},
    ]}]


# --- helpers ----------------------------------------------------------------------------


def _card_or_404(request, lock=False):
    return found_or_404(services.get_card(request.dbsession, int(request.matchdict["id"]),
                                          lock=lock))


# --- the list and the issue form ------------------------------------------------------------


def _list_page(request, issue_values=None, issue_errors=None, issue_error=None):
    params = request.GET
    shown = {key: text(params, key) for key in ("last4", "status", "order")}
    query = {"page": params.get("page", "1"), "per_page": params.get("per_page", "20")}
    query.update({key: value for key, value in shown.items() if value})
    page = {"cards": [], "page": None, "filters": shown, "states": STATES, "errors": {},
            "issue": {"values": issue_values or {"count": "1"}, "errors": issue_errors or {},
                      "error": issue_error},
            "currency": services.shop_currency(request),
            "valid_days": services.settings(request)["valid_days"]}
    query, page["errors"] = load_filters(request, lambda: CardsQuery().load(query))
    if page["errors"]:
        return page
    if query.get("order"):
        order = orders.find_order(request.dbsession, query.pop("order"), load=False)
        query["order_id"] = order.id if order is not None else -1
    cards, total = services.list_cards(request.dbsession, query, query["page"],
                                       query["per_page"])
    page["cards"] = [card_data(card) for card in cards]
    page["page"] = pager(request, total, query["per_page"])
    return page


@admin_view(route_name="giftcards.admin_page_cards", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "cards.jinja2")
def list_cards(request):
    return _list_page(request)


def _issue_body(post):
    body = {"amount": text(post, "amount"), "count": integer(text(post, "count") or "1"),
            "note": text(post, "note")}
    if text(post, "email"):
        body["email"] = text(post, "email")
    if checked(post, "never_expires"):
        body["expires_at"] = None
    elif text(post, "expires_on"):
        # the card works through the day given
        body["expires_at"] = utc_day(text(post, "expires_on"), "expires_at", end=True)
    return body


@admin_view(route_name="giftcards.admin_page_issue", request_method="POST", permission=MANAGE,
            renderer=TEMPLATES + "issued.jinja2")
def issue_cards(request):
    post = request.POST
    config = services.settings(request)

    def issue():
        body = IssueBody().load(_issue_body(post))
        amount = money(body["amount"], services.shop_currency(request))
        expires_at = body["expires_at"] if "expires_at" in body \
            else services.expiry(config["valid_days"])
        issued = services.issue(request.dbsession, amount, count=body["count"],
                                expires_at=expires_at, note=body["note"],
                                length=config["code_length"],
                                recipient_email=body.get("email"),
                                issued_by=request.admin.user.id)
        if body.get("email"):
            services.mail_codes(request, body["email"], issued)
        return issued

    issued, refusal = attempt(request, issue)
    if refusal is not None:
        request.override_renderer = TEMPLATES + "cards.jinja2"
        values = {key: text(post, key) for key in ("amount", "count", "note", "email",
                                                   "expires_on")}
        values["never_expires"] = checked(post, "never_expires")
        errors = input_errors(refusal.fields)
        if "expires_at" in errors:
            errors["expires_on"] = errors.pop("expires_at")
        return _list_page(request, values, errors, refused(request, refusal))
    # the codes are on this page and nowhere else: no browser or proxy may keep it
    request.response.cache_control = "no-store"
    return {"cards": [card_data(item.card, code=item.code) for item in issued],
            "email": text(post, "email")}


# --- one card ---------------------------------------------------------------------------------


@admin_view(route_name="giftcards.admin_page_card", request_method="GET", permission=MANAGE,
            renderer=TEMPLATES + "card.jinja2")
def card_page(request):
    card = _card_or_404(request)
    return {"card": card_data(card, ledger=True), "expires_on": last_day(card.expires_at) or "",
            "voided": card.voided_at is not None}


def _change(request, card, action, post):
    user_id = request.admin.user.id
    if action == "update":
        data = {"is_active": checked(post, "is_active"), "note": text(post, "note")}
        if checked(post, "never_expires"):
            data["expires_at"] = None
        elif text(post, "expires_on"):
            data["expires_at"] = utc_day(text(post, "expires_on"), "expires_at", end=True)
        return services.update_card(card, CardPatch().load(data))
    body = AdjustBody().load({"amount": text(post, "amount"), "note": text(post, "note")})
    return services.adjust(request.dbsession, card, money(body["amount"], card.currency),
                           note=body["note"], user_id=user_id)


DONE = {"update": "is saved", "adjust": "has a new balance"}


@admin_view(route_name="giftcards.admin_page_card_action", request_method="POST",
            permission=MANAGE)
def card_action(request):
    action = request.matchdict["action"]
    card = _card_or_404(request, lock=True)
    _result, refusal = attempt(request, lambda: _change(request, card, action, request.POST))
    if refusal is not None:
        return not_done(request, refusal, "giftcards.admin_page_card", id=card.id)
    return done(request, f"Gift card {card_data(card)['code']} {DONE[action]}.",
                "giftcards.admin_page_card", id=card.id)


# --- gift card products -----------------------------------------------------------------------


def _products_page(request, values=None, errors=None, error=None):
    return {"products": [product_json(marked, product) for marked, product in
                         services.marked_products(request.dbsession)],
            "values": values or {}, "errors": errors or {}, "error": error,
            "valid_days": services.settings(request)["valid_days"]}


@admin_view(route_name="giftcards.admin_page_products", request_method="GET",
            permission=MANAGE, renderer=TEMPLATES + "products.jinja2")
def products_page(request):
    return _products_page(request)


@admin_view(route_name="giftcards.admin_page_products", request_method="POST",
            permission=MANAGE, renderer=TEMPLATES + "products.jinja2")
def mark_product(request):
    post = request.POST

    def mark():
        body = ProductBody().load({"valid_days": integer(text(post, "valid_days"))
                                   if text(post, "valid_days") else None})
        product = catalog.find_product(request.dbsession, text(post, "product"),
                                       include_inactive=True, load=False)
        if product is None:
            raise NotFound("There is no product with this id or slug.",
                           code="product_not_found", fields={
                               "product": ["There is no product with this id or slug."]})
        services.mark_product(request.dbsession, product.id, body["valid_days"])
        return product

    product, refusal = attempt(request, mark)
    if refusal is not None:
        return _products_page(request, {key: text(post, key) for key in
                                        ("product", "valid_days")},
                              input_errors(refusal.fields), refused(request, refusal))
    return done(request, f"“{product.name}” is sold as a gift card.",
                "giftcards.admin_page_products")


@admin_view(route_name="giftcards.admin_page_product_remove", request_method="POST",
            permission=MANAGE)
def unmark_product(request):
    _result, refusal = attempt(request, lambda: services.unmark_product(
        request.dbsession, int(request.matchdict["product_id"])))
    if refusal is not None:
        return not_done(request, refusal, "giftcards.admin_page_products")
    return done(request, "The product is no longer sold as a gift card; the cards sold stay "
                         "as they are.", "giftcards.admin_page_products")
