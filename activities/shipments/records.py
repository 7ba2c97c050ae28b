"""What several shipment steps record alike: reservations, dispatch to-dos, delay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from activities.contact_mail import ContactRecipient, contacts_of
from activities.steps import StepRecorder
from models.domain import Assignee, MilestoneState, Role, TodoKind
from models.tables import Milestone, Order, Product, StockReservation

__all__ = ["ContactRecipient", "contacts_of"]  # the contacts' mail moved to contact_mail

PLAN_SLA = timedelta(days=1)
DISPATCH_SLA = timedelta(days=1)
OPS = [Assignee(role=Role.ops)]


async def reserve(rec: StepRecorder, order: Order, *, round_: int) -> None:
    """Set each line's quantity aside for a dispatch round (once per line and round)."""
    session = rec.session
    known = set(
        await session.scalars(
            select(StockReservation.order_line_id).where(
                StockReservation.round == round_,
                StockReservation.order_line_id.in_([ln.id for ln in order.lines]),
            )
        )
    )
    for line in order.lines:
        if line.id in known:
            continue
        session.add(
            StockReservation(
                order_line_id=line.id,
                round=round_,
                product_id=line.product_id,
                quantity=line.quantity,
                reserved_at=rec.now,
            )
        )
        await session.execute(
            update(Product)
            .where(Product.id == line.product_id)
            .values(reserved=Product.reserved + line.quantity)
        )


async def ask_dispatch(rec: StepRecorder, order: Order, workflow_id: str, *, round_: int) -> None:
    """The warehouse gets a to-do to dispatch the round."""
    order.shipment_status = "awaiting_dispatch"
    await rec.open_todo(
        key=f"{workflow_id}/dispatch/{round_}",
        order=order,
        workflow_id=workflow_id,
        kind=TodoKind.confirm_dispatch,
        assignees=[Assignee(role=Role.warehouse)],
        due_in=DISPATCH_SLA,
    )


async def milestones_of(session: AsyncSession, order: Order) -> dict[str, Milestone]:
    """The order's milestones by their code."""
    rows = await session.scalars(select(Milestone).where(Milestone.order_id == order.id))
    return {m.code: m for m in rows}


async def record_milestones(
    session: AsyncSession,
    order: Order,
    milestones: Sequence[MilestoneState],
    *,
    by_id: int | None,
) -> None:
    """Set the actual dates the step carries (a milestone keeps its first actual date)."""
    rows = await milestones_of(session, order)
    for done in milestones:
        row = rows.get(done.code.value)
        if row is not None and done.actual_date is not None and row.actual_on is None:
            row.actual_on = done.actual_date
            row.confirmed_by_id = by_id


async def still_delayed(session: AsyncSession, order: Order) -> bool:
    """The order is delayed while a milestone is late and not done; it says so from now on."""
    late = await session.scalar(
        select(func.count())
        .select_from(Milestone)
        .where(
            Milestone.order_id == order.id,
            Milestone.late_since.is_not(None),
            Milestone.actual_on.is_(None),
        )
    )
    order.delayed = bool(late)
    return order.delayed
