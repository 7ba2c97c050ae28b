"""The receivables list sorted by a column the reader picks (the usual order, most overdue
first, is walked through the due dates in receivables): every order with money open grouped
and sorted, then the page cut from it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.queries.sorting import SortOrder, sql_order
from models.tables import Customer, Installment, Order, User

# The list's columns a person may sort by (overdue_days: how long the oldest open due date
# is past; orders with nothing overdue last).
RECEIVABLE_SORTS = (
    "order",
    "customer",
    "owner",
    "total",
    "outstanding",
    "next_due",
    "overdue_days",
)


async def sorted_order_ids(
    session: AsyncSession,
    in_scope: list[ColumnElement[bool]],
    today: date,
    sort: SortOrder,
    *,
    overdue_only: bool,
    offset: int,
    limit: int,
) -> list[int]:
    """The page's order ids, every order with money open sorted by the chosen column (then
    by order id)."""
    open_amount = Installment.amount - Installment.paid
    per_order = (
        select(
            Installment.order_id.label("order_id"),
            func.sum(open_amount).label("outstanding"),
            func.min(Installment.due_on).label("next_due_on"),
            func.min(case((Installment.due_on < today, Installment.due_on))).label("overdue_since"),
        )
        .where(*in_scope)
        .group_by(Installment.order_id)
    )
    if overdue_only:
        per_order = per_order.having(func.min(Installment.due_on) < today)
    open_orders = per_order.subquery("open_orders")
    owner = aliased(User, name="owner")
    columns: dict[str, SQLColumnExpression[Any]] = {
        "order": Order.number,
        "customer": func.lower(Customer.name),
        "owner": func.lower(owner.full_name),
        "total": Order.total,
        "outstanding": open_orders.c.outstanding,
        "next_due": open_orders.c.next_due_on,
        "overdue_days": open_orders.c.overdue_since,
    }
    # The longer overdue, the earlier the date it is overdue since.
    order = SortOrder(sort.column, not sort.descending) if sort.column == "overdue_days" else sort
    rows = await session.scalars(
        select(open_orders.c.order_id)
        .join(Order, Order.id == open_orders.c.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(owner, owner.id == Order.owner_id)
        .order_by(*sql_order(order, columns, open_orders.c.order_id))
        .offset(offset)
        .limit(limit)
    )
    return list(rows)
