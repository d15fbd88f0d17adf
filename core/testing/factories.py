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


# where ``make_order`` sends an order when no address is given
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Analytical Street", "city": "London",
           "postal_code": "N1 9GU", "country": "GB"}

# the moves that take a new order (payment_pending) to each status
PATHS = {
    "payment_pending": (),
    "processing": ("pay",),
    "shipped": ("pay", "ship"),
    "delivered": ("pay", "ship", "deliver"),
    "cancelled": ("cancel",),
    "failed": ("fail",),
    "returned": ("pay", "ship", "deliver", "return"),
    "refunded": ("pay", "ship", "deliver", "return", "refund"),
}
ALIASES = {"paid": "processing"}


class OrderFactory:
    """Orders of the orders plugin, placed by ``plugins.orders.services.place_order``
    from a customer's cart (every plugin's checkout hooks run, stock is reserved) and
    moved on by the same services staff and payment providers use."""

    def __init__(self, dbsession, registry, make_cart, catalog):
        self.dbsession = dbsession
        self.registry = registry
        self.make_cart = make_cart  # CartFactory.cart
        self.catalog = catalog

    def order(self, items=None, customer=None, status="processing", payment_method="manual",
              shipping_address=None, **body):
        """A placed order (``plugins.orders.models.Order``) moved on to ``status``.

        ``items``: ``[(variant, quantity), ...]``, each variant given as itself, its id
        or its product (its first variant), added to the customer's cart, whose every
        line is ordered. By default the cart as it is, or, when it is empty, one unit
        of a new product at 10.00.
        ``customer``: a user of ``make_user`` (default: a new customer), also
        ``order.customer``. ``status``: ``payment_pending``, ``processing`` (or
        ``paid``), ``shipped``, ``delivered``, ``cancelled`` (before it was paid),
        ``failed``, ``returned`` or ``refunded`` (returned, then refunded in full).
        ``body``: more of the order body (``shipping_method``, ``coupon_codes``,
        ``gift_card_codes``, ``loyalty_points``, ``billing_address``, ``note``).
        """
        from plugins.orders import services
        from plugins.orders.schemas import OrderBody

        status = ALIASES.get(status, status)
        if status not in PATHS:
            raise ValueError(f"make_order cannot make a {status!r} order; one of: "
                             f"{', '.join([*PATHS, *ALIASES])}")
        if customer is None:
            customer = make_user(self.dbsession, self.registry)
        cart = self.make_cart(customer, [(_variant(item), quantity)
                                         for item, quantity in items or ()])
        if items is None and not cart.items:
            self.make_cart(customer, [(_variant(self.catalog.product()), 1)])
        if "address_id" not in body:  # a saved address of the customer instead
            body["shipping_address"] = shipping_address or ADDRESS
        data = OrderBody().load(dict(body, payment_method=payment_method))
        request = self._request(customer)
        order, _created = services.place_order(request, data, uuid.uuid4().hex)
        for move in PATHS[status]:
            # tenders that paid it all (or a provider that took the money at once)
            # made it processing already
            if order.status != status and not (move == "pay"
                                               and order.status != "payment_pending"):
                self._move(request, order, move)
        if order.status != status:
            raise RuntimeError(f"make_order: order {order.number} ended up {order.status}, "
                               f"not {status} (its tenders or the orders settings decided)")
        self.dbsession.flush()
        order.customer = customer
        return order

    def _request(self, user):
        """A request of ``user`` on the test's session. Its transaction never commits,
        so what would be sent after the commit (the mails) is not sent."""
        import transaction
        from pyramid.request import Request, apply_request_extensions

        from core.security import issue_access_token

        token, _ = issue_access_token(self.registry.settings, user)
        request = Request.blank("/", base_url="http://shop.test",
                                headers={"Authorization": f"Bearer {token}"})
        request.registry = self.registry
        apply_request_extensions(request)
        request.tm = transaction.TransactionManager(explicit=True)
        request.tm.begin()
        request.dbsession = self.dbsession
        return request

    @staticmethod
    def _move(request, order, move):
        from plugins.orders import payments, services

        note = "make_order"
        if move == "pay":
            payment = order.payment
            provider = payments.provider(request, payment.provider)
            if getattr(provider, "staff_confirms_payment", False):
                return services.mark_paid(request, order, note=note)
            # as the provider's webhook reports it
            return payments.payment_succeeded(request, payment.provider, payment.reference)
        moves = {
            "ship": lambda: services.ship(request, order, carrier="Test Post",
                                          tracking_number="TP-1"),
            "deliver": lambda: services.deliver(request, order),
            "return": lambda: services.return_order(request, order),
            "refund": lambda: services.refund(request, order, note=note),
            "cancel": lambda: services.cancel_order(request, order, actor="staff", note=note),
            "fail": lambda: services.fail_order(request, order, note=note),
        }
        return moves[move]()


def _variant(item):
    """A variant (or its id) from a variant, a variant id or a product (its first)."""
    variants = getattr(item, "variants", None)
    return variants[0] if variants else item
