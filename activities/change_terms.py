"""What a change may not undo (dispatched goods) and the stock it moves, for the change steps;
the order as the change makes it is models.change_terms' (the order page previews it too)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.change_terms import ChangedLine as ChangedLine
from models.change_terms import ChangedOrder as ChangedOrder
from models.change_terms import changed_order as changed_order
from models.domain import InstallmentState, LineFacts, PaymentTrigger, dispatched_per_line
from models.tables import Installment, Order, Product, StockReservation


async def reservations_of(session: AsyncSession, line_ids: Sequence[int]) -> list[StockReservation]:
    """The lines' reservations, every round (none before the order is confirmed)."""
    if not line_ids:
        return []
    rows = await session.scalars(
        select(StockReservation)
        .where(StockReservation.order_line_id.in_(line_ids))
        .order_by(StockReservation.round)
    )
    return list(rows)


def dispatched_by_line(reservations: Sequence[StockReservation]) -> dict[int, Decimal]:
    """What left the warehouse per line: the largest round taken (a reshipment replaces goods
    that went wrong; it does not add to them), a round dispatched in parts counted whole."""
    return dispatched_per_line(
        (row.order_line_id, row.dispatch_chain, row.quantity)
        for row in reservations
        if row.taken_at is not None
    )


async def move_reserved(session: AsyncSession, product_id: int, delta: Decimal) -> None:
    """A product's reserved stock up or down by `delta`, never below zero."""
    await session.execute(
        update(Product)
        .where(Product.id == product_id)
        .values(
            reserved=case(
                (Product.reserved + delta > 0, Product.reserved + delta),
                else_=0,
            )
        )
    )


async def installments_of(session: AsyncSession, order: Order) -> list[InstallmentState]:
    """The order's installments as its collection keeps them (none before confirmation)."""
    rows = await session.scalars(
        select(Installment).where(Installment.order_id == order.id).order_by(Installment.position)
    )
    return [
        InstallmentState(
            position=row.position,
            trigger=PaymentTrigger(row.trigger),
            offset_days=row.offset_days,
            amount=row.amount,
            paid=row.paid,
            due_date=row.due_on,
        )
        for row in rows
    ]


async def changed_line_facts(
    session: AsyncSession, order: Order, changed: ChangedOrder
) -> list[LineFacts]:
    """The changed lines as approval routing weighs them. A line's stock available is what is
    free on the shelf plus what this order already holds of the product (reserved, or
    dispatched), so only what the change adds is weighed against the shelf."""
    reservations = await reservations_of(session, [ln.id for ln in order.lines])
    dispatched = dispatched_by_line(reservations)
    held: dict[int, Decimal] = {}
    for row in reservations:
        if row.taken_at is None:
            held[row.product_id] = held.get(row.product_id, Decimal("0")) + row.quantity
    for line in order.lines:
        gone = dispatched.get(line.id, Decimal("0"))
        held[line.product_id] = held.get(line.product_id, Decimal("0")) + gone
    return [
        LineFacts(
            line_id=ln.facts_id,
            product_id=ln.product.id,
            quantity=ln.quantity,
            amount=ln.amount,
            standard_cost=ln.product.standard_cost,
            unit_cost=ln.line.unit_cost if ln.line is not None and ln.same_goods else None,
            product_code=ln.product.code,
            available=ln.product.stock_on_hand
            - ln.product.reserved
            + held.get(ln.product.id, Decimal("0")),
        )
        for ln in changed.lines
    ]
