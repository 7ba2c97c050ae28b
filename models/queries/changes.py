"""The changes of an order: its change requests and the revisions they became."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.queries.orders import ORDER_ID, of_order
from models.tables import Order, OrderChangeRequest, OrderRevision

# Built once, like the order's other rows (models.queries.orders).
REVISIONS = (
    select(OrderRevision).where(OrderRevision.order_id == ORDER_ID).order_by(OrderRevision.number)
)
CHANGE_REQUESTS = (
    select(OrderChangeRequest)
    .where(OrderChangeRequest.order_id == ORDER_ID)
    .order_by(OrderChangeRequest.number)
)


async def revisions(*, session: AsyncSession, order: Order) -> list[OrderRevision]:
    """The order's revisions after its first, oldest first, with who asked for each."""
    return list((await session.scalars(REVISIONS, of_order(order))).unique())


async def change_requests(*, session: AsyncSession, order: Order) -> list[OrderChangeRequest]:
    return list((await session.scalars(CHANGE_REQUESTS, of_order(order))).unique())
