"""The rate rules on their own: tier boundaries, the free threshold, the weight limit,
which area of which zone serves an address, and the weight of lines."""
from types import SimpleNamespace as Obj

import pytest

from core.money import Money
from plugins.shipping import rates


def method(kind, price=None, tiers=(), free_over=None, max_weight_grams=None):
    return Obj(kind=kind, currency="EUR", price=price, free_over=free_over,
               max_weight_grams=max_weight_grams,
               tiers=[Obj(threshold=start, price=amount) for start, amount in tiers])


def parcel(grams=0, value=0):
    return rates.Parcel(weight_grams=grams, value=Money(value, "EUR"))


def cost(m, **p):
    found = rates.price(m, parcel(**p))
    return None if found is None else found.amount


BY_WEIGHT = method("weight", tiers=[(0, 490), (1001, 690), (5001, 1290)])
BY_VALUE = method("value", tiers=[(0, 590), (2500, 390), (5000, 0)])


@pytest.mark.parametrize("grams, expected", [
    (0, 490), (1, 490), (1000, 490), (1001, 690), (5000, 690), (5001, 1290), (10**9, 1290)])
def test_weight_tiers_start_at_their_threshold(grams, expected):
    assert cost(BY_WEIGHT, grams=grams) == expected


@pytest.mark.parametrize("value, expected", [
    (0, 590), (2499, 590), (2500, 390), (4999, 390), (5000, 0), (123456, 0)])
def test_value_tiers_start_at_their_threshold(value, expected):
    assert cost(BY_VALUE, value=value) == expected


def test_a_flat_rate_ignores_weight_and_value():
    flat = method("flat", price=490)
    assert cost(flat) == cost(flat, grams=10**6, value=10**6) == 490


@pytest.mark.parametrize("value, expected", [(4999, 490), (5000, 0), (5001, 0)])
def test_free_over_makes_any_rate_free_from_the_threshold(value, expected):
    assert cost(method("flat", price=490, free_over=5000), value=value) == expected
    assert cost(method("weight", tiers=[(0, 490)], free_over=5000), grams=3000,
                value=value) == expected


@pytest.mark.parametrize("value, expected", [(0, None), (4999, None), (5000, 0), (9999, 0)])
def test_a_free_method_is_offered_only_from_its_threshold(value, expected):
    assert cost(method("free", free_over=5000), value=value) == expected


def test_a_free_method_from_zero_is_always_free():
    assert cost(method("free", free_over=0)) == 0


@pytest.mark.parametrize("grams, expected", [(1999, 490), (2000, 490), (2001, None)])
def test_max_weight_stops_offering_the_method(grams, expected):
    assert cost(method("flat", price=490, max_weight_grams=2000), grams=grams) == expected
    # even when the order is worth enough to ship for free
    assert cost(method("free", free_over=0, max_weight_grams=2000), grams=grams) == (
        None if expected is None else 0)


def test_a_measure_below_every_tier_has_no_price():
    assert rates.tier_price([Obj(threshold=100, price=5)], 99) is None
    assert rates.tier_price([], 0) is None


def test_the_price_is_money_in_the_methods_currency():
    found = rates.price(method("flat", price=490), parcel())
    assert found == Money(490, "EUR")


def area(country, region=""):
    return Obj(country=country, region=region)


def test_a_region_beats_its_country_which_beats_the_rest_of_the_world():
    hawaii, us, world, gb = area("US", "Hawaii"), area("US"), area("*"), area("GB")
    areas = [world, us, hawaii, gb]
    assert rates.best_area(areas, "US", "hawaii ") is hawaii  # case and spaces aside
    assert rates.best_area(areas, "US", "  HAWAII") is hawaii
    assert rates.best_area(areas, "US", "Ohio") is us
    assert rates.best_area(areas, "US", "") is us
    assert rates.best_area(areas, "GB", "Hawaii") is gb  # a region of another country
    assert rates.best_area(areas, "JP", "") is world
    assert rates.best_area([hawaii, gb], "US", "Ohio") is None
    assert rates.best_area([], "US", "") is None


def test_weight_of_lines_counts_units_and_a_default_for_unknown_weights():
    lines = [Obj(weight_grams=250, quantity=3), Obj(weight_grams=None, quantity=2),
             Obj(weight_grams=0, quantity=5)]
    assert rates.weight_of(lines) == 750
    assert rates.weight_of(lines, default_grams=100) == 950
    assert rates.weight_of([]) == 0
