"""Gift cards: stored money with a random code, issued by staff or sold as a catalog
product, checked by customers and spent at checkout as a tender, never overdrawn.

A card's code is shown once, when it is issued (the API's answer, the CLI, the
buyer's e-mail); the database keeps its SHA-256 and its last four characters
only, so a copy of the database holds no code that can be spent. Every change of
a balance is a ledger row. Customers use ``GET /gift-cards/{code}`` (rate limited
per client address) and ``gift_card_codes`` at checkout; staff use
``/admin/gift-cards`` (permission ``giftcards.manage``). See docs/giftcards.md.
"""
from marshmallow import Schema, fields, validate

from core.plugins import Manifest

from .codes import MAX_LENGTH, MIN_LENGTH


class GiftCardsSettings(Schema):
    code_length = fields.Integer(
        load_default=MIN_LENGTH, validate=validate.Range(min=MIN_LENGTH, max=MAX_LENGTH),
        metadata={"description": f"characters of a new card's code ({MIN_LENGTH} to "
                                 f"{MAX_LENGTH}, 5 random bits each), shown in groups of 4"})
    valid_days = fields.Integer(
        load_default=3 * 365, validate=validate.Range(min=0, max=100 * 365),
        metadata={"description": "days a new card can be spent, unless its issuer or its "
                                 "gift card product says otherwise; 0: it never expires"})
    lookup_free_misses = fields.Integer(
        load_default=10, validate=validate.Range(min=1, max=1000),
        metadata={"description": "unknown codes a client address may try (balance checks "
                                 "and checkouts) before it is refused for a while"})
    lookup_max_block_seconds = fields.Integer(
        load_default=900, validate=validate.Range(min=1, max=3600),
        metadata={"description": "the longest an address is refused after too many "
                                 "unknown codes (the wait doubles with each miss)"})


manifest = Manifest(
    name="giftcards",
    version="1.0.0",
    title="Gift cards",
    summary="Gift cards issued by staff or sold as products, checked, and spent at checkout",
    depends=("orders",),
    default=False,
    settings=GiftCardsSettings,
)

MANAGE = "giftcards.manage"


def includeme(config):
    config.declare_permission(MANAGE, "Issue gift cards, see their codes' last characters, "
                                      "balances and ledgers, deactivate and adjust them, "
                                      "and mark catalog products as gift cards")
    # the customer's balance check
    # (POST /gift-cards/lookup first: GET /gift-cards/lookup is a code like any other)
    config.add_route("giftcards.lookup", "/gift-cards/lookup", request_method="POST")
    config.add_route("giftcards.check", "/gift-cards/{code}")
    # staff; the products' routes first, so that "products" is never read as a card id
    config.add_route("giftcards.admin_products", "/admin/gift-cards/products")
    config.add_route("giftcards.admin_product", "/admin/gift-cards/products/{product_id}")
    config.add_route("giftcards.admin_cards", "/admin/gift-cards")
    config.add_route("giftcards.admin_card", "/admin/gift-cards/{id}")
    config.add_route("giftcards.admin_adjust", "/admin/gift-cards/{id}/adjust")
    config.scan(".views")
    config.include(".admin")  # the merchant admin's pages, under /admin/giftcards
