"""Every extension point of Emporium: this module is the hook reference.

A plugin implements hooks in its ``hooks.py`` with ``@hookimpl``::

    from core.plugins import hookimpl

    @hookimpl
    def checkout_discounts(checkout):
        ...

Only the hooks of *enabled* plugins are called (the kernel filters them per
request); a plugin never needs to check whether it is enabled.

Order: implementations run in the order ``emporium plugins list`` shows: a
plugin's hook runs after the hooks of every plugin it depends on, and otherwise
by name, the same in every process. ``@hookimpl(tryfirst=True)`` and
``@hookimpl(trylast=True)`` move one implementation to the front or the back;
``@hookimpl(wrapper=True)`` wraps all the others (see pluggy). Hooks marked
"first result" stop at the first implementation that returns something other
than ``None``. Every other hook returns the list of the non-``None`` results, in
call order.

Arguments are passed by keyword, so an implementation may accept only the
arguments it needs.
"""
import pluggy

hookspec = pluggy.HookspecMarker("emporium")


# --- configuration and lifecycle -------------------------------------------------


@hookspec
def configure(config):
    """Add to the Pyramid configuration after every plugin's ``includeme`` ran.

    ``checkout``: the Checkout; ``checkout.lines`` are priced, ``checkout.coupon_codes``
    holds the codes the client sent.

    When: once per process at start-up, for every loaded plugin (enabled or not,
    since routes exist in every process and answer 404 while their plugin is
    disabled).

    ``config``: the Pyramid ``Configurator``. A plugin's own routes and views belong
    in its package's ``includeme(config)``; this hook is for what needs every
    plugin's routes to exist first, such as adding a view to another plugin's
    route or a request method that reads other plugins' settings.

    Returns: nothing.
    """


@hookspec
def install(dbsession, settings):
    """Seed the plugin's own data right after its migrations ran.

    When: called on the plugin being installed only, inside the install
    transaction (a failure here undoes the migrations and leaves the plugin
    available).

    ``dbsession``: the SQLAlchemy session of the operation.
    ``settings``: the plugin's effective settings (a dict).

    Returns: nothing.
    """


@hookspec
def upgrade(dbsession, from_version, to_version):
    """Convert the plugin's data after its code grew a version.

    When: on the plugin being upgraded only, by ``emporium db upgrade`` or
    ``emporium init``, after its migrations ran to head, in the same transaction.

    ``dbsession``: the SQLAlchemy session of the operation.
    ``from_version``: the version recorded when it was installed or last upgraded.
    ``to_version``: the version of the code now running.

    Returns: nothing.
    """


@hookspec
def uninstall(dbsession, purge):
    """Clean up before the plugin is uninstalled.

    When: on the plugin being uninstalled only, before its tables are dropped
    (``purge`` true) or kept (``purge`` false), inside the uninstall transaction.

    ``dbsession``: the SQLAlchemy session of the operation.
    ``purge``: true when the merchant asked to delete the plugin's data.

    Returns: nothing.
    """


@hookspec
def plugin_state_changed(name, old_state, new_state, dbsession):
    """React to another plugin being installed, enabled, disabled or uninstalled.

    When: after each step of a lifecycle operation, inside its transaction, on
    every plugin enabled after the step (so a plugin being disabled is not told).

    ``name``: the plugin whose state changed.
    ``old_state``, ``new_state``: one of ``available``, ``enabled``, ``disabled``.
    ``dbsession``: the SQLAlchemy session of the operation.

    Returns: nothing.
    """


@hookspec
def demo_data(dbsession):
    """Add demo content for ``emporium init --demo``.

    When: on each enabled plugin, one plugin at a time in dependency order (so the
    catalog's products exist before the cart's demo carts). It must be safe to run
    twice: look before inserting.

    ``dbsession``: the SQLAlchemy session to add the demo rows to.

    Returns: nothing.
    """


# --- representation --------------------------------------------------------------


@hookspec
def serialize(kind, obj, data, request):
    """Add fields to the JSON representation of another plugin's object.

    When: each time the owner plugin turns an object into JSON, for example
    ``kind="orders.order"`` when an order is returned.

    ``kind``: ``"<plugin>.<thing>"``, named by the plugin that owns the object.
    ``obj``: the object (a model instance).
    ``data``: the representation built so far (read it, do not change it).
    ``request``: the current request, or ``None`` outside a request.

    Returns: a dict of fields to add, or ``None``. The kernel merges the dicts in
    hook order into ``data``; a key that is already present is not overwritten.
    """


# --- accounts ---------------------------------------------------------------------


@hookspec
def user_registered(user, request):
    """A new customer account was created.

    ``user``: the ``core.security.User``. ``request``: the current request.
    When: inside the registration transaction. Returns: nothing.
    """


@hookspec
def user_logged_in(user, request):
    """A user logged in with e-mail and password (not on token refresh).

    When: inside the login transaction, after the tokens are made; the cart plugin
    merges the guest cart of ``request`` (``X-Cart-Token``) into the user's cart here.

    ``user``: the ``core.security.User``. ``request``: the current request.
    Returns: nothing.
    """


# --- checkout: the protocol of design.md, phase by phase --------------------------
#
# ``checkout`` is the orders plugin's Checkout object. It carries the request
# (``checkout.request``), the database session (``checkout.dbsession``), the user
# or None, the cart, the shop currency, the input of the quote (address,
# shipping_method, coupon_codes, gift_card_codes, loyalty_points) and the results
# of the earlier phases (lines, discounts, shipping, tax, tenders). Amounts are
# ``core.money.Money``. Phases run in this order: validate, price_lines, discounts,
# shipping_options, tax, tenders; nothing is written to the database until
# ``order_placed``.


@hookspec
def checkout_validate(checkout):
    """Check that the checkout can go ahead (phase 1).

    ``checkout``: the Checkout; read ``checkout.cart``, ``checkout.user`` and
    ``checkout.request``.

    When: first, for every quote and every order placement.

    Returns: a list of errors, each ``{"code": str, "message": str}`` with an
    optional ``"item_id"`` or ``"code"`` naming what it is about, or ``None``. All
    plugins' lists are concatenated; any error makes placement a 422.
    """


@hookspec(firstresult=True)
def checkout_price_lines(checkout):
    """Price the cart's lines from the catalog, never from the client (phase 2).

    ``checkout``: the Checkout; ``checkout.cart`` holds the items to price.

    First result: the first plugin that answers prices the lines.

    Returns: a list of lines, each with ``variant_id``, ``quantity``,
    ``unit_price`` (Money), ``total`` (Money) and the name, sku and options to keep
    on the order; or ``None`` to leave it to another plugin.
    """


@hookspec
def checkout_discounts(checkout):
    """Reduce the price of lines or of the order (phase 3).

    When: after the lines are priced. ``checkout.discounts`` holds the discounts of
    plugins that ran earlier, so a plugin can refuse to combine.

    Returns: a list of discounts, each ``{"source": plugin name, "code": str or
    None, "amount": Money, "lines": {line index: Money} (optional)}``, or ``None``.
    The lists of all plugins are concatenated; the orders plugin caps the total at
    the subtotal and spreads order-level discounts over the lines.
    """


@hookspec
def checkout_shipping_options(checkout):
    """Offer ways to ship the order to ``checkout.address`` (phase 4).

    ``checkout``: the Checkout; ``checkout.address`` may be ``None`` (then say so in
    ``checkout_validate`` rather than here).

    Returns: a list of options, each ``{"code": str, "name": str, "price": Money,
    "min_days": int, "max_days": int}``, or ``None``. The lists are concatenated;
    ``checkout.shipping_method`` picks one of them by code.
    """


@hookspec
def checkout_tax(checkout):
    """Compute the tax on the discounted lines and the shipping (phase 5).

    ``checkout``: the Checkout; ``checkout.lines``, ``checkout.discounts`` and
    ``checkout.shipping`` are final.

    Returns: a list of tax lines ``{"source": str, "name": str, "rate": Decimal,
    "amount": Money}``, or ``None``. The amounts are added up.
    """


@hookspec
def checkout_tenders(checkout):
    """Pay part of the total with stored value: gift cards, store credit, points (phase 6).

    ``checkout``: the Checkout; ``checkout.gift_card_codes`` and
    ``checkout.loyalty_points`` hold what the client asked to use.

    When: last, once the total is known; ``checkout.amount_due`` is what is left
    after the tenders of plugins that ran earlier.

    Returns: a list of tenders ``{"source": plugin name, "code": str or None,
    "amount": Money}``, or ``None``. A tender never exceeds the amount due.
    """


@hookspec
def order_placed(order, checkout, dbsession):
    """Record what the order uses, in the same transaction that creates it (phase 7).

    ``order``: the new order (with its lines). ``checkout``: the Checkout it was
    placed from. ``dbsession``: the session of the placing transaction.

    When: after the order and its lines are written and the stock is reserved,
    before the transaction commits. A plugin records its redemptions here (coupon
    use, gift card debit, points debit), locking its rows so that a concurrent
    order cannot spend the same thing. Raising ``core.api.errors.APIError``
    rolls the whole order back and answers with that error.

    Returns: nothing.
    """


@hookspec
def payment_providers():
    """Declare payment providers (phase 8).

    When: when an order is placed with a ``payment_method``, and for listing the
    methods a storefront may offer.

    Returns: a list of provider objects, each with ``name`` (the
    ``payment_method`` a client sends), ``title``, and the methods
    ``start(order, amount, request) -> dict`` (the order's ``payment`` JSON, for
    example a Stripe client_secret) and ``refund(order, amount, request)``.
    """


@hookspec
def order_status_changed(order, old_status, new_status, dbsession):
    """An order moved from one status to another (phase 9).

    ``order``: the order. ``old_status``, ``new_status``: its status before and
    after. ``dbsession``: the session of the transaction making the change.

    When: inside the transaction that changes the status: paid (``processing``),
    ``shipped``, ``delivered``, ``cancelled``, ``failed``, ``returned``,
    ``refunded``. Plugins complete or reverse what they did: restock, release a
    coupon use, credit a gift card back, earn or take back points.

    Returns: nothing.
    """


@hookspec
def order_refunded(order, amount, dbsession):
    """Money was given back on an order, in full or in part (phase 9).

    ``order``: the order. ``dbsession``: the session of the refund transaction.

    ``amount``: the Money refunded by this refund. When: inside the refund
    transaction, after the payment provider accepted it; plugins reverse in
    proportion (for example loyalty takes back the points earned on ``amount``).

    Returns: nothing.
    """
