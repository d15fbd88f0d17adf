"""Shipping's hook implementations (see core/hookspecs.py and docs/checkout.md).

Checkout: ``checkout_validate`` reports an address no zone serves (or none at all) and a
cart none of the zone's methods takes; ``checkout_shipping_options`` offers the zone's
methods at their price for this cart; ``order_placed`` refuses an order that would
leave without a shipping method. After it: the order's status changes keep the
shipments in step (``order_status_changed``, ``order_refunded``) and the order's JSON
gets ``fulfillment`` (``serialize_many``).
"""
from sqlalchemy.orm import object_session

from core.api.errors import Unprocessable
from core.money import Money
from core.plugins import hookimpl
from plugins.orders.lifecycle import NEVER_PAID
from plugins.orders.models import Order

from . import rates, services
from .admin import admin_dashboard, admin_menu  # noqa: F401  (the admin's menu and widgets)
from .representation import fulfillment_data

NAME = "shipping"


def _default_grams(checkout):
    return checkout.request.plugins.settings(NAME)["default_weight_grams"]


@hookimpl
def checkout_validate(checkout):
    address = checkout.address
    if address is None:
        # the orders plugin says so already when it requires an address
        if any(error.get("field") == "shipping_address" for error in checkout.errors):
            return None
        return [{"code": "address_required", "field": "shipping_address",
                 "message": "Give a shipping address: what shipping costs depends on it."}]
    country = (address.get("country") or "").upper()
    zone = services.zone_for(checkout.dbsession, country, address.get("state") or "")
    checkout.extra[NAME] = {"zone": zone}
    if zone is None:
        return [{"code": "shipping_unavailable", "field": "shipping_address",
                 "country": country,
                 "message": f"We do not ship to this address ({country})."}]
    if not checkout.cart_lines:
        return None
    # before the discounts: what the goods are worth at most
    parcel = rates.Parcel(
        weight_grams=rates.weight_of(checkout.cart_lines, _default_grams(checkout)),
        value=Money.sum((line.line_total for line in checkout.cart_lines
                         if line.line_total.currency == checkout.currency),
                        checkout.currency))
    if not services.offered(zone, parcel, checkout.currency):
        return [{"code": "no_shipping_method", "field": "shipping_method",
                 "weight_grams": parcel.weight_grams,
                 "message": "None of our shipping methods to this address takes this order "
                            f"({parcel.weight_grams / 1000:g} kg)."}]
    return None


@hookimpl
def checkout_shipping_options(checkout):
    zone = (checkout.extra.get(NAME) or {}).get("zone")
    if checkout.address is None or zone is None:
        return None
    parcel = rates.Parcel(
        weight_grams=rates.weight_of(checkout.lines, _default_grams(checkout)),
        value=services.order_value(checkout.subtotal, checkout.discount_total))
    # a free-shipping coupon (the coupons plugin's contract) makes every option free
    free = bool((checkout.extra.get("coupons") or {}).get("free_shipping"))
    return [{"code": method.code, "name": method.name,
             "price": checkout.zero if free else price,
             "min_days": method.min_days, "max_days": method.max_days}
            for method, price in services.offered(zone, parcel, checkout.currency)]


@hookimpl
def order_placed(order, checkout):
    # no option at all (a free method that a discount took below its threshold): the
    # quote showed none; the order must not leave without one
    if checkout.shipping_option is None:
        raise Unprocessable("No shipping method takes this order; change the cart or the "
                            "address.", code="no_shipping_method",
                            fields={"shipping_method": ["No shipping method takes this "
                                                        "order."]})


@hookimpl
def order_status_changed(order, old_status, new_status, request):
    services.order_moved(request, order, old_status, new_status)


@hookimpl
def order_refunded(order, refund, request):
    services.order_refunded(request, order, refund)


@hookimpl
def serialize_many(kind, objs, request):
    if kind != "orders.order":
        return None
    orders = [obj for obj in objs if isinstance(obj, Order)]
    if not orders:
        return None
    dbsession = request.dbsession if request is not None else object_session(orders[0])
    if dbsession is None:
        return None
    # one query for the whole page of orders, not one per order; none for an order
    # never paid (a new one): nothing of it can have shipped
    shipments = services.shipments_by_order(dbsession, [
        order.id for order in orders if order.status not in NEVER_PAID])
    return [{"fulfillment": fulfillment_data(obj, shipments.get(obj.id, []))}
            if isinstance(obj, Order) else None for obj in objs]


@hookimpl
def install(dbsession):
    services.seed_carriers(dbsession)
