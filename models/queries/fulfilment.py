"""Fulfilment: milestones, dispatches, shipment exceptions and the awaiting-shipment queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.domain import (
    MilestoneCode,
    TodoKind,
    TodoStatus,
)
from models.queries.orders import ORDER_ID, of_order
from models.queries.scope import order_scope
from models.tables import (
    Dispatch,
    Milestone,
    Order,
    OrderLine,
    ShipmentException,
    StockReservation,
    Todo,
    User,
)

# Built once, like the order's other rows (models.queries.orders).
MILESTONES = select(Milestone).where(Milestone.order_id == ORDER_ID).order_by(Milestone.position)
DISPATCHES = select(Dispatch).where(Dispatch.order_id == ORDER_ID).order_by(Dispatch.round)
_raiser = User.__table__.alias("raiser")
_resolver = User.__table__.alias("resolver")
EXCEPTIONS = (
    select(ShipmentException, _raiser.c.id, _resolver.c.id)
    .outerjoin(_raiser, _raiser.c.id == ShipmentException.raised_by_id)
    .outerjoin(_resolver, _resolver.c.id == ShipmentException.resolved_by_id)
    .where(ShipmentException.order_id == ORDER_ID)
    .order_by(ShipmentException.number)
)


async def milestones(*, session: AsyncSession, order: Order) -> list[Milestone]:
    """The order's milestones in the order they happen."""
    return list(await session.scalars(MILESTONES, of_order(order)))


async def milestone_of(*, session: AsyncSession, order: Order, code: str) -> Milestone | None:
    return await session.scalar(
        select(Milestone).where(Milestone.order_id == order.id, Milestone.code == code)
    )


def milestone_status(milestone: Milestone, today: date | None = None) -> str:
    """done_on_time, done_late, late (not done and its due time has passed, as the workflow's
    timer recorded, or its planned day is over) or pending."""
    if milestone.actual_on is not None:
        return "done_late" if milestone.actual_on > milestone.planned_on else "done_on_time"
    today = today or _now().date()
    if milestone.late_since is not None or milestone.planned_on < today:
        return "late"
    return "pending"


async def dispatches(*, session: AsyncSession, order: Order) -> list[Dispatch]:
    return list(await session.scalars(DISPATCHES, of_order(order)))


async def was_dispatched(*, session: AsyncSession, order: Order) -> bool:
    """Whether goods have left for this order (a reshipment waits for dispatch again, yet
    the first goods are out)."""
    found = await session.scalar(select(Dispatch.id).where(Dispatch.order_id == order.id).limit(1))
    return found is not None


@dataclass(frozen=True)
class ExceptionRow:
    """A shipment exception with the people who raised and resolved it."""

    exception: ShipmentException
    raised_by: User | None
    resolved_by: User | None


async def shipment_exceptions(*, session: AsyncSession, order: Order) -> list[ExceptionRow]:
    found = list(await session.execute(EXCEPTIONS, of_order(order)))
    people_ids = {i for _, a, b in found for i in (a, b) if i is not None}
    people = (
        {u.id: u for u in await session.scalars(select(User).where(User.id.in_(people_ids)))}
        if people_ids
        else {}
    )
    return [
        ExceptionRow(exception=e, raised_by=people.get(a), resolved_by=people.get(b))
        for e, a, b in found
    ]


# Where a shipment waits for the warehouse (its "awaiting shipment" queue).
AWAITING_DISPATCH = "awaiting_dispatch"
HELD = "held"


@dataclass(frozen=True)
class QueueLine:
    product_code: str
    product_name: str
    unit: str
    quantity: Decimal
    reserved: Decimal  # set aside for this line and not yet taken
    on_hand: Decimal


@dataclass(frozen=True)
class QueueItem:
    """An order waiting for dispatch (or held for its deposit), as the warehouse sees it."""

    number: str
    customer: str
    shipping_mode: str
    shipment_status: str
    planned_dispatch_on: date | None
    dispatch_todo_id: int | None
    lines: list[QueueLine]

    @property
    def held(self) -> bool:
        return self.shipment_status == HELD


async def awaiting_shipment(
    *, session: AsyncSession, user: User, statuses: tuple[str, ...] = (AWAITING_DISPATCH, HELD)
) -> list[QueueItem]:
    """The orders whose shipment waits for dispatch (or is held), in the user's scope, the
    earliest planned dispatch first; the same few queries however long the queue."""
    scope = await order_scope(session=session, user=user)
    rows = await _queued_orders(session, scope, statuses)
    order_ids = [order.id for order, _ in rows]
    if not order_ids:
        return []
    todo_ids = await _open_dispatch_todos(session, order_ids)
    reserved = await _reserved_per_line(session, order_ids)
    return [
        QueueItem(
            number=order.number,
            customer=order.customer.name,
            shipping_mode=order.shipping_mode,
            shipment_status=order.shipment_status or "",
            planned_dispatch_on=planned_on,
            dispatch_todo_id=None if order.shipment_status == HELD else todo_ids.get(order.id),
            lines=[_queue_line(line, reserved) for line in order.lines],
        )
        for order, planned_on in rows
    ]


async def _queued_orders(
    session: AsyncSession, scope: ColumnElement[bool], statuses: tuple[str, ...]
) -> list[tuple[Order, date | None]]:
    """The orders in these shipment statuses, each once, with their planned dispatch day, the
    earliest first (undated last, then by id); their lines and products loaded."""
    planned = (
        select(Milestone.order_id, Milestone.planned_on)
        .where(Milestone.code == MilestoneCode.dispatch.value)
        .subquery()
    )
    found = list(
        await session.execute(
            select(Order, planned.c.planned_on)
            .outerjoin(planned, planned.c.order_id == Order.id)
            .where(Order.shipment_status.in_(statuses), scope)
            .options(selectinload(Order.lines).selectinload(OrderLine.product))
            .order_by(planned.c.planned_on.is_(None), planned.c.planned_on, Order.id)
        )
    )
    return list({order.id: (order, on) for order, on in found}.values())


async def _open_dispatch_todos(session: AsyncSession, order_ids: list[int]) -> dict[int, int]:
    """Each order's open confirm-dispatch to-do (the first, should there be more)."""
    found = await session.execute(
        select(Todo.order_id, func.min(Todo.id))
        .where(
            Todo.order_id.in_(order_ids),
            Todo.kind == TodoKind.confirm_dispatch.value,
            Todo.status == TodoStatus.open.value,
        )
        .group_by(Todo.order_id)
    )
    return dict(found.all())


async def _reserved_per_line(session: AsyncSession, order_ids: list[int]) -> dict[int, Decimal]:
    """The stock set aside and not yet taken, per order line of these orders."""
    found = await session.execute(
        select(StockReservation.order_line_id, func.sum(StockReservation.quantity))
        .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
        .where(OrderLine.order_id.in_(order_ids), StockReservation.taken_at.is_(None))
        .group_by(StockReservation.order_line_id)
    )
    return dict(found.all())


def _queue_line(line: OrderLine, reserved: dict[int, Decimal]) -> QueueLine:
    return QueueLine(
        product_code=line.product.code,
        product_name=line.product.name,
        unit=line.product.unit,
        quantity=line.quantity,
        reserved=Decimal(reserved.get(line.id) or 0),
        on_hand=line.product.stock_on_hand,
    )


def _now() -> datetime:
    return datetime.now(UTC)
