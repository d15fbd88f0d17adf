"""The cart: server-side carts for guests and customers, priced live from the catalog.

A signed-in customer (Bearer token) has one open cart; a guest's cart is found by
the ``X-Cart-Token`` header that its first write answered with. Prices, names and
stock are read from the catalog on every read, never stored or taken from the
client. At login the guest cart is merged into the customer's (``hooks.py``).
Other plugins (orders) read the cart from Python through ``plugins.cart.services``.
"""
from marshmallow import Schema, fields, validate

from core.plugins import Manifest


class CartSettings(Schema):
    guest_cart_days = fields.Integer(
        load_default=30, validate=validate.Range(min=1, max=365),
        metadata={"description": "days a guest cart is kept after its last change; then "
                                 "its token stops working and the clean-up job deletes it"})
    max_quantity_per_line = fields.Integer(
        load_default=99, validate=validate.Range(min=1, max=10_000),
        metadata={"description": "most units of one variant a cart may hold"})
    max_lines = fields.Integer(
        load_default=100, validate=validate.Range(min=1, max=1000),
        metadata={"description": "most different variants a cart may hold"})


manifest = Manifest(
    name="cart",
    version="1.0.0",
    title="Cart",
    summary="Carts for guests and customers, priced live from the catalog, merged at login",
    depends=("catalog",),
    default=True,
    settings=CartSettings,
)


def includeme(config):
    config.add_route("cart.cart", "/cart")
    config.add_route("cart.items", "/cart/items")
    config.add_route("cart.item", "/cart/items/{item_id}")
    config.scan(".views")
