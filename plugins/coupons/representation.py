"""The JSON of coupons, codes and uses, as the staff API answers them.

Money is a decimal string with ``currency`` beside it; times are UTC ISO 8601.
"""
from core.money import Money

from .checkout import percent_text


def _iso(value):
    return value.isoformat() if value is not None else None


def _money(amount, currency):
    return None if amount is None else str(Money(amount, currency))


def coupon_data(coupon, code, counts):
    """``code``: its main code (or None); ``counts``: its entry of ``services.usage``."""
    currency = coupon.currency
    return {
        "id": coupon.id,
        "code": code,
        "name": coupon.name,
        "kind": coupon.kind,
        "percent": percent_text(coupon.percent_hundredths),
        "amount": _money(coupon.amount, currency),
        "min_subtotal": _money(coupon.min_subtotal, currency),
        "currency": currency,
        "starts_at": _iso(coupon.starts_at),
        "ends_at": _iso(coupon.ends_at),
        "usage_limit": coupon.usage_limit,
        "per_customer_limit": coupon.per_customer_limit,
        "applies_to": coupon.applies_to,
        "category_ids": [c.category_id for c in coupon.categories],
        "product_ids": [p.product_id for p in coupon.products],
        "combinable": coupon.combinable,
        "is_active": coupon.is_active,
        "uses": counts["uses"],
        "released": counts["released"],
        "discount_total": _money(counts["discount_total"], currency),
        "codes": counts["codes"],
        "created_at": _iso(coupon.created_at),
        "updated_at": _iso(coupon.updated_at),
    }


def code_data(code, uses):
    """``uses``: by orders that did not fail and were not cancelled."""
    return {"code": code.code, "batch": code.batch, "usage_limit": code.usage_limit,
            "times_used": uses, "created_at": _iso(code.created_at)}


def redemption_data(use, order_number):
    return {"order_number": order_number, "code": use.code,
            "amount": _money(use.amount, use.currency), "currency": use.currency,
            "user_id": use.user_id, "created_at": _iso(use.created_at),
            "released_at": _iso(use.released_at)}
