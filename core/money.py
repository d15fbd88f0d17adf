"""Money as integer minor units plus an ISO 4217 currency code.

Rounding rule
-------------
* Amounts are always integers of minor units (cents, fils, yen...); floats are
  refused everywhere, because binary fractions cannot represent 0.10 exactly.
* Any computed amount (``percentage``, ``proportion``, ``from_decimal(...,
  rounding=True)``) is computed exactly and rounded **once**, half away from
  zero (ROUND_HALF_UP on the minor unit): 0.5 cent -> 1 cent, -0.5 cent -> -1
  cent.
* Sharing an amount over parts (``allocate``) uses the largest-remainder
  method, so the parts always add up exactly to the whole. Each part first gets
  its share rounded towards zero; the cents left over go one each to the parts
  with the largest fractional remainders, ties going to the earlier part.
  Negative amounts are allocated as their absolute value, then negated, so the
  result mirrors the positive case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from marshmallow import fields

__all__ = [
    "CURRENCY_EXPONENTS",
    "CurrencyMismatch",
    "Money",
    "MoneyAmount",
    "exponent",
    "normalize_currency",
    "validate_currency",
]

# ISO 4217 minor-unit exponents that differ from the default of 2.
CURRENCY_EXPONENTS: dict[str, int] = {
    # No minor unit in practice.
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0,
    "KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0,
    "XAF": 0, "XOF": 0, "XPF": 0,
    # Thousandths.
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # Four decimal places (accounting units).
    "CLF": 4, "UYW": 4,
}

_CURRENCY_RE = re.compile(r"[A-Z]{3}")
# Plain decimal notation only: no exponent, no spaces, no underscores, no "+".
_DECIMAL_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class CurrencyMismatch(ValueError):
    """Raised when combining or comparing Money of different currencies."""


_VALID_CURRENCIES: set[str] = set()  # codes seen valid: every Money checks its currency


def validate_currency(code: str) -> str:
    """Return ``code`` if it is exactly three ASCII uppercase letters."""
    if type(code) is str and code in _VALID_CURRENCIES:
        return code
    if not isinstance(code, str) or not _CURRENCY_RE.fullmatch(code):
        raise ValueError(f"Invalid currency code: {code!r}")
    if type(code) is str:
        _VALID_CURRENCIES.add(code)
    return code


def normalize_currency(code: str) -> str:
    """Upper-case ``code`` and validate it (for user input such as "eur")."""
    if not isinstance(code, str):
        raise ValueError(f"Invalid currency code: {code!r}")
    return validate_currency(code.upper())


def exponent(currency: str) -> int:
    """Number of minor-unit digits of ``currency`` (2 unless listed)."""
    return CURRENCY_EXPONENTS.get(validate_currency(currency), 2)


def _round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in exact integers."""
    if denominator == 0:
        raise ValueError("Division by zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return -quotient if numerator < 0 else quotient


def _is_int(value: object) -> bool:
    # bool is an int subclass, but True dollars is always a bug.
    return isinstance(value, int) and not isinstance(value, bool)


def _exact_decimal(value: str | Decimal | int, what: str) -> Decimal:
    """Parse a str / Decimal / int into a finite Decimal, refusing floats."""
    if isinstance(value, float):
        raise TypeError(f"{what} must not be a float; use a str or Decimal")
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, str):
        if not _DECIMAL_RE.fullmatch(value):
            raise ValueError(f"Malformed {what}: {value!r}")
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{what} must be finite, got {value!r}")
        return value
    raise TypeError(f"{what} must be a str, Decimal or int, got {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self) -> None:
        if not _is_int(self.amount):
            raise TypeError(
                f"Money amount must be an int of minor units, got {type(self.amount).__name__}"
            )
        validate_currency(self.currency)

    # -- construction -----------------------------------------------------

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(
        cls, value: str | Decimal | int, currency: str, *, rounding: bool = False
    ) -> Money:
        """Build from major units ("19.99", Decimal("19.99"), 19 == 19.00).

        Values finer than the currency's minor unit raise ValueError unless
        ``rounding=True``, which rounds half away from zero. Trailing zeros
        ("1.500" EUR) are fine since no precision is lost.
        """
        decimal = _exact_decimal(value, "amount")
        numerator, denominator = decimal.as_integer_ratio()
        numerator *= 10 ** exponent(currency)
        if numerator % denominator and not rounding:
            raise ValueError(
                f"{value!r} has more decimal places than {currency} allows "
                f"({exponent(currency)})"
            )
        return cls(_round_div(numerator, denominator), currency)

    @classmethod
    def sum(cls, items: Iterable[Money], currency: str) -> Money:
        """Sum ``items``; an empty iterable gives zero of ``currency``."""
        total = cls.zero(currency)
        for item in items:
            total = total + item
        return total

    # -- conversion -------------------------------------------------------

    def to_decimal(self) -> Decimal:
        # Built from digits rather than by division so no Decimal context
        # precision limit can round large amounts.
        digits = tuple(int(d) for d in str(abs(self.amount)))
        return Decimal((int(self.amount < 0), digits, -exponent(self.currency)))

    def __str__(self) -> str:
        # what format(self.to_decimal(), "f") gives, without building a Decimal:
        # every price of every JSON answer goes through here
        places = exponent(self.currency)
        digits = str(abs(self.amount))
        sign = "-" if self.amount < 0 else ""
        if not places:
            return sign + digits
        digits = digits.rjust(places + 1, "0")
        return f"{sign}{digits[:-places]}.{digits[-places:]}"

    def as_json(self) -> str:
        return str(self)

    # -- predicates -------------------------------------------------------

    def __bool__(self) -> bool:
        return self.amount != 0

    def is_zero(self) -> bool:
        return self.amount == 0

    def is_negative(self) -> bool:
        return self.amount < 0

    # -- arithmetic -------------------------------------------------------

    def _check_same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(
                f"Cannot combine {self.currency} with {other.currency}"
            )

    def __add__(self, other: object) -> Money:
        if isinstance(other, Money):
            self._check_same(other)
            return Money(self.amount + other.amount, self.currency)
        # Lets the builtin sum() start from its default 0.
        if _is_int(other) and other == 0:
            return self
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: object) -> Money:
        if isinstance(other, Money):
            self._check_same(other)
            return Money(self.amount - other.amount, self.currency)
        return NotImplemented

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, other: object) -> Money:
        if _is_int(other):
            return Money(self.amount * other, self.currency)
        if isinstance(other, (float, Decimal)):
            raise TypeError(
                "Money can only be multiplied by an int; use percentage() or proportion()"
            )
        return NotImplemented

    __rmul__ = __mul__

    def percentage(self, percent: str | Decimal | int) -> Money:
        """``percent`` % of self, e.g. Decimal("12.5") -> 12.5 %, rounded once."""
        numerator, denominator = _exact_decimal(percent, "percent").as_integer_ratio()
        return Money(_round_div(self.amount * numerator, denominator * 100), self.currency)

    def proportion(self, numerator: int, denominator: int) -> Money:
        """self * numerator / denominator, rounded once."""
        if not (_is_int(numerator) and _is_int(denominator)):
            raise TypeError("proportion() takes int numerator and denominator")
        if denominator == 0:
            raise ValueError("proportion() denominator must not be zero")
        return Money(_round_div(self.amount * numerator, denominator), self.currency)

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split self over ``weights`` so the parts sum exactly to self."""
        weights = list(weights)
        if not all(_is_int(w) for w in weights):
            raise TypeError("allocate() weights must be ints")
        if any(w < 0 for w in weights) or not any(weights):
            raise ValueError("allocate() needs non-negative weights, at least one positive")
        total = sum(weights)
        whole = abs(self.amount)
        shares = [divmod(whole * w, total) for w in weights]
        parts = [share for share, _ in shares]
        leftover = whole - sum(parts)
        # Largest remainder first; sort is stable so ties keep the earlier part.
        by_remainder = sorted(range(len(weights)), key=lambda i: -shares[i][1])
        for i in by_remainder[:leftover]:
            parts[i] += 1
        sign = -1 if self.amount < 0 else 1
        return [Money(sign * part, self.currency) for part in parts]

    # -- ordering (same currency only; == is plain dataclass equality) -----

    def _compare_key(self, other: object) -> int | None:
        if not isinstance(other, Money):
            return None
        self._check_same(other)
        return other.amount

    def __lt__(self, other: object) -> bool:
        key = self._compare_key(other)
        return NotImplemented if key is None else self.amount < key

    def __le__(self, other: object) -> bool:
        key = self._compare_key(other)
        return NotImplemented if key is None else self.amount <= key

    def __gt__(self, other: object) -> bool:
        key = self._compare_key(other)
        return NotImplemented if key is None else self.amount > key

    def __ge__(self, other: object) -> bool:
        key = self._compare_key(other)
        return NotImplemented if key is None else self.amount >= key


class MoneyAmount(fields.Field):
    """A money amount in JSON: a decimal string ("19.99") or an int.

    Loads to a ``Decimal`` (the currency usually arrives in a sibling field;
    combine them with ``Money.from_decimal``, which also enforces the
    currency's own number of decimal places). Dumps ``Money`` and ``Decimal``
    as plain decimal strings.
    """

    MAX_PLACES = 3  # enough for BHD/KWD/...; from_decimal narrows per currency

    default_error_messages = {
        "invalid": 'Enter the amount as a decimal string, such as "19.99".',
        "float": 'Send money as a decimal string, such as "19.99".',
        "not_finite": "The amount must be a finite number.",
        "negative": "The amount must not be negative.",
        "too_precise": "Use at most 3 decimal places.",
    }

    def __init__(self, *, allow_negative: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.allow_negative = allow_negative

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if isinstance(value, float):
            raise self.make_error("float")
        if _is_int(value):
            decimal = Decimal(value)
        elif isinstance(value, str) and _DECIMAL_RE.fullmatch(value):
            decimal = Decimal(value)
        elif isinstance(value, str):
            try:
                special = not Decimal(value).is_finite()
            except InvalidOperation:
                special = False
            raise self.make_error("not_finite" if special else "invalid")
        elif isinstance(value, Decimal):
            if not value.is_finite():
                raise self.make_error("not_finite")
            decimal = value
        else:
            raise self.make_error("invalid")
        if decimal < 0 and not self.allow_negative:
            raise self.make_error("negative")
        if decimal.as_tuple().exponent < -self.MAX_PLACES:
            raise self.make_error("too_precise")
        return decimal

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        if value is None:
            return None
        if isinstance(value, Money):
            return str(value)
        if isinstance(value, Decimal) or _is_int(value):
            return format(Decimal(value), "f")
        raise TypeError(f"MoneyAmount cannot serialize {type(value).__name__}")
