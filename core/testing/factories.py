"""Test data made through the services the application itself uses.

Every factory writes into the session it is given and flushes, so the rows have
ids and are visible to ``testapp`` requests of the same test (and rolled back
with it).
"""
import itertools
import uuid

from .app import PASSWORD


def make_user(dbsession, registry, staff=False, email=None, password=PASSWORD, name="Test"):
    """A user with ``.headers``: an ``Authorization: Bearer`` access token for requests."""
    from core.security import create_user, issue_access_token

    email = email or f"{'staff' if staff else 'customer'}-{uuid.uuid4().hex[:8]}@example.com"
    user = create_user(dbsession, email, password, name=name, staff=staff)
    dbsession.flush()
    token, _ = issue_access_token(registry.settings, user)
    user.headers = {"Authorization": f"Bearer {token}"}
    return user


class CatalogFactory:
    """Categories and products of the catalog plugin, made by ``plugins.catalog.services``."""

    def __init__(self, dbsession, currency="EUR"):
        self.dbsession = dbsession
        self.currency = currency
        self._numbers = itertools.count(1)
        # SKUs are unique in the whole catalog, also across tests that commit
        self._run = uuid.uuid4().hex[:6].upper()

    def category(self, name, parent=None, slug=None, position=0):
        from plugins.catalog import services

        data = {"name": name, "position": position}
        if parent is not None:
            data["parent_id"] = parent.id
        if slug is not None:
            data["slug"] = slug
        return services.create_category(self.dbsession, data)

    def product(self, name=None, category=None, variants=None, brand=None, description="",
                is_active=True, images=None, slug=None, options=None):
        """``variants``: ``[{"price": "9.99", "options": {...}, "stock": 3}, ...]``; by
        default one variant at 10.00 with 5 in stock. SKUs are made up when not given."""
        from plugins.catalog import services
        from plugins.catalog.schemas import ProductBody

        number = next(self._numbers)
        if variants is None:
            variants = [{"price": "10.00", "stock": 5}]
        body = {
            "name": name or f"Product {number}",
            "description": description,
            "brand": brand,
            "is_active": is_active,
            "images": images or [],
            "variants": [{"sku": f"T{self._run}-{number}-{index}", **variant}
                         for index, variant in enumerate(variants)],
        }
        if category is not None:
            body["category_id"] = category.id
        if slug is not None:
            body["slug"] = slug
        if options is not None:
            body["options"] = options
        product = services.create_product(self.dbsession, ProductBody().load(body),
                                          self.currency)
        self.dbsession.flush()
        return product


class CartFactory:
    """Open carts of the cart plugin, filled by ``plugins.cart.services`` (its rules hold:
    stock, per-line and per-cart limits)."""

    def __init__(self, dbsession, settings, currency):
        self.dbsession = dbsession
        self.settings = settings
        self.currency = currency

    def cart(self, user=None, items=()):
        """The open cart of ``user`` (made if needed), or a new guest cart whose token is
        ``cart.token``; ``items``: ``[(variant or variant id, quantity), ...]``."""
        from plugins.cart import services

        if user is not None:
            cart, token = services.open_user_cart(self.dbsession, user.id), None
        else:
            cart, token = services.create_guest_cart(self.dbsession)
        limits = services.Limits.from_settings(self.settings)
        for variant, quantity in items:
            variant_id = getattr(variant, "id", variant)
            services.add_item(self.dbsession, cart, variant_id, quantity, limits,
                              self.currency)
        self.dbsession.flush()
        self.dbsession.refresh(cart)
        cart.token = token
        return cart
