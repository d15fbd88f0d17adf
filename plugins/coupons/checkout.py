"""The coupons' part of the checkout: which of the codes sent apply, with the reason for
each one that does not (``evaluate``), and what the ones that apply take off
(``discounts``). Nothing here writes: a quote runs it too (docs/checkout.md).

Stacking: codes are checked in the order sent, and a coupon is refused
(``not_combinable``) when it or a coupon already accepted does not combine. The
accepted coupons then take their discounts in a fixed order whatever the order sent:
fixed amounts first, then percentages (each on what is left of its lines), so the
result never depends on how a customer orders the codes.

Rounding: a percentage is taken of the sum of the eligible lines (what is left of
them) and rounded once to the minor unit, half away from zero; a fixed amount is
capped at that sum. The discount is then spread over the eligible lines in proportion
to what is left of each, by the largest-remainder method (``Money.allocate``), so the
lines' shares add up to it exactly and refunding a line gives back exactly its share.
"""
import dataclasses
import decimal
import re

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from core.db import utcnow
from core.money import Money
from plugins.catalog.models import Category, Product

from .models import (CATEGORIES, FIXED_AMOUNT, FREE_SHIPPING, PERCENT_SCALE, PERCENTAGE,
                     PRODUCTS, Code, Coupon, CouponCategory, CouponProduct, CustomerUse)

NAME = "coupons"
FIELD = "coupon_codes"
# what a code can be: typed codes and generated ones alike
CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,63}$")
# the order in which accepted coupons take their discounts
KIND_ORDER = {FIXED_AMOUNT: 0, PERCENTAGE: 1, FREE_SHIPPING: 2}


def normalize(code):
    """The stored form of a code as typed (any case, spaces around); None if it cannot
    be one."""
    if not isinstance(code, str):
        return None
    code = code.strip().upper()
    return code if CODE.match(code) else None


def percent_text(hundredths):
    """``1250`` -> ``"12.5"``."""
    if hundredths is None:
        return None
    return format(decimal.Decimal(hundredths).scaleb(-2).normalize(), "f")


def label(coupon, currency):
    """What the discount is called on a quote or an order when the coupon has no name."""
    if coupon.name:
        return coupon.name
    if coupon.kind == PERCENTAGE:
        return f"{percent_text(coupon.percent_hundredths)} % off"
    if coupon.kind == FIXED_AMOUNT:
        return f"{Money(coupon.amount, currency)} {currency} off"
    return "Free shipping"


@dataclasses.dataclass(frozen=True)
class Applied:
    """A code that applies to the checkout, with its coupon as it was read."""

    coupon_id: int
    code_id: int
    code: str  # stored form
    sent: str  # as the customer typed it
    name: str
    kind: str
    percent_hundredths: int | None
    amount: Money | None
    combinable: bool
    code_limited: bool  # the code has a usage limit of its own (a generated code)
    product_ids: frozenset | None  # the products it covers; None: every product
    # the coupon had a total usage limit when it was read (without a lock): which lock
    # the order takes first (redemptions.record); a change since is found under it
    limited: bool = False

    def covers(self, product_id):
        return self.product_ids is None or product_id in self.product_ids


def error(sent, reason, message, **more):
    """A checkout error about one code: ``code`` is ``coupon_<reason>``."""
    return {"code": f"coupon_{reason}", "reason": reason, "message": message, "field": FIELD,
            "coupon": sent, **more}


def _subtree(dbsession, category_ids):
    """The ids of ``category_ids`` and every category below them."""
    if not category_ids:
        return set()
    tree = sa.select(Category.id).where(Category.id.in_(category_ids)).cte(
        "coupons_subtree", recursive=True)
    child = aliased(Category)
    # UNION (not UNION ALL) ends the recursion even on a cycle
    tree = tree.union(sa.select(child.id).where(child.parent_id == tree.c.id))
    return set(dbsession.scalars(sa.select(tree.c.id)))


def covered_products(dbsession, coupon, product_ids):
    """Which of ``product_ids`` ``coupon`` applies to; None when it applies to all."""
    if coupon.applies_to == PRODUCTS:
        chosen = set(dbsession.scalars(sa.select(CouponProduct.product_id).where(
            CouponProduct.coupon_id == coupon.id)))
        return frozenset(chosen & set(product_ids))
    if coupon.applies_to == CATEGORIES:
        chosen = list(dbsession.scalars(sa.select(CouponCategory.category_id).where(
            CouponCategory.coupon_id == coupon.id)))
        below = _subtree(dbsession, chosen)
        if not below or not product_ids:
            return frozenset()
        return frozenset(dbsession.scalars(sa.select(Product.id).where(
            Product.id.in_(sorted(set(product_ids))), Product.category_id.in_(sorted(below)))))
    return None


def _when(moment):
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _refusal(code, coupon, sent, checkout, now, customer_uses):
    """Why ``code`` cannot be used by this checkout, as an error; None if it can (rules
    that need the cart's lines aside)."""
    money_rules = coupon.amount is not None or coupon.min_subtotal is not None
    if not coupon.is_active or (money_rules and coupon.currency != checkout.currency):
        return error(sent, "inactive", f"The coupon {sent} is no longer valid.")
    if coupon.starts_at is not None and now < coupon.starts_at:
        return error(sent, "not_started", f"The coupon {sent} can be used from "
                                          f"{_when(coupon.starts_at)}.",
                     starts_at=coupon.starts_at.isoformat())
    if coupon.ends_at is not None and now >= coupon.ends_at:
        return error(sent, "expired", f"The coupon {sent} expired on {_when(coupon.ends_at)}.",
                     ends_at=coupon.ends_at.isoformat())
    if (coupon.usage_limit is not None and coupon.times_used >= coupon.usage_limit) or (
            code.usage_limit is not None and code.times_used >= code.usage_limit):
        return error(sent, "limit_reached", f"The coupon {sent} has been used up.")
    limit = coupon.per_customer_limit
    if limit is not None and checkout.user is not None \
            and customer_uses.get(coupon.id, 0) >= limit:
        times = "once" if limit == 1 else f"{limit} times"
        return error(sent, "customer_limit_reached",
                     f"You have used the coupon {sent} already; it can be used {times} per "
                     "customer.")
    return None


def evaluate(checkout, max_coupons):
    """``(applied, errors)`` for the codes of ``checkout.coupon_codes``: the coupons that
    apply (``Applied``, in the order sent) and an error for every other code."""
    dbsession = checkout.dbsession
    wanted, seen = [], set()
    for sent in checkout.coupon_codes:
        sent = sent.strip() if isinstance(sent, str) else sent
        code = normalize(sent)
        if code is not None and code in seen:
            continue  # the same code in another case: once is enough
        seen.add(code)
        wanted.append((sent, code))
    if not wanted:
        return [], []
    found = {code.code: (code, coupon) for code, coupon in dbsession.execute(
        sa.select(Code, Coupon).join(Coupon, Code.coupon_id == Coupon.id)
        .where(Code.code.in_(sorted(seen - {None}))))}
    lines = [line for line in checkout.cart_lines
             if line.unit_price.currency == checkout.currency]
    subtotal = Money.sum((line.line_total for line in lines), checkout.currency)
    product_ids = [line.product_id for line in lines]
    customer_uses = {}
    if checkout.user is not None and found:
        customer_uses = dict(dbsession.execute(
            sa.select(CustomerUse.coupon_id, CustomerUse.times_used).where(
                CustomerUse.user_id == checkout.user.id,
                CustomerUse.coupon_id.in_(sorted({c.id for _, c in found.values()})))).all())
    now = utcnow()
    applied, errors = [], []
    for sent, normalized in wanted:
        if normalized not in found:
            errors.append(error(sent, "unknown", f"There is no coupon {sent}."))
            continue
        code, coupon = found[normalized]
        refused = _refusal(code, coupon, sent, checkout, now, customer_uses)
        if refused is not None:
            errors.append(refused)
            continue
        covered = covered_products(dbsession, coupon, product_ids)
        if lines:  # an empty cart is the orders plugin's error, not a coupon's
            minimum = coupon.money(coupon.min_subtotal)
            if minimum is not None and subtotal < minimum:
                errors.append(error(
                    sent, "minimum_not_met", f"The coupon {sent} needs a subtotal of at least "
                                             f"{minimum} {minimum.currency}.",
                    minimum=str(minimum)))
                continue
            if covered is not None and not covered:
                errors.append(error(sent, "not_eligible", "Nothing in the cart qualifies "
                                                          f"for the coupon {sent}."))
                continue
        same = next((a for a in applied if a.coupon_id == coupon.id), None)
        if same is not None:
            errors.append(error(sent, "not_combinable", f"The coupon {sent} is the same "
                                                        f"offer as {same.sent}.",
                                with_coupon=same.sent))
            continue
        clash = next((a for a in applied if not (a.combinable and coupon.combinable)), None)
        if clash is not None:
            errors.append(error(sent, "not_combinable", f"The coupon {sent} cannot be "
                                                        f"combined with {clash.sent}.",
                                with_coupon=clash.sent))
            continue
        if len(applied) >= max_coupons:
            errors.append(error(sent, "too_many", f"At most {max_coupons} coupon(s) can be "
                                                  "used on one order.", maximum=max_coupons))
            continue
        applied.append(Applied(
            coupon_id=coupon.id, code_id=code.id, code=code.code, sent=sent,
            name=label(coupon, checkout.currency), kind=coupon.kind,
            percent_hundredths=coupon.percent_hundredths,
            amount=coupon.money(coupon.amount), combinable=coupon.combinable,
            code_limited=code.usage_limit is not None,
            limited=coupon.usage_limit is not None, product_ids=covered))
    return applied, errors


def discounts(checkout, applied):
    """``(discounts, free_shipping_codes)``: a discount per applied coupon, on the lines
    it covers, as the ``checkout_discounts`` hook answers them."""
    left = [line.net for line in checkout.lines]
    answers, free_shipping = [], []
    for item in sorted(applied, key=lambda a: KIND_ORDER[a.kind]):  # stable: order sent
        shares = {}
        if item.kind == FREE_SHIPPING:
            free_shipping.append(item.code)
        else:
            eligible = [i for i, line in enumerate(checkout.lines)
                        if item.covers(line.product_id) and left[i]]
            base = Money.sum((left[i] for i in eligible), checkout.currency)
            if item.kind == PERCENTAGE:
                amount = base.proportion(item.percent_hundredths, 100 * PERCENT_SCALE)
            else:
                amount = min(item.amount, base)
            if amount:
                for index, part in zip(eligible, amount.allocate([left[i].amount
                                                                  for i in eligible])):
                    if part:
                        shares[index] = part
                        left[index] = left[index] - part
        # free shipping takes nothing off the lines: listed (at 0) so the quote and the
        # order show the coupon; shipping plugins price their options at 0 (docs)
        answers.append({"source": NAME, "code": item.code, "name": item.name,
                        "lines": shares})
    return answers, free_shipping
