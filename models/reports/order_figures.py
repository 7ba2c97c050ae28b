"""Each confirmed order's money in a statistics period, net of returns and cancellations, as one
subquery the customer and order statistics sum up.

An order counts in the period it was confirmed in (the company's days) and in the user's order
scope; a cancelled order counts nowhere. Its `amount` is its net revenue (models/reports/
net_revenue.py: the total less what came back, less the credit notes that credit no return);
`collected` is what was paid less what was refunded; `outstanding` what its open installments
still ask (already net of returns, as in the receivables); `invoiced` the invoices issued less
the credit notes issued."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import Stage
from models.queries import order_scope
from models.reports.net_revenue import credited_for_returns_of_order, net_revenue
from models.reports.receivables_scope import is_open
from models.reports.refund_figures import credited_of_order
from models.reports.statistics_period import Period
from models.reports.sums import ZERO, sum_as_money
from models.tables import Installment, Order, Refund, User


async def counted_orders(
    *, session: AsyncSession, user: User, period: Period
) -> list[ColumnElement[bool]]:
    """The orders a statistics report counts: in the user's scope, confirmed in the period,
    not cancelled."""
    begin, end = period.bounds()
    return [
        await order_scope(session=session, user=user),
        Order.confirmed_at >= begin,
        Order.confirmed_at < end,
        Order.stage != Stage.cancelled.value,
    ]


def order_figures(conditions: list[ColumnElement[bool]]) -> Subquery:
    """One row per counted order with the figures the statistics sum."""
    refunded = (
        select(func.coalesce(func.sum(Refund.amount), 0))
        .where(Refund.order_id == Order.id, Refund.status == "refunded")
        .scalar_subquery()
    )
    outstanding = (
        select(func.coalesce(func.sum(Installment.amount - Installment.paid), 0))
        .where(Installment.order_id == Order.id, *is_open(Installment))
        .scalar_subquery()
    )
    credited = credited_of_order()
    return (
        select(
            Order.id.label("order_id"),
            Order.customer_id,
            Order.department_id,
            Order.confirmed_at,
            Order.total,
            Order.returned,
            credited.label("credited"),
            credited_for_returns_of_order().label("credited_for_returns"),
            (Order.paid - refunded).label("collected"),
            outstanding.label("outstanding"),
            (Order.invoiced - credited).label("invoiced"),
        )
        .where(*conditions)
        .subquery()
    )


@dataclass(frozen=True)
class MoneyFigures:
    """What a group of orders sums to; `amount` is their net revenue."""

    orders: int = 0
    amount: Decimal = ZERO
    returned: Decimal = ZERO
    collected: Decimal = ZERO
    outstanding: Decimal = ZERO
    invoiced: Decimal = ZERO

    def __add__(self, other: MoneyFigures) -> MoneyFigures:
        return MoneyFigures(
            orders=self.orders + other.orders,
            amount=self.amount + other.amount,
            returned=self.returned + other.returned,
            collected=self.collected + other.collected,
            outstanding=self.outstanding + other.outstanding,
            invoiced=self.invoiced + other.invoiced,
        )


def summed_columns(figures: Subquery) -> list[ColumnElement[Any]]:
    """The sums over an order_figures subquery, in the order money_figures reads them."""
    c = figures.c
    return [
        func.count(c.order_id),
        func.sum(c.total),
        func.sum(c.returned),
        func.sum(c.credited),
        func.sum(c.credited_for_returns),
        func.sum(c.collected),
        func.sum(c.outstanding),
        func.sum(c.invoiced),
    ]


Sum = Decimal | float | int | None


def money_figures(
    count: int | None,
    total: Sum,
    returned: Sum,
    credited: Sum,
    credited_for_returns: Sum,
    collected: Sum,
    outstanding: Sum,
    invoiced: Sum,
) -> MoneyFigures:
    """MoneyFigures from a row of summed_columns (`money_figures(*row)`)."""
    returned_money = sum_as_money(returned)
    return MoneyFigures(
        orders=count or 0,
        amount=net_revenue(
            sum_as_money(total),
            returned_money,
            sum_as_money(credited),
            sum_as_money(credited_for_returns),
        ),
        returned=returned_money,
        collected=sum_as_money(collected),
        outstanding=sum_as_money(outstanding),
        invoiced=sum_as_money(invoiced),
    )
