from decimal import Decimal

import pytest
from marshmallow import Schema, ValidationError

from core.money import (
    CURRENCY_EXPONENTS,
    CurrencyMismatch,
    Money,
    MoneyAmount,
    exponent,
    normalize_currency,
    validate_currency,
)

FLOAT_MESSAGE = 'Send money as a decimal string, such as "19.99".'


def eur(amount):
    return Money(amount, "EUR")


# -- currencies ---------------------------------------------------------------


@pytest.mark.parametrize(
    "code, expected",
    [("JPY", 0), ("KRW", 0), ("ISK", 0), ("CLP", 0), ("VND", 0), ("HUF", 2),
     ("BHD", 3), ("KWD", 3), ("OMR", 3), ("JOD", 3), ("TND", 3),
     ("EUR", 2), ("USD", 2), ("GBP", 2), ("XYZ", 2)],
)
def test_exponent(code, expected):
    assert exponent(code) == expected


def test_exponents_table_only_lists_non_default():
    assert all(v != 2 for v in CURRENCY_EXPONENTS.values())


@pytest.mark.parametrize("bad", ["eur", "EU", "EURO", "E1R", "", " EUR", "ÉUR", None, 978])
def test_validate_currency_rejects(bad):
    with pytest.raises(ValueError):
        validate_currency(bad)


def test_exponent_rejects_invalid_currency():
    with pytest.raises(ValueError):
        exponent("eur")


def test_validate_and_normalize_currency():
    assert validate_currency("EUR") == "EUR"
    assert normalize_currency("eur") == "EUR"
    assert normalize_currency("Usd") == "USD"
    for bad in ["eu", "euro", "e1r", None]:
        with pytest.raises(ValueError):
            normalize_currency(bad)


# -- construction ---------------------------------------------------------------


@pytest.mark.parametrize("amount", [1.0, 1.5, True, False, Decimal("1"), "1", None])
def test_amount_must_be_int(amount):
    with pytest.raises(TypeError):
        Money(amount, "EUR")


@pytest.mark.parametrize("currency", ["eur", "EURO", "", None])
def test_currency_must_be_valid(currency):
    with pytest.raises(ValueError):
        Money(100, currency)


def test_frozen():
    m = eur(1)
    with pytest.raises(AttributeError):
        m.amount = 2


def test_zero():
    assert Money.zero("JPY") == Money(0, "JPY")


@pytest.mark.parametrize(
    "value, currency, amount",
    [
        ("19.99", "EUR", 1999),
        ("-0.50", "EUR", -50),
        ("0", "EUR", 0),
        ("-0.00", "EUR", 0),
        ("1.5", "EUR", 150),
        ("1.500", "EUR", 150),  # trailing zeros lose nothing
        (Decimal("19.99"), "EUR", 1999),
        (Decimal("1E+2"), "EUR", 10000),
        (19, "EUR", 1900),  # int means whole units
        (-3, "EUR", -300),
        (1000, "JPY", 1000),
        ("1000", "JPY", 1000),
        ("1.234", "KWD", 1234),
        (2, "KWD", 2000),
        ("12345678901234567890123456789.99", "EUR", 1234567890123456789012345678999),
    ],
)
def test_from_decimal(value, currency, amount):
    assert Money.from_decimal(value, currency) == Money(amount, currency)


@pytest.mark.parametrize(
    "value, currency",
    [("1.005", "EUR"), ("0.001", "EUR"), ("1.5", "JPY"), ("1.2345", "KWD"),
     (Decimal("0.125"), "USD")],
)
def test_from_decimal_rejects_extra_places(value, currency):
    with pytest.raises(ValueError):
        Money.from_decimal(value, currency)


@pytest.mark.parametrize(
    "value, currency, amount",
    [
        ("1.005", "EUR", 101),
        ("-1.005", "EUR", -101),
        ("1.004", "EUR", 100),
        ("-1.004", "EUR", -100),
        ("0.005", "EUR", 1),
        ("-0.005", "EUR", -1),
        ("1.0049999", "EUR", 100),
        ("2.5", "JPY", 3),
        ("-2.5", "JPY", -3),
        ("1.2345", "KWD", 1235),
        ("1.99", "EUR", 199),  # exact values are untouched
    ],
)
def test_from_decimal_rounding_half_away_from_zero(value, currency, amount):
    assert Money.from_decimal(value, currency, rounding=True) == Money(amount, currency)


@pytest.mark.parametrize("value", [1.5, 0.1, float("nan"), 1.0])
def test_from_decimal_rejects_float(value):
    with pytest.raises(TypeError):
        Money.from_decimal(value, "EUR")
    with pytest.raises(TypeError):
        Money.from_decimal(value, "EUR", rounding=True)


@pytest.mark.parametrize(
    "value",
    ["", "abc", "1,00", "1.", ".5", "1e2", " 1", "1 ", "1_000", "+1", "--1",
     "NaN", "Infinity", "-Infinity", "inf", Decimal("NaN"), Decimal("Infinity"),
     Decimal("-Infinity"), Decimal("sNaN")],
)
def test_from_decimal_rejects_malformed_and_non_finite(value):
    with pytest.raises(ValueError):
        Money.from_decimal(value, "EUR")


@pytest.mark.parametrize("value", [True, None, [1], object()])
def test_from_decimal_rejects_other_types(value):
    with pytest.raises(TypeError):
        Money.from_decimal(value, "EUR")


def test_from_decimal_rejects_bad_currency():
    with pytest.raises(ValueError):
        Money.from_decimal("1", "eur")


# -- conversion -----------------------------------------------------------------


@pytest.mark.parametrize(
    "money, text",
    [
        (eur(1999), "19.99"),
        (eur(-50), "-0.50"),
        (eur(5), "0.05"),
        (eur(-5), "-0.05"),
        (eur(0), "0.00"),
        (eur(100), "1.00"),
        (eur(123456789), "1234567.89"),
        (Money(1000, "JPY"), "1000"),
        (Money(0, "JPY"), "0"),
        (Money(-7, "JPY"), "-7"),
        (Money(1234, "KWD"), "1.234"),
        (Money(5, "KWD"), "0.005"),
        (eur(10**40 + 1), "1" + "0" * 37 + "0.01"),
    ],
)
def test_str_and_as_json(money, text):
    assert str(money) == text
    assert money.as_json() == text


def test_to_decimal():
    d = eur(1999).to_decimal()
    assert isinstance(d, Decimal)
    assert d == Decimal("19.99")
    assert d.as_tuple().exponent == -2
    assert eur(100).to_decimal().as_tuple().exponent == -2
    assert Money(5, "JPY").to_decimal().as_tuple().exponent == 0
    assert Money(5, "KWD").to_decimal() == Decimal("0.005")


@pytest.mark.parametrize("amount", [0, 1, -1, 1999, -1999, 10**30 + 7])
@pytest.mark.parametrize("currency", ["EUR", "JPY", "KWD"])
def test_round_trip(amount, currency):
    m = Money(amount, currency)
    assert Money.from_decimal(str(m), currency) == m
    assert Money.from_decimal(m.to_decimal(), currency) == m


# -- arithmetic -----------------------------------------------------------------


def test_add_sub_neg_abs():
    assert eur(150) + eur(50) == eur(200)
    assert eur(150) - eur(200) == eur(-50)
    assert -eur(30) == eur(-30)
    assert -eur(-30) == eur(30)
    assert abs(eur(-30)) == eur(30)
    assert abs(eur(30)) == eur(30)


def test_add_zero_int_and_builtin_sum():
    assert eur(5) + 0 == eur(5)
    assert 0 + eur(5) == eur(5)
    assert sum([eur(1), eur(2), eur(3)]) == eur(6)


@pytest.mark.parametrize("other", [1, -1, 0.0, 1.5, Decimal("0"), Decimal("1"), "0", False, True, None])
def test_add_non_money_rejected(other):
    with pytest.raises(TypeError):
        eur(5) + other
    with pytest.raises(TypeError):
        other + eur(5)


@pytest.mark.parametrize("other", [0, 1, 1.0, Decimal("1")])
def test_sub_non_money_rejected(other):
    with pytest.raises(TypeError):
        eur(5) - other
    with pytest.raises(TypeError):
        other - eur(5)


def test_currency_mismatch():
    usd = Money(100, "USD")
    assert issubclass(CurrencyMismatch, ValueError)
    with pytest.raises(CurrencyMismatch):
        eur(100) + usd
    with pytest.raises(CurrencyMismatch):
        eur(100) - usd
    with pytest.raises(CurrencyMismatch):
        sum([eur(1), usd])
    with pytest.raises(CurrencyMismatch):
        Money.sum([eur(1), usd], "EUR")
    with pytest.raises(CurrencyMismatch):
        Money.sum([usd], "EUR")
    for compare in (lambda a, b: a < b, lambda a, b: a <= b,
                    lambda a, b: a > b, lambda a, b: a >= b):
        with pytest.raises(CurrencyMismatch):
            compare(eur(100), usd)


def test_multiply_by_int():
    assert eur(150) * 3 == eur(450)
    assert 3 * eur(150) == eur(450)
    assert eur(150) * -2 == eur(-300)
    assert eur(150) * 0 == eur(0)


@pytest.mark.parametrize("factor", [1.0, 0.5, Decimal("2"), Decimal("0.5"), True, "2", None])
def test_multiply_rejects_non_int(factor):
    with pytest.raises(TypeError):
        eur(150) * factor
    with pytest.raises(TypeError):
        factor * eur(150)


def test_comparisons():
    assert eur(1) < eur(2)
    assert eur(1) <= eur(1)
    assert eur(2) > eur(1)
    assert eur(2) >= eur(2)
    assert not eur(2) < eur(1)
    assert not eur(1) > eur(1)
    assert eur(-5) < eur(0)
    assert max([eur(3), eur(7), eur(5)]) == eur(7)
    assert sorted([eur(3), eur(-1), eur(2)]) == [eur(-1), eur(2), eur(3)]


@pytest.mark.parametrize("other", [0, 1, 1.0, Decimal("1"), None])
def test_comparisons_with_non_money_rejected(other):
    with pytest.raises(TypeError):
        eur(1) < other
    with pytest.raises(TypeError):
        eur(1) >= other


def test_equality_and_hash():
    assert eur(100) == Money(100, "EUR")
    assert eur(100) != Money(100, "USD")  # equality does not raise on mismatch
    assert eur(100) != eur(101)
    assert eur(0) != 0
    assert eur(100) != Decimal("1.00")
    assert len({eur(1), Money(1, "EUR"), Money(1, "USD")}) == 2


def test_bool_and_predicates():
    assert not eur(0)
    assert eur(1)
    assert eur(-1)
    assert eur(0).is_zero() and not eur(1).is_zero()
    assert eur(-1).is_negative()
    assert not eur(0).is_negative() and not eur(1).is_negative()


def test_money_sum():
    assert Money.sum([], "EUR") == eur(0)
    assert Money.sum([eur(1), eur(2), eur(-5)], "EUR") == eur(-2)
    assert Money.sum((Money(n, "JPY") for n in range(5)), "JPY") == Money(10, "JPY")


# -- percentage / proportion ------------------------------------------------------


@pytest.mark.parametrize(
    "amount, percent, expected",
    [
        (1000, 10, 100),
        (1999, Decimal("20"), 400),  # 399.8
        (1000, Decimal("12.5"), 125),
        (1, Decimal("50"), 1),  # 0.5 cent rounds up
        (-1, Decimal("50"), -1),  # -0.5 cent rounds away from zero
        (3, Decimal("50"), 2),  # 1.5
        (-3, Decimal("50"), -2),  # -1.5
        (5, Decimal("10"), 1),  # 0.5
        (-5, Decimal("10"), -1),
        (4, Decimal("10"), 0),  # 0.4
        (-4, Decimal("10"), 0),
        (1, Decimal("49.999"), 0),
        (1000, "7.5", 75),
        (1, "-50", -1),
        (999, Decimal("0"), 0),
        (999, 100, 999),
        (999, 200, 1998),
        (10**25 + 1, Decimal("50"), 5 * 10**24 + 1),  # exact, no context rounding
        (100, Decimal("33.333333333333333333333333333333333"), 33),
    ],
)
def test_percentage(amount, percent, expected):
    assert eur(amount).percentage(percent) == eur(expected)


def test_percentage_keeps_currency():
    assert Money(1000, "JPY").percentage("8") == Money(80, "JPY")
    assert Money(1005, "KWD").percentage("10") == Money(101, "KWD")  # 100.5


@pytest.mark.parametrize("percent", [10.0, 12.5, True])
def test_percentage_rejects_float_and_bool(percent):
    with pytest.raises(TypeError):
        eur(100).percentage(percent)


@pytest.mark.parametrize("percent", ["abc", "1e2", "NaN", Decimal("NaN"), Decimal("Infinity")])
def test_percentage_rejects_malformed(percent):
    with pytest.raises(ValueError):
        eur(100).percentage(percent)


@pytest.mark.parametrize(
    "amount, num, den, expected",
    [
        (1000, 1, 3, 333),
        (1000, 2, 3, 667),
        (-1000, 2, 3, -667),
        (1, 1, 2, 1),
        (-1, 1, 2, -1),
        (3, 1, 2, 2),
        (-3, 1, 2, -2),
        (1000, 1, -3, -333),
        (1000, -2, -3, 667),
        (5, 0, 7, 0),
        (5, 7, 7, 5),
        (100, 3, 1, 300),
    ],
)
def test_proportion(amount, num, den, expected):
    assert eur(amount).proportion(num, den) == eur(expected)


def test_proportion_rejects_zero_denominator_and_non_ints():
    with pytest.raises(ValueError):
        eur(100).proportion(1, 0)
    for num, den in [(0.5, 1), (1, 2.0), (Decimal(1), 2), (True, 2)]:
        with pytest.raises(TypeError):
            eur(100).proportion(num, den)


# -- allocate -------------------------------------------------------------------

ALLOCATE_CASES = [
    (100, [1, 1, 1], [34, 33, 33]),
    (-100, [1, 1, 1], [-34, -33, -33]),
    (200, [1, 1, 1], [67, 67, 66]),
    (-200, [1, 1, 1], [-67, -67, -66]),
    (5, [3, 7], [2, 3]),  # 1.5 / 3.5: tie goes to the earlier part
    (-5, [3, 7], [-2, -3]),
    (10, [1, 2], [3, 7]),  # 3.33 / 6.67: largest remainder wins, not the earliest
    (1, [1, 1], [1, 0]),
    (-1, [1, 1], [-1, 0]),
    (1, [1, 3], [0, 1]),  # 0.25 / 0.75
    (100, [0, 1, 0], [0, 100, 0]),
    (7, [0, 1, 1], [0, 4, 3]),
    (0, [1, 2, 3], [0, 0, 0]),
    (100, [5], [100]),
    (3, [1, 1, 1, 1, 1], [1, 1, 1, 0, 0]),
    (1000, [70, 30], [700, 300]),
    (1001, [1, 1], [501, 500]),
]


@pytest.mark.parametrize("amount, weights, expected", ALLOCATE_CASES)
def test_allocate_exact_cases(amount, weights, expected):
    parts = eur(amount).allocate(weights)
    assert parts == [eur(p) for p in expected]


def _pseudo_random_cases():
    # A deterministic linear congruential generator gives many varied cases
    # without a dependency on hypothesis or on random's implementation.
    state = 12345
    cases = []
    for _ in range(500):
        state = (state * 1103515245 + 12345) % 2**31
        amount = state % 2_000_001 - 1_000_000
        state = (state * 1103515245 + 12345) % 2**31
        count = state % 9 + 1
        weights = []
        for _ in range(count):
            state = (state * 1103515245 + 12345) % 2**31
            weights.append(state % 50)
        if not any(weights):
            weights[0] = 1
        cases.append((amount, weights))
    return cases


@pytest.mark.parametrize("amount, weights", _pseudo_random_cases())
def test_allocate_properties(amount, weights):
    m = eur(amount)
    parts = m.allocate(weights)
    total = sum(weights)
    assert len(parts) == len(weights)
    assert Money.sum(parts, "EUR") == m
    for part, weight in zip(parts, weights):
        assert part.currency == "EUR"
        exact = Decimal(amount) * weight / total
        # Each part is its exact share truncated or one cent further from zero.
        assert abs(Decimal(part.amount) - exact) < 1
        assert abs(part.amount) >= abs(amount) * weight // total
        if weight == 0:
            assert part.amount == 0
        if amount:
            assert part.amount == 0 or (part.amount > 0) == (amount > 0)
    # Mirrors the positive case exactly.
    assert (-m).allocate(weights) == [-p for p in parts]


def test_allocate_large_amount_is_exact():
    m = eur(10**30 + 1)
    parts = m.allocate([1, 1, 1])
    assert Money.sum(parts, "EUR") == m
    assert parts[0].amount == 333333333333333333333333333334


@pytest.mark.parametrize("weights", [[], [0], [0, 0], [1, -1], [-1]])
def test_allocate_rejects_bad_weights(weights):
    with pytest.raises(ValueError):
        eur(100).allocate(weights)


@pytest.mark.parametrize("weights", [[1.0, 1], [Decimal(1)], [True, 1], ["1"]])
def test_allocate_rejects_non_int_weights(weights):
    with pytest.raises(TypeError):
        eur(100).allocate(weights)


def test_allocate_jpy():
    assert Money(100, "JPY").allocate([1, 1, 1]) == [
        Money(34, "JPY"), Money(33, "JPY"), Money(33, "JPY")]


# -- MoneyAmount field ------------------------------------------------------------


def _schema(**field_kwargs):
    return Schema.from_dict({"amount": MoneyAmount(**field_kwargs)})()


def _error(schema, value):
    with pytest.raises(ValidationError) as info:
        schema.load({"amount": value})
    return info.value.messages["amount"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("19.99", Decimal("19.99")),
        ("0", Decimal("0")),
        ("0.00", Decimal("0.00")),
        ("1.234", Decimal("1.234")),
        ("1000000", Decimal("1000000")),
        (19, Decimal("19")),
        (0, Decimal("0")),
    ],
)
def test_money_amount_load(value, expected):
    result = _schema().load({"amount": value})["amount"]
    assert isinstance(result, Decimal)
    assert result == expected
    assert str(result) == str(expected)


@pytest.mark.parametrize("value", [19.99, 0.0, 1.0, float("nan"), float("inf")])
def test_money_amount_refuses_float(value):
    assert _error(_schema(), value) == [FLOAT_MESSAGE]
    assert _error(_schema(allow_negative=True), value) == [FLOAT_MESSAGE]


@pytest.mark.parametrize(
    "value", ["", "abc", "1,99", "1.", ".5", "1e2", "1E-2", " 1", "1 ", "+1", "1_000",
              "0x10", True, False, [], {}, ["1"]],
)
def test_money_amount_refuses_malformed(value):
    assert _error(_schema(), value) == ['Enter the amount as a decimal string, such as "19.99".']


@pytest.mark.parametrize("value", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "-inf"])
def test_money_amount_refuses_non_finite(value):
    assert _error(_schema(allow_negative=True), value) == ["The amount must be a finite number."]


@pytest.mark.parametrize("value", ["-0.01", "-1", -1, "-19.99"])
def test_money_amount_negative(value):
    assert _error(_schema(), value) == ["The amount must not be negative."]
    assert _schema(allow_negative=True).load({"amount": value})["amount"] == Decimal(value)


def test_money_amount_negative_zero_is_not_negative():
    assert _schema().load({"amount": "-0"})["amount"] == 0


@pytest.mark.parametrize("value", ["1.0001", "0.0000", "-1.0001"])
def test_money_amount_refuses_more_than_three_places(value):
    assert _error(_schema(allow_negative=True), value) == ["Use at most 3 decimal places."]


def test_money_amount_null_and_required():
    assert _schema(allow_none=True).load({"amount": None}) == {"amount": None}
    assert "amount" in _error_required()


def _error_required():
    with pytest.raises(ValidationError) as info:
        _schema(required=True).load({})
    return info.value.messages


@pytest.mark.parametrize(
    "value, expected",
    [
        (eur(1999), "19.99"),
        (eur(-50), "-0.50"),
        (Money(1000, "JPY"), "1000"),
        (Money(5, "KWD"), "0.005"),
        (Decimal("19.99"), "19.99"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.5"), "-0.5"),
        (None, None),
    ],
)
def test_money_amount_dump(value, expected):
    assert _schema().dump({"amount": value}) == {"amount": expected}


def test_money_amount_dump_refuses_float():
    with pytest.raises(TypeError):
        _schema().dump({"amount": 1.5})


def test_money_amount_load_then_from_decimal():
    loaded = _schema().load({"amount": "19.99"})["amount"]
    assert Money.from_decimal(loaded, "EUR") == eur(1999)
    # The field allows 3 places for KWD-style currencies; from_decimal narrows.
    loaded = _schema().load({"amount": "1.005"})["amount"]
    with pytest.raises(ValueError):
        Money.from_decimal(loaded, "EUR")
    assert Money.from_decimal(loaded, "KWD") == Money(1005, "KWD")
