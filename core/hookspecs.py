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

    Called once per object: a page of 50 orders calls it 50 times. A plugin whose
    fields need the database implements ``serialize_many`` instead, so that a
    page costs it one query, not one per object.
    """


@hookspec
def serialize_many(kind, objs, data, request):
    """Add fields to the JSON representations of several objects at once.

    When: each time the owner plugin turns objects into JSON, a page of a list
    (``request.plugins.extend_many``) or a single object (``request.plugins.extend``,
    then ``objs`` holds one), before ``serialize`` is called for each of them.
    Implement it rather than ``serialize`` when the fields need the database: read
    what every object needs in one query.

    ``kind``: ``"<plugin>.<thing>"``, as for ``serialize``.
    ``objs``: the objects (a list). ``data``: their representations so far, a list
    in the same order (read them, do not change them).
    ``request``: the current request, or ``None`` outside a request.

    Returns: a list of the same length as ``objs`` holding, for each object, a dict
    of fields to add or ``None``; or ``None`` for none of them. Merged as the
    results of ``serialize`` are, before them.
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
# ``checkout`` is the orders plugin's ``plugins.orders.checkout.Checkout``. Context:
# ``checkout.request``, ``checkout.dbsession``, ``checkout.user`` (a
# ``core.security.User``, or None for a guest's quote), ``checkout.cart`` and
# ``checkout.cart_lines`` (the cart's lines priced from the catalog),
# ``checkout.currency``, ``checkout.placing`` (True while an order is placed, False
# for a quote). The client's input: ``address`` (the shipping address as a dict of
# name, phone, line1, line2, city, state, postal_code, country; or None),
# ``billing_address``, ``shipping_method``, ``coupon_codes``, ``gift_card_codes``,
# ``loyalty_points``, ``payment_method``, ``email``. The results of the phases that
# ran: ``errors``, ``lines``, ``discounts``, ``shipping_options``,
# ``shipping_option``, ``taxes``, ``tenders``, and the totals ``subtotal``,
# ``discount_total``, ``shipping``, ``tax``, ``total``, ``tender_total``,
# ``amount_due``. ``checkout.extra`` is a dict where a plugin may keep what it
# computed for a later phase, under its own name.
#
# Phases run in this order: validate, price_lines, discounts, shipping_options, tax,
# tenders, for every quote and again when the order is placed. They must not write
# to the database: a quote is computed the same way and keeps nothing. Amounts are
# ``core.money.Money`` in ``checkout.currency``; anything else is a programming
# error of the plugin (a 500 naming it). The totals always add up:
# total = subtotal - discount_total + shipping + tax; amount_due = total -
# tender_total. Hooks other than price_lines are called one plugin at a time, so
# each sees the answers of the plugins before it (hook wrappers are not called).


@hookspec
def checkout_validate(checkout):
    """Say what stops the checkout from going ahead (phase 1).

    ``checkout``: the Checkout; read ``checkout.cart``, ``checkout.cart_lines``,
    ``checkout.user``, the client's input and ``checkout.request``. The orders
    plugin reports the cart's own problems (empty, out of stock, no longer sold)
    and a missing shipping address first.

    When: first, for every quote and every order placement.

    Returns: a list of errors, each ``{"code": str, "message": str}``, optionally
    with ``"item_id"`` (the cart item at fault), ``"field"`` (the input at fault,
    such as ``"coupon_codes"``) and keys of your own (``"coupon": "SUMMER10"``); or
    ``None``. All plugins' lists are concatenated into the quote's ``errors``; any
    error makes placing the order a 422 (``checkout_invalid``) and nothing is
    written.
    """


@hookspec(firstresult=True)
def checkout_price_lines(checkout):
    """Price the cart's lines, never from the client (phase 2).

    ``checkout``: the Checkout; ``checkout.cart_lines`` are the cart's lines with
    the catalog's prices of this moment.

    First result: the first plugin that answers prices the lines. The orders
    plugin answers last (``trylast``) with the catalog's prices; a plugin with
    its own prices (price lists, B2B) answers with ``@hookimpl(tryfirst=True)``.

    Returns: a list of ``plugins.orders.checkout.Line`` (or dicts with its
    fields): ``variant_id``, ``quantity``, ``unit_price`` (Money) and the
    ``name``, ``sku``, ``options``, ``image_url``, ``item_id``, ``product_id`` to
    keep on the order; or ``None`` to leave it to another plugin. Each line's
    ``total`` is ``unit_price * quantity``.
    """


@hookspec
def checkout_discounts(checkout):
    """Take money off lines or off the order (phase 3): coupons, promotions.

    ``checkout``: the Checkout; ``checkout.lines`` are priced (``line.index``,
    ``line.total``, ``line.net``: its total less the discounts so far) and
    ``checkout.discounts`` holds the discounts of the plugins that ran before,
    so a plugin can refuse to combine.

    Returns: a list of discounts, each ``{"source": plugin name (default: yours),
    "code": str or None, "name": str (optional), "amount": Money}`` for an
    order-level discount, or with ``"lines": {line index: Money}`` instead of
    ``amount`` for a discount on given lines; or ``None``. The orders plugin caps
    each discount at what is left of its lines (a line never goes below zero),
    spreads order-level discounts over the lines in proportion to them
    (``Money.allocate``, exact to the minor unit) and records the amount really
    taken; a coupon that is not valid belongs in ``checkout_validate``.
    """


@hookspec
def checkout_shipping_options(checkout):
    """Offer ways to ship the order to ``checkout.address`` (phase 4).

    ``checkout``: the Checkout; ``checkout.address`` may be ``None`` (then offer
    nothing, or options that do not depend on it). The lines and discounts are
    final (a "free shipping over 50" rule reads ``checkout.subtotal`` and
    ``checkout.discount_total``).

    Returns: a list of options, each ``{"code": str, "name": str, "price": Money,
    "min_days": int, "max_days": int}``, or ``None``. The lists are concatenated
    (a code offered twice counts once); ``checkout.shipping_method`` picks one by
    code. With options offered and none picked, or an unknown code, the quote
    has an error (``shipping_method_required``, ``unknown_shipping_method``).
    """


@hookspec
def checkout_tax(checkout):
    """Compute the tax on the discounted lines and the shipping (phase 5).

    ``checkout``: the Checkout; ``checkout.lines`` (``line.net``),
    ``checkout.discounts``, ``checkout.address`` and ``checkout.shipping`` are
    final.

    Returns: a list of tax lines ``{"source": str (default: your plugin's name),
    "name": str, "rate": Decimal, "amount": Money}``, or ``None``. The amounts are
    added to the total (prices are without tax) and spread over the lines and
    the shipping, so that refunding a line gives its tax back too.
    """


@hookspec
def checkout_tenders(checkout):
    """Pay part of the total with stored value: gift cards, store credit, points (phase 6).

    ``checkout``: the Checkout; ``checkout.gift_card_codes`` and
    ``checkout.loyalty_points`` hold what the client asked to use.

    When: last, once the total is known; ``checkout.amount_due`` is what is left
    after the tenders of plugins that ran earlier. Check the balance here (an
    unknown or empty card is an error of ``checkout_validate`` or simply no
    tender); take it in ``order_placed``.

    Returns: a list of tenders ``{"source": plugin name (default: yours), "code":
    str or None, "amount": Money}``, or ``None``. The orders plugin caps each
    tender at the amount still due and drops tenders that come to zero. The
    ``source`` plugin gives the tender back in ``order_refunded``: while it is not
    enabled, refunds that would reach the tender are refused.
    """


@hookspec
def order_placed(order, checkout, dbsession, request):
    """Record what the order uses, in the same transaction that creates it (phase 7).

    ``order``: the new ``plugins.orders.models.Order`` (status payment_pending,
    with its ``lines``, ``adjustments`` and ``tenders`` written; a ``Tender`` has
    ``source``, ``code`` and ``amount`` in minor units). ``checkout``: the
    Checkout it was placed from. ``dbsession``: the session of the placing
    transaction. ``request``: the request placing it.

    When: after the order is written and its stock reserved, before the cart is
    closed and the payment started, before the transaction commits. A plugin
    records its redemptions here (coupon use, gift card debit, points debit) with
    a conditional UPDATE or a row lock, so that a concurrent order cannot spend
    the same thing; when it cannot (the card was emptied meanwhile), raise
    ``core.api.errors.Unprocessable`` (or another ``APIError``): the whole order
    is rolled back and the client gets that error.

    Returns: nothing.
    """


@hookspec
def payment_providers():
    """Declare payment providers (phase 8).

    When: when an order is placed (for its amount due), refunded, or its payment
    cancelled, and for ``GET /checkout/payment-methods``.

    Returns: a list of provider objects, each with ``name`` (the
    ``payment_method`` a client sends), ``title``, and the methods
    ``start(order, amount, request) -> dict`` (in the placing transaction: ask for
    ``amount`` (Money); answer ``{"reference": the provider's id, "client_secret":
    what the storefront needs or None, "instructions": text or None, "status":
    "pending" (default) or "paid" if the money is already taken}``) and
    ``refund(order, amount, request) -> dict`` (give ``amount`` back; answer
    ``{"reference": ...}``; raise an ``APIError`` to refuse, which rolls the
    refund back). Optional: ``cancel(order, request)`` (the order failed or was
    cancelled unpaid; raise an ``APIError`` to refuse when the money has arrived,
    and the order stays as it was), ``pending_minutes(request) -> int`` (how long an order may
    wait for the money) and ``staff_confirms_payment = True`` (staff marks orders
    paid, as for the ``manual`` provider). A provider reports results later with
    ``plugins.orders.payments.payment_succeeded`` / ``payment_failed``.
    """


@hookspec
def order_status_changed(order, old_status, new_status, dbsession, request):
    """An order moved from one status to another (phase 9).

    ``order``: the order. ``old_status``, ``new_status``: its status before and
    after. ``dbsession``: the session of the transaction making the change.
    ``request``: the request, or the ``core.tasks.TaskContext`` of a background
    job (both have ``dbsession``, ``plugins`` and ``registry``).

    When: inside the transaction that changes the status, after the stock moved:
    paid (``processing``), ``shipped``, ``delivered``, ``cancelled``, ``failed``,
    ``returned``, ``refunded``. Plugins complete or reverse what they did: a
    coupon use is released when the order is cancelled or failed, points are
    earned when it is paid. Money and stored value go back only through
    ``order_refunded``: an order that fails or is cancelled is refunded by the
    orders plugin, which calls that hook.

    Returns: nothing.
    """


@hookspec
def order_refunded(order, refund, amount, dbsession, request):
    """Money was given back on an order, in full or in part (phase 9).

    ``order``: the order. ``amount``: the Money given back by this refund.
    ``refund``: the ``plugins.orders.models.Refund``: ``refund.tenders`` lists
    what goes back to the tenders, each with its ``tender`` (``source``,
    ``code``) and ``amount`` in minor units, and ``provider_amount`` (minor units)
    the rest, which went back through the payment provider. The tenders come
    first, the latest first: a refund up to what they hold left goes to them
    alone. A gift card plugin credits back exactly the parts whose
    ``tender.source`` is its own; the orders plugin refuses a refund that would
    reach the tender of a plugin that is not enabled (409 ``tender_unavailable``),
    so the parts listed always have their plugin here. ``dbsession``: the session of the refund
    transaction. ``request``: the request or the task's context.

    When: inside the refund transaction, after the payment provider accepted it,
    also when an order fails or is cancelled with stored value on it. Plugins
    reverse in proportion (loyalty takes back the points earned on ``amount``).

    Returns: nothing.
    """


# --- the merchant admin (/admin) ---------------------------------------------------
#
# A plugin's admin pages are ordinary views in its own package, on routes added with
# ``core.admin.add_admin_route(config, "<plugin>.admin_<page>", "/<plugin>/...")``
# from its ``includeme`` and declared with ``@core.admin.admin_view(...)``; they
# answer 404 while the plugin is disabled. These hooks put them in front of staff.


@hookspec
def admin_menu(request):
    """Add entries to the menu of the merchant admin.

    When: on every admin page shown to a signed-in staff member; only enabled
    plugins are asked, so a plugin's entries go away while it is disabled.

    ``request``: the current request; ``request.admin.user`` is the signed-in
    ``User`` and ``request.admin.can(permission)`` tells what they may do.

    Returns: a list of entries, or ``None``. An entry is a dict: ``"title"``
    (str), ``"route_name"`` (one of the plugin's admin routes, without
    parameters), ``"permission"`` (str or ``None``: an entry the user lacks the
    permission for is left out), ``"order"`` (int: the menu is sorted by it, then
    by title; the kernel's Dashboard is 0 and Plugins 1000), and optionally
    ``"match"``, a prefix of route names on which the entry shows as the current
    one (default: ``route_name``).
    """


@hookspec
def admin_dashboard(request):
    """Add widgets to the dashboard, the admin's first page.

    When: each time the dashboard is shown; only enabled plugins are asked.

    ``request``: the current request, as for ``admin_menu``.

    Returns: a list of widgets, or ``None``. A widget is a dict with ``"title"``
    (str) and ``"order"`` (int, smaller first; the kernel's Plugins widget is 900
    and Accounts 950), and any of: ``"permission"`` (left out for users without
    it); ``"figures"``, a list of ``{"label": str, "value": str, "url": str or
    None}``; ``"table"``, ``{"columns": [str], "rows": [[cell]]}`` where a cell is
    a str or ``{"text": str, "url": str}``, with ``"empty"`` (str) shown when
    there are no rows; ``"link"``, ``{"title": str, "url": str}``; ``"template"``,
    the asset spec of a Jinja2 template included with ``widget`` and ``request``
    in its context, for anything else.
    """


@hookspec
def admin_customer_sections(request, user):
    """Add sections to an account's page in the merchant admin (/admin/customers/<id>).

    When: each time a member of staff opens the page of one account, a customer's
    or a staff member's; only enabled plugins are asked, so a plugin's section goes
    away while it is disabled.

    ``request``: the current request, as for ``admin_menu``. ``user``: the
    ``core.security.User`` whose page it is.

    Returns: a list of sections, or ``None``. A section is a dict with the keys of
    a dashboard widget (see ``admin_dashboard``): ``"title"`` (str) and
    ``"order"`` (int, smaller first; the account's own details and addresses
    always come first), and any of ``"permission"``, ``"figures"``, ``"table"``
    with ``"empty"``, ``"link"``, and ``"template"``, whose context also has the
    account as ``customer``. Answer for every account, also one your plugin has
    nothing on yet (no orders, no points): an empty section says so.
    """
