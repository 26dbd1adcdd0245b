"""Exact money: ``Decimal`` in Python, ``NUMERIC(12,2)`` in PostgreSQL, integer cents in SQLite.

SQLite has no exact decimal type (the pysqlite driver would round-trip ``NUMERIC`` through
``float``), so on SQLite the :class:`Money` column type stores whole cents in an ``INTEGER``.
Floats are refused everywhere: passing one raises ``TypeError``.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Optional, Union

from sqlalchemy.types import BigInteger, Numeric, TypeDecorator

CURRENCY = "USD"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("9999999999.99")  # NUMERIC(12,2)

MoneyInput = Union[Decimal, int, str]


def to_money(value: MoneyInput) -> Decimal:
    """Return ``value`` as a Decimal with exactly two places.

    Accepts ``Decimal``, ``int`` and strings such as ``"49"``, ``"49.00"``, ``"$1,240.00"``.
    Raises ``TypeError`` for floats (and bools) and ``ValueError`` for sub-cent precision or
    values outside NUMERIC(12,2).
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, str):
        cleaned = value.strip().replace(",", "").replace("$", "").replace("USD", "").strip()
        try:
            value = Decimal(cleaned)
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
    elif isinstance(value, int):
        value = Decimal(value)
    elif not isinstance(value, Decimal):
        raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    quantized = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if quantized != value:
        raise ValueError(f"amount has more than two decimal places: {value}")
    if abs(quantized) > MAX_AMOUNT:
        raise ValueError(f"amount out of range: {value}")
    return quantized


def cents_to_money(cents: int) -> Decimal:
    """Convert integer cents to a two-place Decimal (exact)."""
    return (Decimal(int(cents)) / 100).quantize(CENT)


def money_to_cents(amount: Decimal) -> int:
    """Convert a two-place Decimal to integer cents (exact)."""
    return int(to_money(amount) * 100)


def format_usd(amount: Decimal) -> str:
    """Format as ``$1,240.00`` (negative as ``-$5.00``)."""
    amount = to_money(amount)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


class Money(TypeDecorator):
    """Column type for amounts in USD: NUMERIC(12,2), or integer cents on SQLite."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 2, asdecimal=True))

    def process_bind_param(self, value: Optional[MoneyInput], dialect: Any) -> Any:
        if value is None:
            return None
        amount = to_money(value)
        if dialect.name == "sqlite":
            return int(amount * 100)
        return amount

    def process_result_value(self, value: Any, dialect: Any) -> Optional[Decimal]:
        if value is None:
            return None
        if dialect.name == "sqlite":
            if isinstance(value, float):  # only AVG() or a hand-written REAL could produce this
                raise TypeError("Money column returned a float from SQLite")
            return cents_to_money(value)
        return Decimal(value).quantize(CENT)

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        return self
