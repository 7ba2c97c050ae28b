"""An order's returns for the order page and the API, and how much of each line can still come
back (dispatched, less what came back or is asked for in a return still open)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.domain import dispatched_per_line
from models.queries.orders import ORDER_ID, of_order
from models.tables import Order, OrderReturn, OrderReturnLine, StockReservation
from workflows import rules

ZERO = Decimal("0")
# A return in these still expects its goods back (in full or in part).
OPEN_RETURN_STATUSES = frozenset({"requested", "approved", "receiving"})
RETURNS = (
    select(OrderReturn)
    .where(OrderReturn.order_id == ORDER_ID)
    .options(selectinload(OrderReturn.lines).joinedload(OrderReturnLine.order_line))
    .order_by(OrderReturn.number)
)


async def order_returns(*, session: AsyncSession, order: Order) -> list[OrderReturn]:
    """The order's returns, oldest first, each with its lines and who asked and decided."""
    return list((await session.scalars(RETURNS, of_order(order))).unique())


async def dispatched_by_line(*, session: AsyncSession, order: Order) -> dict[int, Decimal]:
    """What left the warehouse per line (the largest round taken: a reshipment replaces goods
    that went wrong, it does not add to them; a round dispatched in parts counted whole);
    lines nothing of which left are not in it."""
    rows = await session.scalars(
        select(StockReservation).where(
            StockReservation.order_line_id.in_([line.id for line in order.lines]),
            StockReservation.taken_at.is_not(None),
        )
    )
    dispatched = dispatched_per_line((r.order_line_id, r.dispatch_chain, r.quantity) for r in rows)
    return {line: quantity for line, quantity in dispatched.items() if quantity > 0}


def taken_by_line(returns: list[OrderReturn]) -> dict[int, Decimal]:
    """Per order line: what came back, and what returns still open expect on top."""
    taken: dict[int, Decimal] = {}
    for order_return in returns:
        still_open = order_return.status in OPEN_RETURN_STATUSES
        for line in order_return.lines:
            more = max(line.quantity, line.received) if still_open else line.received
            taken[line.order_line_id] = taken.get(line.order_line_id, ZERO) + more
    return taken


async def returnable_by_line(*, session: AsyncSession, order: Order) -> dict[int, Decimal]:
    """What can still come back per dispatched line (zero when everything is back or asked
    for); empty before anything was dispatched."""
    dispatched = await dispatched_by_line(session=session, order=order)
    if not dispatched:
        return {}
    taken = taken_by_line(await order_returns(session=session, order=order))
    return rules.returnable(dispatched, taken)
