"""The rules of shipping, as pure functions: which area of a zone is the best match for an
address, what a parcel weighs and is worth, and what a method asks for it.

The checkout, the public list of methods and the admin use the same functions, so a
quote, a storefront's "shipping from 4.90" and the admin's preview agree.
"""
import dataclasses

from core.money import Money

from .models import ANYWHERE, FREE, FLAT, VALUE, WEIGHT

# how well an area matches an address: a region of its country beats the whole country,
# which beats the rest of the world
REGION, COUNTRY, REST_OF_WORLD = 2, 1, 0


def same_region(region, state):
    """Whether an area's ``region`` is the address's ``state`` (case and spaces aside)."""
    def key(text):
        return " ".join((text or "").split()).casefold()

    return bool(key(region)) and key(region) == key(state)


def match(area, country, state):
    """How specifically ``area`` (country, region) covers an address; None if it does not."""
    if area.country == ANYWHERE:
        return REST_OF_WORLD
    if area.country != country:
        return None
    if not area.region:
        return COUNTRY
    return REGION if same_region(area.region, state) else None


def best_area(areas, country, state):
    """The area of ``areas`` that serves the address best, or None."""
    scored = [(match(area, country, state), area) for area in areas]
    scored = [(score, area) for score, area in scored if score is not None]
    if not scored:
        return None
    return max(scored, key=lambda pair: pair[0])[1]


@dataclasses.dataclass(frozen=True)
class Parcel:
    """What a rate depends on: the total weight and the order's value (after discounts)."""

    weight_grams: int
    value: Money


def weight_of(lines, default_grams=0):
    """Grams of ``lines`` (anything with ``weight_grams`` and ``quantity``); a variant
    without a weight counts ``default_grams``."""
    return sum((line.weight_grams if line.weight_grams is not None else default_grams)
               * line.quantity for line in lines)


def tier_price(tiers, measure):
    """The price of the last tier whose threshold is at most ``measure`` (tiers sorted by
    threshold, the first from 0); None if ``measure`` is below every tier."""
    found = None
    for tier in tiers:
        if tier.threshold > measure:
            break
        found = tier.price
    return found


def price(method, parcel):
    """What ``method`` asks for ``parcel`` (Money in the method's currency), or None when
    it does not take it (too heavy; a free method below its threshold)."""
    currency = method.currency
    if method.max_weight_grams is not None and parcel.weight_grams > method.max_weight_grams:
        return None
    free = method.free_over is not None and parcel.value.amount >= method.free_over
    if method.kind == FREE:
        return Money.zero(currency) if free else None
    if free:
        return Money.zero(currency)
    if method.kind == FLAT:
        amount = method.price
    elif method.kind == WEIGHT:
        amount = tier_price(method.tiers, parcel.weight_grams)
    elif method.kind == VALUE:
        amount = tier_price(method.tiers, parcel.value.amount)
    else:  # a kind the CHECK constraint does not know: never offered
        return None
    return None if amount is None else Money(amount, currency)
