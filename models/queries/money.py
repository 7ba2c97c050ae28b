"""The money of an order: its installments, payments and invoice requests."""

from __future__ import annotations

from sqlalchemy import (
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.queries.orders import ORDER_ID, of_order
from models.tables import (
    Installment,
    Invoice,
    Order,
    Payment,
)

# Built once, like the order's other rows (models.queries.orders).
INSTALLMENTS = (
    select(Installment).where(Installment.order_id == ORDER_ID).order_by(Installment.position)
)
PAYMENTS = select(Payment).where(Payment.order_id == ORDER_ID).order_by(Payment.number)
INVOICES = select(Invoice).where(Invoice.order_id == ORDER_ID).order_by(Invoice.request_number)


async def installments(*, session: AsyncSession, order: Order) -> list[Installment]:
    return list(await session.scalars(INSTALLMENTS, of_order(order)))
