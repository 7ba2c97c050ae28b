"""Sums the reports read back from SQL, as money: SQLite's floating-point noise rounded away."""

from __future__ import annotations

from decimal import Decimal

from workflows.rules.money import money

ZERO = Decimal("0.00")


def sum_as_money(value: Decimal | float | int | None) -> Decimal:
    """A sum as money, to the cent, half up; nothing to sum is zero. SQLite keeps Numeric as
    floating point, so sums and their differences come back with float noise (or as a float
    where the column type is lost)."""
    if value is None:
        return ZERO
    return money(Decimal(str(value)))
