"""A partial dispatch: what leaves now stays the round's reservation, the rest is reserved in
a new round for the warehouse to dispatch later (the product's reserved stock unchanged)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from activities.steps import StepRecorder
from models.domain import RecordDispatch
from models.domain.dispatch import quantities_refusal
from models.tables import Order, OrderLine, Product, StockReservation

ZERO = Decimal("0")


async def waiting_in_round(rec: StepRecorder, order: Order, round_: int) -> list[StockReservation]:
    """The round's reservations not taken yet (what remains to dispatch in it)."""
    rows = await rec.session.scalars(
        select(StockReservation).where(
            StockReservation.round == round_,
            StockReservation.taken_at.is_(None),
            StockReservation.order_line_id.in_(
                select(OrderLine.id).where(OrderLine.order_id == order.id)
            ),
        )
    )
    return list(rows)


async def split_rest(rec: StepRecorder, order: Order, step: RecordDispatch) -> str | None:
    """Leave in the round only what leaves now and reserve the rest in `step.rest_round` (a
    line nothing of which leaves moves there whole). Returns the problem (nothing changed)
    when a line is not in the round or asks more than remains."""
    assert step.lines is not None
    waiting = await waiting_in_round(rec, order, step.dispatch_round)
    remaining = {row.order_line_id: row.quantity for row in waiting}
    if refusal := quantities_refusal(step.lines, remaining):
        return str(refusal)
    for row in waiting:
        leaving = step.lines.get(row.order_line_id, ZERO)
        rest = row.quantity - leaving
        if rest > 0:
            rec.session.add(
                StockReservation(
                    order_line_id=row.order_line_id,
                    round=step.rest_round,
                    product_id=row.product_id,
                    quantity=rest,
                    reserved_at=rec.now,
                    part_of=row.dispatch_chain,
                )
            )
        if leaving > 0:
            row.quantity = leaving
        else:
            await rec.session.delete(row)
    await rec.session.flush()
    return None


async def rest_reserved(rec: StepRecorder, order: Order, rest_round: int) -> bool:
    """Whether a rest was reserved in that round (a retried step finds what the first did)."""
    if not rest_round:
        return False
    found = await rec.session.scalar(
        select(StockReservation.id)
        .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
        .where(OrderLine.order_id == order.id, StockReservation.round == rest_round)
        .limit(1)
    )
    return found is not None


async def left_in_round(rec: StepRecorder, order: Order, round_: int) -> str:
    """What left in the round, for the timeline and the mail: product code × quantity."""
    rows = await rec.session.execute(
        select(Product.code, StockReservation.quantity)
        .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
        .join(Product, Product.id == StockReservation.product_id)
        .where(
            OrderLine.order_id == order.id,
            StockReservation.round == round_,
            StockReservation.taken_at.is_not(None),
        )
        .order_by(OrderLine.position)
    )
    return "; ".join(f"{code} × {quantity.normalize():f}" for code, quantity in rows)
