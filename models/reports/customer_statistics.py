"""Customer statistics: per customer level or per customer, the orders confirmed in a period
and their money (net of returns and cancellations: models/reports/order_figures.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.reports.order_figures import MoneyFigures, counted_orders, grouped_figures
from models.reports.statistics_period import Period, check_may_see_statistics, checked_choice
from models.tables import Customer, Order, User

CUSTOMER_GROUPINGS = ("level", "customer")


@dataclass(frozen=True)
class CustomerRow:
    """A customer level (customer_id None) or one customer with its level."""

    label: str
    level: str
    customer_id: int | None
    figures: MoneyFigures


@dataclass(frozen=True)
class CustomerStatistics:
    period: Period
    by: str
    rows: list[CustomerRow]
    totals: MoneyFigures


async def customer_statistics(
    *, session: AsyncSession, user: User, period: Period, by: str
) -> CustomerStatistics:
    """Per customer (the largest amount first) or per customer level (A, B, ...), in the
    user's order scope; customers without an order confirmed in the period are left out."""
    check_may_see_statistics(user)
    checked_choice(by, CUSTOMER_GROUPINGS)
    conditions = await counted_orders(session=session, user=user, period=period)
    figures = await grouped_figures(session, conditions, [Order.customer_id])
    found = await session.execute(
        select(Customer.id, Customer.name, Customer.level).where(
            Customer.id.in_([key for (key,) in figures])
        )
    )
    customers = [
        CustomerRow(label=name, level=level, customer_id=id_, figures=figures[(id_,)])
        for id_, name, level in found
    ]
    totals = sum((row.figures for row in customers), MoneyFigures())
    if by == "customer":
        rows = sorted(customers, key=lambda row: (-row.figures.amount, row.label))
    else:
        rows = _per_level(customers)
    return CustomerStatistics(period=period, by=by, rows=rows, totals=totals)


def _per_level(customers: list[CustomerRow]) -> list[CustomerRow]:
    levels: dict[str, MoneyFigures] = {}
    for row in customers:
        levels[row.level] = levels.get(row.level, MoneyFigures()) + row.figures
    return [
        CustomerRow(label=level, level=level, customer_id=None, figures=levels[level])
        for level in sorted(levels)
    ]


FIGURE_NAMES = tuple(f.name for f in fields(MoneyFigures))


def customer_statistics_rows(report: CustomerStatistics) -> list[dict[str, str | int | Decimal]]:
    """The report's rows as flat records (the API's names), for an export to write out."""
    return [
        {
            "level": row.level,
            **({"customer": row.label} if report.by == "customer" else {}),
            **{name: getattr(row.figures, name) for name in FIGURE_NAMES},
        }
        for row in report.rows
    ]
