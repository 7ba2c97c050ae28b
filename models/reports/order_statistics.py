"""Order statistics: month by month, the orders confirmed and their net amount, broken down by
the customer's region or level, the product category or the order's department.

Orders count as in the customer statistics (models/reports/order_figures.py). By product
category an order counts once in each category it has a line of, with those lines' amounts
less what came back of them; the months' totals count each order once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import ColumnElement, distinct, func, literal_column
from sqlalchemy.ext.asyncio import AsyncSession

from models.reports.order_figures import (
    Monthly,
    counted_orders,
    grouped_figures,
    orders_a_month_at_a_time,
    summed_by,
)
from models.reports.statistics_period import (
    Period,
    check_may_see_statistics,
    checked_choice,
)
from models.reports.sums import ZERO, sum_as_money
from models.tables import (
    Customer,
    Department,
    Order,
    OrderLine,
    OrderReturnLine,
    Product,
    User,
)

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
    conditions = await counted_orders(session=session, user=user, period=None)
    monthly = Monthly.of(period)
    if by == "product_category":
        found, per_month_orders = await _per_category(session, conditions, monthly)
    else:
        found = await _per_group(session, conditions, monthly, by)
        per_month_orders = defaultdict(int)
        for at, _, orders, _ in found:
            per_month_orders[at] += orders
    groups: dict[str, GroupRow] = {}
    per_month: dict[str, MonthFigures] = {m: MonthFigures() for m in period.months()}
    for at, group, orders, amount in found:
        row = groups.setdefault(group or "", GroupRow(group=group or ""))
        for figures_of in (row.months[at], row.total):
            figures_of.orders += orders
            figures_of.amount += amount
        per_month[at].amount += amount
    for at, orders in per_month_orders.items():
        per_month[at].orders = orders
    total = MonthFigures(
        orders=sum(per_month_orders.values()),
        amount=sum((m.amount for m in per_month.values()), ZERO),
    )
    return OrderStatistics(
        period=period,
        by=by,
        months=period.months(),
        rows=sorted(groups.values(), key=lambda r: (-r.total.amount, r.group)),
        per_month=per_month,
        total=total,
    )


Counted = list[tuple[str, str, int, Decimal]]  # month, group, orders, net amount


async def _per_group(
    session: AsyncSession, conditions: list[ColumnElement[bool]], monthly: Monthly, by: str
) -> Counted:
    """Each month's and group's orders and net amount (models/reports/order_figures.py)."""
    key, table, on = {
        "region": (Customer.region, Customer, Customer.id == Order.customer_id),
        "customer_level": (Customer.level, Customer, Customer.id == Order.customer_id),
        "department": (Department.name, Department, Department.id == Order.department_id),
    }[by]
    figures = await grouped_figures(session, conditions, [key], [(table, on)], monthly)
    return [(at, group, f.orders, f.amount) for (at, group), f in figures.items()]


async def _per_category(
    session: AsyncSession, conditions: list[ColumnElement[bool]], monthly: Monthly
) -> tuple[Counted, dict[str, int]]:
    """Each month's and category's orders and their lines' amounts less what came back of
    them; and each month's orders (each once: every confirmed order has a line)."""
    product = [(Product, Product.id == OrderLine.product_id)]
    lines = await orders_a_month_at_a_time(
        session,
        [Product.category],
        [(OrderLine, OrderLine.order_id == Order.id), *product],
        conditions,
        [func.count(distinct(OrderLine.order_id)), func.sum(OrderLine.amount)],
        monthly,
    )
    came_back = await summed_by(
        session,
        OrderReturnLine,
        [Product.category],
        product,
        conditions,
        [OrderReturnLine.amount],
        through=(OrderLine, OrderReturnLine.order_line_id, OrderLine.order_id),
        monthly=monthly,
    )
    found = [
        (
            at,
            group,
            orders,
            sum_as_money(amount) - sum_as_money(came_back.get((at, group), (0,))[0]),
        )
        for (at, group), (orders, amount) in lines.items()
    ]
    per_month = await summed_by(
        session, Order, [], [], conditions, [literal_column("1")], monthly=monthly
    )
    return found, {at: int(count) for (at,), (count,) in per_month.items()}


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
