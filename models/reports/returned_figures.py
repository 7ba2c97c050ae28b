"""The value of goods that came back, beside the receivables: over the orders with money open
that the list or the aging covers.

Nothing here takes it off the open money again: a return reduces the unpaid installments
itself (the latest first), so an order's outstanding money is already net of it
(outstanding = net total - paid + refunds)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.reports.sums import sum_as_money
from models.tables import Installment, Order


async def returned_of_open_orders(
    session: AsyncSession,
    in_scope: list[ColumnElement[bool]],
    today: date,
    *,
    overdue_only: bool = False,
) -> Decimal:
    """What came back of the orders with an installment meeting `in_scope` (open, in the
    user's scope and filters), of those with money past due when `overdue_only`."""
    orders = select(Installment.order_id).where(*in_scope)
    if overdue_only:
        orders = orders.where(Installment.due_on < today)
    found = await session.scalar(
        select(func.sum(Order.returned)).where(Order.id.in_(orders), Order.returned != 0)
    )
    return sum_as_money(found)


async def returned_per_customer(
    session: AsyncSession, in_scope: list[ColumnElement[bool]]
) -> dict[int, Decimal]:
    """What came back per customer, of the orders with an installment meeting `in_scope`;
    customers with nothing back are left out."""
    rows = await session.execute(
        select(Order.customer_id, func.sum(Order.returned))
        .where(Order.id.in_(select(Installment.order_id).where(*in_scope)), Order.returned != 0)
        .group_by(Order.customer_id)
    )
    return {customer_id: sum_as_money(value) for customer_id, value in rows}
