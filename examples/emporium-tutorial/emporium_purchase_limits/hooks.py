"""The hooks: a field for the catalog's products, a rule for the checkout."""
from sqlalchemy.orm import object_session

from core.plugins import hookimpl

from . import services


@hookimpl
def serialize(kind, obj, request):
    """``purchase_limit`` in every product's JSON: a number, or null for no limit."""
    if kind != "catalog.product":
        return None
    # called once per product of a page: read the limits once per request
    limits = getattr(request, "purchase_limits", None)
    if limits is None:  # outside a request
        limits = services.limits_for(object_session(obj), [obj.id])
    return {"purchase_limit": limits.get(obj.id)}


@hookimpl
def checkout_validate(checkout):
    """Refuse a quote or an order whose cart holds more than a limit allows."""
    if checkout.cart is None:
        return None
    items = [(item.id, item.variant_id, item.quantity) for item in checkout.cart.items]
    return services.cart_errors(checkout.dbsession, items) or None
