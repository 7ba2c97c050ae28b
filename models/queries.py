"""Read queries, always for an acting user so that data scope cannot be forgotten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
    func,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.domain import (
    COST_VIEWERS,
    Actor,
    Assignee,
    DecisionFacts,
    MilestoneCode,
    Role,
    Stage,
    TodoKind,
    TodoStatus,
)
from models.tables import (
    ApprovalRound,
    ApprovalStep,
    CostBatch,
    Customer,
    Department,
    Dispatch,
    Installment,
    Invoice,
    Milestone,
    Order,
    OrderLine,
    Payment,
    ShipmentException,
    StockReservation,
    TimelineEvent,
    Todo,
    TodoAssignee,
    User,
)

# Roles that see every order once it has been submitted.
SUBMITTED_ORDER_ROLES = frozenset({Role.pricing, Role.finance, Role.ops, Role.ops_manager})
# Roles that see an order once it is confirmed (it reached their stage).
CONFIRMED_ORDER_ROLES = frozenset({Role.warehouse, Role.service})
AFTER_CONFIRMATION = [
    s.value
    for s in (
        Stage.confirmed,
        Stage.fulfilment,
        Stage.acceptance,
        Stage.collection,
        Stage.cost_review,
        Stage.closed,
    )
]


async def managed_department_ids(*, session: AsyncSession, user: User) -> list[int]:
    return list(
        await session.scalars(select(Department.id).where(Department.manager_id == user.id))
    )


async def actor_for(*, session: AsyncSession, user: User) -> Actor:
    """The user as an actor; kept for the session (one request), which asks for it repeatedly."""
    actors: dict[int, Actor] = session.info.setdefault("actors", {})
    if user.id not in actors:
        actors[user.id] = Actor(
            user_id=user.id,
            role=Role(user.role),
            managed_department_ids=await managed_department_ids(session=session, user=user),
        )
    return actors[user.id]


async def department_subtree(*, session: AsyncSession, roots: list[int]) -> list[int]:
    """The given departments and every department below them."""
    found = set(roots)
    frontier = set(roots)
    while frontier:
        children = set(
            await session.scalars(select(Department.id).where(Department.parent_id.in_(frontier)))
        )
        frontier = children - found
        found |= children
    return sorted(found)


async def order_scope(*, session: AsyncSession, user: User) -> ColumnElement[bool]:
    """The orders this user may see, as a WHERE clause (DESIGN: the people and their scope)."""
    role = Role(user.role)
    if role in (Role.director, Role.admin):
        return true()
    if role == Role.sales:
        return Order.owner_id == user.id
    if role == Role.follower:
        return Order.department_id == user.department_id
    if role == Role.sales_manager:
        managed = await managed_department_ids(session=session, user=user)
        tree = await department_subtree(session=session, roots=[*managed, user.department_id])
        return Order.department_id.in_(tree)
    if role in SUBMITTED_ORDER_ROLES:
        return Order.stage != Stage.draft.value
    if role in CONFIRMED_ORDER_ROLES:
        return Order.stage.in_(AFTER_CONFIRMATION)
    return Order.id.is_(None)


def sees_costs(user: User) -> bool:
    return Role(user.role) in COST_VIEWERS


def may_edit(user: User, order: Order) -> bool:
    """Entering and revising orders is their owner's (followers edit only their own)."""
    return order.owner_id == user.id


LIKE_ESCAPE = "\\"


def containing(text: str) -> str:
    """A LIKE pattern for values that contain `text` as typed: its own %, _ and \\ match only
    themselves (use with `.like(..., escape=LIKE_ESCAPE)` or `.ilike`)."""
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


@dataclass(frozen=True)
class OrderFilter:
    stage: str | None = None
    customer_id: int | None = None
    owner_id: int | None = None
    q: str | None = None
    overdue: bool | None = None
    delayed: bool | None = None
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def list_orders(*, session: AsyncSession, user: User, filters: OrderFilter) -> OrderPage:
    scope = await order_scope(session=session, user=user)
    query: Select[Order] = select(Order).where(scope)
    if filters.stage:
        query = query.where(Order.stage == filters.stage)
    if filters.customer_id:
        query = query.where(Order.customer_id == filters.customer_id)
    if filters.owner_id:
        query = query.where(Order.owner_id == filters.owner_id)
    if filters.overdue is not None:
        query = query.where(Order.overdue.is_(filters.overdue))
    if filters.delayed is not None:
        query = query.where(Order.delayed.is_(filters.delayed))
    if filters.q:
        like = containing(filters.q.strip())
        query = query.where(
            or_(
                Order.number.ilike(like, escape=LIKE_ESCAPE),
                Order.customer_id.in_(
                    select(Customer.id).where(Customer.name.ilike(like, escape=LIKE_ESCAPE))
                ),
            )
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(Order.id.desc())
        .limit(filters.per_page)
        .offset((filters.page - 1) * filters.per_page)
    )
    return OrderPage(list(rows.unique()), total or 0, filters.page, filters.per_page)


async def get_order(*, session: AsyncSession, user: User, number: str) -> Order | None:
    """The order with its lines, or None when it does not exist or is outside the user's scope
    (the caller answers 404 either way, so order numbers don't leak)."""
    scope = await order_scope(session=session, user=user)
    return await session.scalar(_whole_order().where(Order.number == number, scope))


async def order_of_todo(*, session: AsyncSession, todo: Todo) -> Order:
    """A to-do's order with its lines, for a to-do the caller already checked the user sees."""
    order = await session.scalar(_whole_order().where(Order.id == todo.order_id))
    assert order is not None  # a to-do's order_id is a foreign key to its order
    return order


def _whole_order() -> Select[Order]:
    return select(Order).options(
        selectinload(Order.lines).selectinload(OrderLine.product),
        selectinload(Order.payment_plan),
    )


# An order's rows for its page, the API and the steps, each statement built once, so that a
# request only binds :order_id (of_order) instead of building the statement again.
ORDER_ID: BindParameter[int] = bindparam("order_id")
ROUNDS = (
    select(ApprovalRound)
    .where(ApprovalRound.order_id == ORDER_ID)
    .options(selectinload(ApprovalRound.steps).selectinload(ApprovalStep.decided_by))
    .order_by(ApprovalRound.number)
)
TIMELINE = (
    select(TimelineEvent)
    .where(TimelineEvent.order_id == ORDER_ID)
    .order_by(TimelineEvent.at, TimelineEvent.id)
)
OPEN_TODOS = (
    select(Todo)
    .where(Todo.order_id == ORDER_ID, Todo.status == TodoStatus.open.value)
    .options(selectinload(Todo.assignees))
    .order_by(Todo.created_at)
)
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
INSTALLMENTS = (
    select(Installment).where(Installment.order_id == ORDER_ID).order_by(Installment.position)
)
PAYMENTS = select(Payment).where(Payment.order_id == ORDER_ID).order_by(Payment.number)
INVOICES = select(Invoice).where(Invoice.order_id == ORDER_ID).order_by(Invoice.request_number)
COST_BATCHES = select(CostBatch).where(CostBatch.order_id == ORDER_ID).order_by(CostBatch.number)


def of_order(order: Order) -> dict[str, int]:
    """The parameters of the statements above."""
    return {"order_id": order.id}


async def approval_rounds(*, session: AsyncSession, order: Order) -> list[ApprovalRound]:
    return list(await session.scalars(ROUNDS, of_order(order)))


async def installments(*, session: AsyncSession, order: Order) -> list[Installment]:
    return list(await session.scalars(INSTALLMENTS, of_order(order)))


async def pending_step_deadlines(
    *, session: AsyncSession, rounds: list[ApprovalRound]
) -> dict[int, datetime | None]:
    """The due times of the undecided steps of running rounds, by to-do id (shown red when
    past); one query, and none when nothing is pending."""
    todo_ids = [
        step.todo_id
        for approval_round in rounds
        if approval_round.status == "running"
        for step in approval_round.steps
        if step.decision is None
    ]
    if not todo_ids:
        return {}
    rows = await session.execute(select(Todo.id, Todo.due_at).where(Todo.id.in_(todo_ids)))
    return {todo_id: due_at for todo_id, due_at in rows}


async def unroutable_orders(*, session: AsyncSession, user: User) -> list[Order]:
    """Orders whose approval no one can decide, longest waiting first (the admin's list)."""
    scope = await order_scope(session=session, user=user)
    rows = await session.scalars(
        select(Order)
        .where(Order.unroutable_reason.is_not(None), scope)
        .order_by(Order.unroutable_at, Order.id)
    )
    return list(rows.unique())


async def timeline(*, session: AsyncSession, order: Order) -> list[TimelineEvent]:
    return list((await session.scalars(TIMELINE, of_order(order))).unique())


async def open_todos(*, session: AsyncSession, order: Order) -> list[Todo]:
    return list(await session.scalars(OPEN_TODOS, of_order(order)))


def _inbox_statement() -> Select[*tuple[Any, ...]]:
    """The inbox, built once: the to-dos reaching a person, oldest first, with their order. The
    ids come from one index range scan per way a to-do can reach them (by name, by role, as the
    manager of a department in :departments, an expanding list that may be empty)."""
    status: BindParameter[str] = bindparam("status")
    ids = union(
        select(TodoAssignee.todo_id).where(
            TodoAssignee.user_id == bindparam("user_id"), TodoAssignee.status == status
        ),
        select(TodoAssignee.todo_id).where(
            TodoAssignee.role == bindparam("role"), TodoAssignee.status == status
        ),
        select(TodoAssignee.todo_id).where(
            TodoAssignee.department_id.in_(bindparam("departments", expanding=True)),
            TodoAssignee.status == status,
        ),
    ).subquery()
    requester = User.__table__.alias("requester")
    return (
        select(
            Todo.id,
            Todo.kind,
            Todo.status,
            Todo.created_at,
            Todo.due_at,
            Order.number,
            Customer.name,
            Order.total,
            requester.c.full_name,
            Todo.facts,
        )
        .join(ids, ids.c.todo_id == Todo.id)
        .join(Order, Order.id == Todo.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .outerjoin(requester, requester.c.id == Todo.requested_by_id)
        .order_by(Todo.created_at, Todo.id)
        .limit(bindparam("limit"))
    )


# Building the statement took about a third of an inbox request's CPU; now it only binds values.
INBOX = _inbox_statement()


@dataclass(frozen=True)
class InboxItem:
    """A row of the inbox: the to-do and what the inbox shows of its order."""

    id: int
    kind: str
    status: str
    created_at: datetime
    due_at: datetime | None
    order_number: str
    customer: str
    order_total: Decimal
    requested_by: str | None
    # What decides an approval (None for other kinds), margin left out unless the user sees costs.
    facts: DecisionFacts | None = None
    # A cost to-do's figures (the batch, or expected against actual per category), only for
    # those who see costs.
    cost_facts: dict[str, Any] | None = None

    @property
    def overdue(self) -> bool:
        return is_late(self.status, self.due_at)

    @property
    def over_credit_limit(self) -> bool:
        return over_credit_limit(self.facts)

    @classmethod
    def of(
        cls,
        todo: Todo,
        order: Order,
        requested_by: str | None = None,
        *,
        sees_costs: bool = False,
    ) -> InboxItem:
        return cls(
            id=todo.id,
            kind=todo.kind,
            status=todo.status,
            created_at=todo.created_at,
            due_at=todo.due_at,
            order_number=order.number,
            customer=order.customer.name,
            order_total=order.total,
            requested_by=requested_by,
            facts=decision_facts(todo.facts, sees_costs=sees_costs)
            if todo.kind == TodoKind.approve.value
            else None,
            cost_facts=cost_facts(todo.kind, todo.facts, sees_costs=sees_costs),
        )


# The figures of an approval's facts that are cost figures (DESIGN: field-level permission).
MARGIN_FACTS = frozenset({"expected_margin", "expected_margin_percent"})


def decision_facts(stored: dict[str, Any] | None, *, sees_costs: bool) -> DecisionFacts | None:
    """A to-do's stored facts, without the margin for someone who may not see costs; None
    when there are none or they cannot be read (the inbox must show whatever else it can)."""
    if not stored:
        return None
    visible = stored if sees_costs else {k: v for k, v in stored.items() if k not in MARGIN_FACTS}
    try:
        return DecisionFacts.model_validate(visible)
    except ValueError:
        return None


COST_TODO_KINDS = frozenset(
    {
        TodoKind.record_actual_costs.value,
        TodoKind.approve_actual_costs.value,
        TodoKind.review_variance.value,
        TodoKind.approve_variance.value,
    }
)


def cost_facts(
    kind: str, stored: dict[str, Any] | None, *, sees_costs: bool
) -> dict[str, Any] | None:
    """A cost to-do's stored figures, for those who see costs; None otherwise."""
    if not stored or not sees_costs or kind not in COST_TODO_KINDS:
        return None
    return stored


def over_credit_limit(facts: DecisionFacts | None) -> bool:
    return (
        facts is not None
        and facts.exposure is not None
        and facts.credit_limit is not None
        and facts.exposure > facts.credit_limit
    )


def is_late(status: str, due_at: datetime | None) -> bool:
    """An open to-do past its due time (shown red)."""
    return status == TodoStatus.open.value and due_at is not None and _aware(due_at) < _now()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def list_todos(
    *, session: AsyncSession, user: User, status: TodoStatus = TodoStatus.open, limit: int = 200
) -> list[InboxItem]:
    """The user's to-dos, oldest first, with their order (the inbox). Plain columns, not ORM
    objects: this is the home page and the API's most polled call."""
    actor = await actor_for(session=session, user=user)
    rows = await session.execute(
        INBOX,
        {
            "user_id": actor.user_id,
            "role": actor.role.value,
            "departments": actor.managed_department_ids,
            "status": status.value,
            "limit": limit,
        },
    )
    costs = sees_costs(user)
    return [
        InboxItem(
            id=row.id,
            kind=row.kind,
            status=row.status,
            created_at=row.created_at,
            due_at=row.due_at,
            order_number=row.number,
            customer=row.name,
            order_total=row.total,
            requested_by=row.full_name,
            facts=decision_facts(row.facts, sees_costs=costs)
            if row.kind == TodoKind.approve.value
            else None,
            cost_facts=cost_facts(row.kind, row.facts, sees_costs=costs),
        )
        for row in rows
    ]


async def open_todo_deadlines(
    *, session: AsyncSession, order_ids: list[int]
) -> dict[int, list[datetime | None]]:
    """The due times of each order's open to-dos (for the health colour of a list page)."""
    rows = await session.execute(
        select(Todo.order_id, Todo.due_at).where(
            Todo.order_id.in_(order_ids), Todo.status == TodoStatus.open.value
        )
    )
    deadlines: dict[int, list[datetime | None]] = {}
    for order_id, due_at in rows:
        deadlines.setdefault(order_id, []).append(due_at)
    return deadlines


def health(order: Order, deadlines: list[datetime | None]) -> str:
    """green on track, yellow waiting on someone, red delayed, overdue or past a to-do's SLA."""
    if order.delayed or order.overdue:
        return "red"
    if any(is_late(TodoStatus.open.value, due) for due in deadlines):
        return "red"
    return "yellow" if deadlines else "green"


async def get_todo(*, session: AsyncSession, todo_id: int) -> Todo | None:
    return await session.scalar(
        select(Todo).where(Todo.id == todo_id).options(selectinload(Todo.assignees))
    )


def is_assignee(todo: Todo, actor: Actor) -> bool:
    return any(
        Assignee(
            user_id=a.user_id, role=Role(a.role) if a.role else None, department_id=a.department_id
        ).includes(actor)
        for a in todo.assignees
    )


# -- fulfilment ----------------------------------------------------------------------------------


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
    rows = list({order.id: (order, on) for order, on in found}.values())
    order_ids = [order.id for order, _ in rows]
    if not order_ids:
        return []
    todo_ids = dict(
        (
            await session.execute(
                select(Todo.order_id, func.min(Todo.id))
                .where(
                    Todo.order_id.in_(order_ids),
                    Todo.kind == TodoKind.confirm_dispatch.value,
                    Todo.status == TodoStatus.open.value,
                )
                .group_by(Todo.order_id)
            )
        ).all()
    )
    reserved = dict(
        (
            await session.execute(
                select(StockReservation.order_line_id, func.sum(StockReservation.quantity))
                .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
                .where(OrderLine.order_id.in_(order_ids), StockReservation.taken_at.is_(None))
                .group_by(StockReservation.order_line_id)
            )
        ).all()
    )
    return [
        QueueItem(
            number=order.number,
            customer=order.customer.name,
            shipping_mode=order.shipping_mode,
            shipment_status=order.shipment_status or "",
            planned_dispatch_on=planned_on,
            dispatch_todo_id=None if order.shipment_status == HELD else todo_ids.get(order.id),
            lines=[
                QueueLine(
                    product_code=line.product.code,
                    product_name=line.product.name,
                    unit=line.product.unit,
                    quantity=line.quantity,
                    reserved=Decimal(reserved.get(line.id) or 0),
                    on_hand=line.product.stock_on_hand,
                )
                for line in order.lines
            ],
        )
        for order, planned_on in rows
    ]
