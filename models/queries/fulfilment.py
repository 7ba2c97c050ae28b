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
    Contact,
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
    line_id: int = 0
    to_dispatch: Decimal = Decimal("0")  # what remains of it in the open dispatch to-do's round


@dataclass(frozen=True)
class ContactRow:
    name: str
    phone: str


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
    # Where the goods go and whom the carrier calls: the customer's address and contacts.
    ship_to: str = ""
    contacts: tuple[ContactRow, ...] = ()
    dispatch_round: int | None = None  # the open dispatch to-do's round (2, 3 ...: a rest)

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
    todos = await _open_dispatch_todos(session, order_ids)
    waiting = await _waiting_per_line(session, order_ids)
    contacts = await _contacts_of(session, [order.customer_id for order, _ in rows])
    items = []
    for order, planned_on in rows:
        todo_id, round_ = todos.get(order.id, (None, None))
        if order.shipment_status == HELD:
            todo_id = round_ = None
        items.append(
            QueueItem(
                number=order.number,
                customer=order.customer.name,
                shipping_mode=order.shipping_mode,
                shipment_status=order.shipment_status or "",
                planned_dispatch_on=planned_on,
                dispatch_todo_id=todo_id,
                lines=[_queue_line(line, waiting, round_) for line in order.lines],
                ship_to=order.customer.address,
                contacts=contacts.get(order.customer_id, ()),
                dispatch_round=round_,
            )
        )
    return items


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


async def _open_dispatch_todos(
    session: AsyncSession, order_ids: list[int]
) -> dict[int, tuple[int, int]]:
    """Each order's open confirm-dispatch to-do (the first, should there be more) with the
    round it dispatches (the last part of its key)."""
    found = await session.execute(
        select(Todo.order_id, Todo.id, Todo.key)
        .where(
            Todo.order_id.in_(order_ids),
            Todo.kind == TodoKind.confirm_dispatch.value,
            Todo.status == TodoStatus.open.value,
        )
        .order_by(Todo.id.desc())
    )
    return {order_id: (todo_id, dispatch_round(key)) for order_id, todo_id, key in found}


def dispatch_round(todo_key: str) -> int:
    """The round a confirm_dispatch to-do dispatches: `order-.../shipment/dispatch/<round>`."""
    return int(todo_key.rsplit("/", 1)[1])


async def _waiting_per_line(
    session: AsyncSession, order_ids: list[int]
) -> dict[int, dict[int, Decimal]]:
    """The stock set aside and not yet taken, per order line of these orders and per round."""
    found = await session.execute(
        select(StockReservation.order_line_id, StockReservation.round, StockReservation.quantity)
        .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
        .where(OrderLine.order_id.in_(order_ids), StockReservation.taken_at.is_(None))
    )
    waiting: dict[int, dict[int, Decimal]] = {}
    for line_id, round_, quantity in found:
        waiting.setdefault(line_id, {})[round_] = quantity
    return waiting


async def _contacts_of(
    session: AsyncSession, customer_ids: list[int]
) -> dict[int, tuple[ContactRow, ...]]:
    found = await session.execute(
        select(Contact.customer_id, Contact.name, Contact.phone)
        .where(Contact.customer_id.in_(set(customer_ids)))
        .order_by(Contact.id)
    )
    contacts: dict[int, tuple[ContactRow, ...]] = {}
    for customer_id, name, phone in found:
        contacts[customer_id] = (*contacts.get(customer_id, ()), ContactRow(name, phone or ""))
    return contacts


def _queue_line(
    line: OrderLine, waiting: dict[int, dict[int, Decimal]], round_: int | None
) -> QueueLine:
    rounds = waiting.get(line.id, {})
    return QueueLine(
        product_code=line.product.code,
        product_name=line.product.name,
        unit=line.product.unit,
        quantity=line.quantity,
        reserved=sum(rounds.values(), Decimal("0")),
        on_hand=line.product.stock_on_hand,
        line_id=line.id,
        to_dispatch=rounds.get(round_, Decimal("0")) if round_ is not None else Decimal("0"),
    )


@dataclass(frozen=True)
class PackingList:
    """What a dispatch round packs: the order, where it goes, whom the carrier calls, and per
    line what leaves (what remains while the round waits, what left once it did)."""

    order: Order
    dispatch_round: int
    dispatched: Dispatch | None
    lines: list[QueueLine]
    contacts: tuple[ContactRow, ...]


async def packing_list(
    *, session: AsyncSession, order: Order, round_: int | None = None
) -> PackingList | None:
    """The round's packing list: by default the open dispatch to-do's round, else the last
    round dispatched; None when there is no such round."""
    if round_ is None:
        todos = await _open_dispatch_todos(session, [order.id])
        round_ = todos[order.id][1] if order.id in todos else None
    if round_ is None:
        round_ = await session.scalar(
            select(func.max(Dispatch.round)).where(Dispatch.order_id == order.id)
        )
    if round_ is None:
        return None
    dispatched = await session.scalar(
        select(Dispatch).where(Dispatch.order_id == order.id, Dispatch.round == round_)
    )
    found = await session.execute(
        select(StockReservation.order_line_id, StockReservation.quantity)
        .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
        .where(
            OrderLine.order_id == order.id,
            StockReservation.round == round_,
            StockReservation.taken_at.is_not(None)
            if dispatched
            else StockReservation.taken_at.is_(None),
        )
    )
    packed = {line_id: {round_: quantity} for line_id, quantity in found}
    if not packed:
        return None
    lines = await session.scalars(
        select(OrderLine)
        .where(OrderLine.order_id == order.id, OrderLine.id.in_(packed))
        .options(selectinload(OrderLine.product))
        .order_by(OrderLine.position)
    )
    contacts = await _contacts_of(session, [order.customer_id])
    return PackingList(
        order=order,
        dispatch_round=round_,
        dispatched=dispatched,
        lines=[_queue_line(line, packed, round_) for line in lines],
        contacts=contacts.get(order.customer_id, ()),
    )


async def remaining_in_round(
    *, session: AsyncSession, order: Order, round_: int
) -> dict[int, Decimal]:
    """What remains to dispatch of each of the order's lines in a round (zero for a line with
    nothing in it)."""
    lines = list(await session.scalars(select(OrderLine.id).where(OrderLine.order_id == order.id)))
    waiting = await _waiting_per_line(session, [order.id])
    return {line_id: waiting.get(line_id, {}).get(round_, Decimal("0")) for line_id in lines}


def _now() -> datetime:
    return datetime.now(UTC)
