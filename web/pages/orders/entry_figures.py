"""What the order form's running-total script (static/order_form.js) works from, embedded in the
page: each product's list price (and standard cost, only for a role that sees costs), each
customer's exposure and credit limit, the server's own money and percent format for the
reader's locale, and the sentences it fills in, translated."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from i18n import Formatter
from models.queries import sees_costs
from models.queries.customers import exposures
from models.tables import Customer, Order, Product, User

# Formatted by the server, these show the script where the sign, the currency, the grouping
# and the decimal mark go: it then writes every figure the way the server does.
MONEY_SAMPLE = Decimal("1234567.89")
PERCENT_SAMPLE = Decimal("1234.89")


def number_format(sample: str) -> dict[str, str]:
    """What surrounds and separates the digits of a formatted sample 1234...89: its prefix and
    suffix, the grouping separator and the decimal mark."""
    first, last = sample.index("1"), sample.rindex("9") + 1
    digits = sample[first:last]
    return {
        "prefix": sample[:first],
        "suffix": sample[last:],
        "group": digits[1],
        "decimal": digits[-3],
    }


def formats(fmt: Formatter) -> dict[str, dict[str, str]]:
    return {
        "money": number_format(fmt.money(MONEY_SAMPLE)),
        "negative_money": number_format(fmt.money(-MONEY_SAMPLE)),
        "percent": number_format(fmt.percent(PERCENT_SAMPLE)),
    }


def texts(gettext: Callable[[str], str]) -> dict[str, str]:
    """The sentences the script completes (%(name)s filled in), in the reader's language."""
    return {
        "amount": gettext("Amount"),
        "below_list": gettext("%(percent)s below the list price"),
        "above_list": gettext("%(percent)s above the list price"),
        "credit": gettext("%(exposure)s on confirmed orders + %(order)s this order = %(sum)s"),
        "over_limit": gettext("Over the customer's credit limit of %(limit)s by %(over)s."),
    }


async def form_figures(
    *,
    session: AsyncSession,
    user: User,
    fmt: Formatter,
    gettext: Callable[[str], str],
    customers: Sequence[Customer],
    products: Sequence[Product],
    order: Order | None,
) -> dict[str, Any]:
    """The figures for the form of a new order, or of `order` (whose own total is not part of
    its customer's exposure: the form adds the total as typed)."""
    costs = sees_costs(user)
    exposure = await exposures(
        session=session,
        customer_ids=[c.id for c in customers],
        other_than=order.id if order else None,
    )
    return {
        "products": {
            str(p.id): {"list_price": str(p.list_price)}
            | ({"standard_cost": str(p.standard_cost)} if costs and p.standard_cost else {})
            for p in products
        },
        "customers": {
            str(c.id): {"exposure": str(exposure[c.id]), "credit_limit": str(c.credit_limit)}
            for c in customers
        },
        "sees_costs": costs,
        "formats": formats(fmt),
        "texts": texts(gettext),
    }
