"""The checkout pipeline: the kernel's checkout hooks, phase by phase, over a cart.

``run(request, cart, data, user, placing)`` builds a ``Checkout``: it asks the
enabled plugins to validate, price the lines, discount, offer shipping, tax and
tender, in that order, and checks and adds up what they answer. Nothing is
written: a quote is a Checkout turned into JSON, and placing an order (services)
writes what a Checkout holds. docs/checkout.md is the guide for plugin authors.

Every amount is ``core.money.Money`` in the shop currency, and the totals add up
exactly in minor units:

    total      = subtotal - discount_total + shipping + tax
    amount_due = total - tender_total
"""
import dataclasses
import decimal
import logging
from typing import Any

from core.money import Money

log = logging.getLogger(__name__)

MAX_SOURCE = 64
MAX_CODE = 200


class PluginAnswerError(TypeError):
    """A plugin answered a checkout hook with something the protocol does not allow.

    A programming error of that plugin (a 500, logged with the plugin's name), never
    the client's fault.
    """


@dataclasses.dataclass
class Line:
    """One priced line of the checkout (``checkout.lines[index]``)."""

    index: int
    variant_id: int
    quantity: int
    unit_price: Money
    name: str = ""
    sku: str = ""
    options: dict = dataclasses.field(default_factory=dict)
    item_id: int | None = None  # the cart item
    product_id: int | None = None
    image_url: str | None = None
    weight_grams: int | None = None
    # filled by the orders plugin after the discounts phase, and the tax phase
    discount: Money | None = None
    tax: Money | None = None

    @property
    def total(self):
        return self.unit_price * self.quantity

    @property
    def net(self):
        """The line's total less its share of the discounts."""
        return self.total - (self.discount or Money.zero(self.unit_price.currency))


@dataclasses.dataclass
class Checkout:
    """What every checkout hook receives. Read it; do not change it (except through
    what a hook returns).

    Input (what the client asked): ``address`` (the shipping address as a dict, or
    None), ``billing_address``, ``shipping_method`` (a code or None),
    ``coupon_codes``, ``gift_card_codes``, ``loyalty_points``, ``payment_method``,
    ``email``. Context: ``request`` (a request, or a task context in a background
    job), ``dbsession``, ``user`` (``core.security.User`` or None for a guest's
    quote), ``cart`` (``plugins.cart.models.Cart`` or None), ``cart_lines`` (the
    cart's ``CartLine``s, priced from the catalog), ``currency``, ``placing`` (True
    while an order is being placed, False for a quote).

    Results of the phases so far: ``errors``, ``lines``, ``discounts``,
    ``shipping_options``, ``shipping_option``, ``taxes``, ``tenders``, and the
    totals ``subtotal``, ``discount_total``, ``shipping``, ``tax``, ``total``,
    ``tender_total``, ``amount_due`` (all Money).
    """

    request: Any
    dbsession: Any
    currency: str
    user: Any = None
    cart: Any = None
    cart_lines: list = dataclasses.field(default_factory=list)
    placing: bool = False
    # the client's input
    address: dict | None = None
    billing_address: dict | None = None
    shipping_method: str | None = None
    coupon_codes: list = dataclasses.field(default_factory=list)
    gift_card_codes: list = dataclasses.field(default_factory=list)
    loyalty_points: int = 0
    payment_method: str | None = None
    email: str = ""
    customer_note: str = ""
    # the phases' results
    errors: list = dataclasses.field(default_factory=list)
    lines: list = dataclasses.field(default_factory=list)
    discounts: list = dataclasses.field(default_factory=list)
    shipping_options: list = dataclasses.field(default_factory=list)
    shipping_option: dict | None = None
    taxes: list = dataclasses.field(default_factory=list)
    tenders: list = dataclasses.field(default_factory=list)
    # what plugins want to keep between phases, under their own name
    extra: dict = dataclasses.field(default_factory=dict)

    def money(self, amount_minor=0):
        return Money(amount_minor, self.currency)

    @property
    def zero(self):
        return Money.zero(self.currency)

    @property
    def subtotal(self):
        return Money.sum((line.total for line in self.lines), self.currency)

    @property
    def discount_total(self):
        return Money.sum((d["amount"] for d in self.discounts), self.currency)

    @property
    def shipping(self):
        return self.shipping_option["price"] if self.shipping_option else self.zero

    @property
    def tax(self):
        return Money.sum((t["amount"] for t in self.taxes), self.currency)

    @property
    def total(self):
        return self.subtotal - self.discount_total + self.shipping + self.tax

    @property
    def tender_total(self):
        return Money.sum((t["amount"] for t in self.tenders), self.currency)

    @property
    def amount_due(self):
        return self.total - self.tender_total

    def error(self, code, message, **about):
        self.errors.append({"code": code, "message": message, **about})


# --- calling hooks ------------------------------------------------------------------------


def in_turn(caller, **kwargs):
    """Call each implementation of a hook on its own, in pluggy's order, yielding
    ``(plugin name, result)``, so that a phase can take each plugin's answer into
    account before the next plugin runs. Hook wrappers are not called here."""
    for impl in reversed(caller.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        yield impl.plugin_name, impl.function(*[kwargs[name] for name in impl.argnames])


def _money(value, currency, plugin, what, allow_zero=True):
    if not isinstance(value, Money):
        raise PluginAnswerError(f"plugin {plugin}: {what} must be core.money.Money, "
                                f"not {type(value).__name__}")
    if value.currency != currency:
        raise PluginAnswerError(f"plugin {plugin}: {what} is in {value.currency}, "
                                f"the shop sells in {currency}")
    if value.is_negative() or (not allow_zero and value.is_zero()):
        raise PluginAnswerError(f"plugin {plugin}: {what} must be positive, got {value}")
    return value


def _text(value, plugin, what, max_length, optional=True):
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise PluginAnswerError(f"plugin {plugin}: {what} must be a string of 1 to "
                                f"{max_length} characters, got {value!r}")
    return value


def _list(result, plugin, hook):
    if result is None:
        return []
    if not isinstance(result, (list, tuple)):
        raise PluginAnswerError(f"plugin {plugin}: {hook} must return a list or None")
    for entry in result:
        if not isinstance(entry, dict):
            raise PluginAnswerError(f"plugin {plugin}: {hook} must return a list of dicts")
    return list(result)


# --- the phases -----------------------------------------------------------------------------


def validate(checkout, hook):
    """Phase 1: every plugin's errors, concatenated."""
    for plugin, result in in_turn(hook.checkout_validate, checkout=checkout):
        for error in _list(result, plugin, "checkout_validate"):
            if not isinstance(error.get("code"), str) or not isinstance(error.get("message"),
                                                                        str):
                raise PluginAnswerError(f"plugin {plugin}: an error needs a code and a "
                                        "message (strings)")
            checkout.errors.append(dict(error))


def price_lines(checkout, hook):
    """Phase 2: the first plugin that answers prices the lines."""
    result = hook.checkout_price_lines(checkout=checkout)
    if result is None:
        raise PluginAnswerError("no plugin priced the checkout's lines "
                                "(checkout_price_lines answered None)")
    lines = []
    for index, entry in enumerate(result):
        if isinstance(entry, Line):
            line = dataclasses.replace(entry, index=index)
        elif isinstance(entry, dict):
            known = {f.name for f in dataclasses.fields(Line)}
            line = Line(**{k: v for k, v in entry.items() if k in known and k != "index"},
                        index=index)
        else:
            raise PluginAnswerError("checkout_price_lines must return Lines or dicts")
        _money(line.unit_price, checkout.currency, "price_lines", f"line {index} unit_price")
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            raise PluginAnswerError(f"line {index}: quantity must be a positive int")
        line.discount = checkout.zero
        line.tax = checkout.zero
        lines.append(line)
    checkout.lines = lines


def discounts(checkout, hook):
    """Phase 3: each plugin's discounts, capped so that no line goes below zero.

    A discount with ``lines`` ({line index: Money}) takes those amounts off those
    lines (each capped at what is left of the line; its ``amount`` is then their
    sum and may be left out); one without is order-level and
    is spread over the lines in proportion to what is left of each (Money.allocate),
    capped at what is left of the order. ``amount`` becomes what was really taken.
    """
    for plugin, result in in_turn(hook.checkout_discounts, checkout=checkout):
        for entry in _list(result, plugin, "checkout_discounts"):
            per_line = entry.get("lines")
            if per_line is not None:
                shares = _line_discounts(checkout, plugin, per_line)
            else:
                amount = _money(entry.get("amount"), checkout.currency, plugin,
                                "a discount amount")
                shares = _order_discount(checkout, amount)
            for line, share in zip(checkout.lines, shares):
                line.discount = line.discount + share
            checkout.discounts.append({
                "source": _text(entry.get("source", plugin), plugin, "source", MAX_SOURCE,
                                optional=False),
                "code": _text(entry.get("code"), plugin, "code", MAX_CODE),
                "name": entry.get("name") or "",
                "amount": Money.sum(shares, checkout.currency),
                "lines": {line.index: share for line, share in zip(checkout.lines, shares)
                          if share},
            })


def _line_discounts(checkout, plugin, per_line):
    if not isinstance(per_line, dict):
        raise PluginAnswerError(f"plugin {plugin}: a discount's lines must be a dict "
                                "{line index: Money}")
    shares = [checkout.zero] * len(checkout.lines)
    for index, value in per_line.items():
        if not isinstance(index, int) or not 0 <= index < len(checkout.lines):
            raise PluginAnswerError(f"plugin {plugin}: no line {index!r} to discount")
        value = _money(value, checkout.currency, plugin, f"the discount of line {index}")
        line = checkout.lines[index]
        shares[index] = min(shares[index] + value, line.net)
    return shares


def _order_discount(checkout, amount):
    left = [line.net for line in checkout.lines]
    room = Money.sum(left, checkout.currency)
    amount = min(amount, room)
    if amount.is_zero():
        return [checkout.zero] * len(left)
    return amount.allocate([part.amount for part in left])


def shipping(checkout, hook):
    """Phase 4: everyone's options; ``shipping_method`` picks one by code."""
    options, seen = [], set()
    for plugin, result in in_turn(hook.checkout_shipping_options, checkout=checkout):
        for entry in _list(result, plugin, "checkout_shipping_options"):
            code = _text(entry.get("code"), plugin, "a shipping option's code", 64,
                         optional=False)
            if code in seen:
                log.warning("plugin %s offers shipping option %r again; the first one counts",
                            plugin, code)
                continue
            seen.add(code)
            options.append({
                "code": code,
                "name": _text(entry.get("name") or code, plugin, "name", 200, optional=False),
                "price": _money(entry.get("price"), checkout.currency, plugin,
                                "a shipping price"),
                "min_days": entry.get("min_days"),
                "max_days": entry.get("max_days"),
                "source": entry.get("source", plugin),
            })
    checkout.shipping_options = options
    wanted = checkout.shipping_method
    if wanted is not None:
        checkout.shipping_option = next((o for o in options if o["code"] == wanted), None)
        if checkout.shipping_option is None:
            checkout.error("unknown_shipping_method",
                           f"There is no shipping method {wanted!r} for this order.",
                           field="shipping_method")
    elif options:
        checkout.error("shipping_method_required", "Choose one of the shipping options.",
                       field="shipping_method")


def tax(checkout, hook):
    """Phase 5: tax lines, added up and spread over the lines and the shipping."""
    for plugin, result in in_turn(hook.checkout_tax, checkout=checkout):
        for entry in _list(result, plugin, "checkout_tax"):
            rate = entry.get("rate")
            if rate is not None and not isinstance(rate, (decimal.Decimal, int, str)):
                raise PluginAnswerError(f"plugin {plugin}: a tax rate is a Decimal, not "
                                        f"{type(rate).__name__}")
            checkout.taxes.append({
                "source": _text(entry.get("source", plugin), plugin, "source", MAX_SOURCE,
                                optional=False),
                "name": _text(entry.get("name") or "Tax", plugin, "name", 200,
                              optional=False),
                "rate": None if rate is None else decimal.Decimal(rate),
                "amount": _money(entry.get("amount"), checkout.currency, plugin,
                                 "a tax amount"),
            })
    total = checkout.tax
    weights = [line.net.amount for line in checkout.lines] + [checkout.shipping.amount]
    if total and any(weights):
        *shares, _shipping_share = total.allocate(weights)
        for line, share in zip(checkout.lines, shares):
            line.tax = share


def tenders(checkout, hook):
    """Phase 6: stored value, each tender capped at what is still due."""
    for plugin, result in in_turn(hook.checkout_tenders, checkout=checkout):
        for entry in _list(result, plugin, "checkout_tenders"):
            amount = _money(entry.get("amount"), checkout.currency, plugin,
                            "a tender amount")
            amount = min(amount, checkout.amount_due)
            if amount.is_zero():
                continue
            checkout.tenders.append({
                "source": _text(entry.get("source", plugin), plugin, "source", MAX_SOURCE,
                                optional=False),
                "code": _text(entry.get("code"), plugin, "code", MAX_CODE),
                "amount": amount,
            })


PHASES = (validate, price_lines, discounts, shipping, tax, tenders)


def run(request, cart, cart_lines, data, user, currency, placing=False):
    """A Checkout of ``cart`` for the quote or order body ``data``, all phases run."""
    checkout = Checkout(
        request=request, dbsession=request.dbsession, currency=currency, user=user,
        cart=cart, cart_lines=list(cart_lines), placing=placing,
        address=data.get("shipping_address"), billing_address=data.get("billing_address"),
        shipping_method=data.get("shipping_method"),
        coupon_codes=list(data.get("coupon_codes", [])),
        gift_card_codes=list(data.get("gift_card_codes", [])),
        loyalty_points=data.get("loyalty_points", 0),
        payment_method=data.get("payment_method"),
        email=user.email if user is not None else "",
        customer_note=data.get("note", ""),
    )
    hook = request.plugins.hook
    for phase in PHASES:
        phase(checkout, hook)
    return checkout
