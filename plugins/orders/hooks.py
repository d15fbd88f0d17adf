"""The orders plugin's own hook implementations (see core/hookspecs.py): the cart's
checks, pricing from the catalog (the fallback any pricing plugin may pre-empt with
``tryfirst``), and the ``manual`` payment provider."""
from core.plugins import hookimpl
from plugins.cart import services as carts

from .admin import (  # noqa: F401  (the admin's order desk)
    admin_customer_sections, admin_dashboard, admin_menu)
from .checkout import Line
from .payments import ManualProvider

_MANUAL = ManualProvider()


@hookimpl(tryfirst=True)
def checkout_validate(checkout):
    # the cart's own problems (empty, out of stock, no longer sold, ...), then ours
    priced = carts.PricedCart(cart=checkout.cart, lines=checkout.cart_lines,
                              subtotal=checkout.zero, currency=checkout.currency)
    errors = carts.checkout_errors(priced)
    settings = checkout.request.plugins.settings("orders")
    if settings["require_shipping_address"] and checkout.address is None:
        errors.append({"code": "address_required", "field": "shipping_address",
                       "message": "Give a shipping address (shipping_address or address_id)."})
    return errors


@hookimpl(trylast=True)
def checkout_price_lines(checkout):
    """The cart's lines at the catalog's prices of this moment."""
    return [Line(index=index, item_id=line.item_id, variant_id=line.variant_id,
                 product_id=line.product_id, name=line.name, sku=line.sku,
                 options=dict(line.options), image_url=line.image_url,
                 quantity=line.quantity, unit_price=line.unit_price,
                 weight_grams=line.weight_grams)
            for index, line in enumerate(checkout.cart_lines)
            if line.unit_price.currency == checkout.currency]


@hookimpl
def payment_providers():
    return [_MANUAL]
