"""The cart's REST views: anyone may use them, as a customer (Bearer) or a guest
(``X-Cart-Token``). Every answer is the whole cart, priced from the catalog now."""
from pyramid.security import NO_PERMISSION_REQUIRED

from core.api import api_view
from core.api.errors import NotFound
from plugins.catalog.schemas import MAX_ID

from . import services
from .representation import cart_json
from .schemas import CartSchema, ItemBody, QuantityBody

PUBLIC = NO_PERMISSION_REQUIRED
TOKEN_DESCRIPTION = (
    "Guests send the X-Cart-Token header that the cart's first write answered with; "
    "signed-in customers send their Bearer token (and no cart token).")


def _answer(request, cart, new_token=None):
    # a cart is one shopper's: no shared cache may keep it, no browser reuse it
    request.response.cache_control = "no-store"
    if new_token is not None:
        request.response.headers[services.TOKEN_HEADER] = new_token
    return cart_json(request, services.price_for_request(request, cart))


def _item_id(request):
    raw = request.matchdict["item_id"]
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID):
        raise NotFound("The cart has no such item.", code="item_not_found")
    return int(raw)


@api_view(route_name="cart.cart", request_method="GET", permission=PUBLIC,
          response_schema=CartSchema, description=TOKEN_DESCRIPTION,
          summary="The cart, priced now, with availability flags (empty if there is none)")
def get_cart(request):
    return _answer(request, services.current_cart(request))


@api_view(route_name="cart.items", request_method="POST", permission=PUBLIC,
          body_schema=ItemBody, response_schema=CartSchema, status=201,
          description=TOKEN_DESCRIPTION + " A guest's first write answers X-Cart-Token.",
          summary="Add units of a variant (to its line if the cart has it already)")
def add_item(request):
    cart, new_token = services.writable_cart(request)
    body = request.validated
    services.add_item(request.dbsession, cart, body["variant_id"], body["quantity"],
                      services.limits(request), currency=services.shop_currency(request))
    return _answer(request, cart, new_token)


@api_view(route_name="cart.item", request_method="PATCH", permission=PUBLIC,
          body_schema=QuantityBody, response_schema=CartSchema, description=TOKEN_DESCRIPTION,
          summary="Change the quantity of an item of the cart")
def change_item(request):
    item_id = _item_id(request)
    cart, _ = services.writable_cart(request, create=False)
    services.set_quantity(request.dbsession, cart, item_id, request.validated["quantity"],
                          services.limits(request), currency=services.shop_currency(request))
    return _answer(request, cart)


@api_view(route_name="cart.item", request_method="DELETE", permission=PUBLIC,
          response_schema=CartSchema, description=TOKEN_DESCRIPTION,
          summary="Remove an item from the cart")
def remove_item(request):
    item_id = _item_id(request)
    cart, _ = services.writable_cart(request, create=False)
    services.remove_item(request.dbsession, cart, item_id)
    return _answer(request, cart)
