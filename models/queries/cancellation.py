"""An order's cancellation, refunds and credit notes; and whether a credit note number is free."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.queries.orders import ORDER_ID, of_order
from models.tables import Cancellation, CreditNote, Invoice, Order, Refund

CANCELLATIONS = (
    select(Cancellation).where(Cancellation.order_id == ORDER_ID).order_by(Cancellation.number)
)
REFUNDS = select(Refund).where(Refund.order_id == ORDER_ID).order_by(Refund.number)
CREDIT_NOTES = select(CreditNote).where(CreditNote.order_id == ORDER_ID).order_by(CreditNote.id)


async def cancellations(*, session: AsyncSession, order: Order) -> list[Cancellation]:
    return list((await session.scalars(CANCELLATIONS, of_order(order))).unique())


async def refunds(*, session: AsyncSession, order: Order) -> list[Refund]:
    return list(await session.scalars(REFUNDS, of_order(order)))


async def credit_notes(*, session: AsyncSession, order: Order) -> list[CreditNote]:
    return list(await session.scalars(CREDIT_NOTES, of_order(order)))


async def number_taken(session: AsyncSession, number: str) -> bool:
    """Credit notes and invoices share one namespace of numbers (a credit note is a red-letter
    invoice): a number either already carries is taken."""
    invoice = await session.scalar(select(Invoice.id).where(Invoice.invoice_number == number))
    note = await session.scalar(select(CreditNote.id).where(CreditNote.number == number))
    return invoice is not None or note is not None
