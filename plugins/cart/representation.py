"""The JSON of a cart, as frontends read it (see docs/cart.md).

Money is a decimal string with ``currency`` beside it. Other plugins add fields
through the ``serialize`` hook (or ``serialize_many``, once for all the items): kind
``cart.item`` with the ``services.CartLine`` as the object, and kind ``cart.cart``
with the ``services.PricedCart``.
"""
from . import services


def line_data(line):
    return {
        "id": line.item_id,
        "variant_id": line.variant_id,
        "product_id": line.product_id,
        "product_slug": line.product_slug,
        "name": line.name,
        "sku": line.sku,
        "options": dict(line.options),
        "image_url": line.image_url,
        "quantity": line.quantity,
        "unit_price": str(line.unit_price),
        "line_total": str(line.line_total),
        "currency": line.unit_price.currency,
        "available": line.available,
        "available_quantity": line.available_quantity,
        "problems": list(line.problems),
    }


def cart_data(priced, guest_cart_days):
    """The priced cart as a dict of plain JSON values, without other plugins' fields."""
    cart = priced.cart
    expires = services.expires_at(cart, guest_cart_days) if cart is not None else None
    return {
        "id": cart.id if cart is not None else None,
        "items": [line_data(line) for line in priced.lines],
        "subtotal": str(priced.subtotal),
        "currency": priced.currency,
        "item_count": priced.item_count,
        "line_count": len(priced.lines),
        "has_problems": priced.has_problems,
        "expires_at": expires.isoformat() if expires is not None else None,
        "updated_at": cart.updated_at.isoformat() if cart is not None else None,
    }


def cart_json(request, priced):
    """``cart_data`` with the fields enabled plugins add (kinds cart.cart and cart.item)."""
    data = cart_data(priced, services.limits(request).guest_cart_days)
    plugins = request.plugins
    plugins.extend_many("cart.item", priced.lines, data["items"], request)
    return plugins.extend("cart.cart", priced, data, request)
