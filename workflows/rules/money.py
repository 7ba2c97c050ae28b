"""Money arithmetic every rule shares: rounding to the cent, half up, and percentages of it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
ZERO = Decimal("0")


def money(value: Decimal) -> Decimal:
    """Round to the cent, half up (never banker's rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(difference: Decimal, base: Decimal | None) -> Decimal | None:
    """The difference as a percentage of the base, to the hundredth, half up; None with
    nothing for a base (the order page and the cost report show it the same way)."""
    if not base:
        return None
    return money(difference / base * HUNDRED)
