"""Order statistics: month by month, the orders confirmed and their net amount, broken down by
the customer's region or level, the product category or the order's department.

Orders count as in the customer statistics (models/reports/order_figures.py). By product
category an order counts once in each category it has a line of, with those lines' amounts
less what came back of them; the months' totals count each order once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.reports.net_revenue import net_revenue
from models.reports.order_figures import counted_orders, order_figures
from models.reports.statistics_period import (
    Period,
    check_may_see_statistics,
    checked_choice,
    month_key,
)
from models.reports.sums import ZERO, sum_as_money
from models.tables import Customer, Department, OrderLine, OrderReturnLine, Product, User

ORDER_GROUPINGS = ("region", "customer_level", "product_category", "department")


@dataclass
class MonthFigures:
    orders: int = 0
    amount: Decimal = ZERO


@dataclass
class GroupRow:
    """One region, level, category or department: its figures per month (2026-01) and in all."""

    group: str
    months: dict[str, MonthFigures] = field(default_factory=lambda: defaultdict(MonthFigures))
    total: MonthFigures = field(default_factory=MonthFigures)


@dataclass(frozen=True)
class OrderStatistics:
    period: Period
    by: str
    months: list[str]
    rows: list[GroupRow]  # the largest amount first
    per_month: dict[str, MonthFigures]  # all groups, each order once
    total: MonthFigures


async def order_statistics(
    *, session: AsyncSession, user: User, period: Period, by: str
) -> OrderStatistics:
    check_may_see_statistics(user)
    checked_choice(by, ORDER_GROUPINGS)
    figures = order_figures(await counted_orders(session=session, user=user, period=period))
    if by == "product_category":
        found = await _per_category(session, figures)
    else:
        found = await _per_order(session, figures, by)
    groups: dict[str, GroupRow] = {}
    per_month: dict[str, MonthFigures] = {month: MonthFigures() for month in period.months()}
    counted: set[int] = set()
    for order_id, confirmed_at, group, amount in found:
        month = month_key(period.day_of(confirmed_at))
        row = groups.setdefault(group or "", GroupRow(group=group or ""))
        for figures_of in (row.months[month], row.total, per_month[month]):
            figures_of.amount += amount
        row.months[month].orders += 1
        row.total.orders += 1
        if order_id not in counted:
            counted.add(order_id)
            per_month[month].orders += 1
    total = MonthFigures(
        orders=len(counted), amount=sum((m.amount for m in per_month.values()), ZERO)
    )
    return OrderStatistics(
        period=period,
        by=by,
        months=period.months(),
        rows=sorted(groups.values(), key=lambda r: (-r.total.amount, r.group)),
        per_month=per_month,
        total=total,
    )


Counted = list[tuple[int, datetime, str, Decimal]]  # order, confirmed at, group, net amount


async def _per_order(session: AsyncSession, figures: Subquery, by: str) -> Counted:
    c = figures.c
    key = {
        "region": Customer.region,
        "customer_level": Customer.level,
        "department": Department.name,
    }[by]
    rows = await session.execute(
        select(c.order_id, c.confirmed_at, key, c.total, c.returned, c.credited)
        .add_columns(c.credited_for_returns)
        .join(Customer, Customer.id == c.customer_id)
        .join(Department, Department.id == c.department_id)
    )
    return [
        (order_id, at, group, net_revenue(*(sum_as_money(v) for v in (t, r, cr, cfr))))
        for order_id, at, group, t, r, cr, cfr in rows
    ]


async def _per_category(session: AsyncSession, figures: Subquery) -> Counted:
    c = figures.c
    came_back = (
        select(func.coalesce(func.sum(OrderReturnLine.amount), 0))
        .where(OrderReturnLine.order_line_id == OrderLine.id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(c.order_id, c.confirmed_at, Product.category, func.sum(OrderLine.amount - came_back))
        .join(OrderLine, OrderLine.order_id == c.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .group_by(c.order_id, c.confirmed_at, Product.category)
    )
    return [(order_id, at, group, sum_as_money(amount)) for order_id, at, group, amount in rows]


def order_statistics_rows(report: OrderStatistics) -> list[dict[str, str | int | Decimal]]:
    """The report's figures as flat records (group, month, orders, amount), for an export."""
    return [
        {
            "group": row.group,
            "month": month,
            "orders": row.months[month].orders,
            "amount": row.months[month].amount,
        }
        for row in report.rows
        for month in report.months
        if month in row.months
    ]
