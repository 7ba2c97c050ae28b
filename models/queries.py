"""Read queries, always for an acting user so that data scope cannot be forgotten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.domain import (
    COST_VIEWERS,
    Actor,
    Assignee,
    DecisionFacts,
    Role,
    Stage,
    TodoStatus,
)
from models.tables import (
    ApprovalRound,
    ApprovalStep,
    Customer,
    Department,
    Order,
    OrderLine,
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
    query: Select = select(Order).where(scope)
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
        like = f"%{filters.q.strip()}%"
        query = query.where(
            or_(
                Order.number.ilike(like),
                Order.customer_id.in_(select(Customer.id).where(Customer.name.ilike(like))),
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
    return await session.scalar(_whole_order().where(Order.id == todo.order_id))


def _whole_order() -> Select:
    return select(Order).options(
        selectinload(Order.lines).selectinload(OrderLine.product),
        selectinload(Order.payment_plan),
    )


async def approval_rounds(*, session: AsyncSession, order: Order) -> list[ApprovalRound]:
    rounds = await session.scalars(
        select(ApprovalRound)
        .where(ApprovalRound.order_id == order.id)
        .options(selectinload(ApprovalRound.steps).selectinload(ApprovalStep.decided_by))
        .order_by(ApprovalRound.number)
    )
    return list(rounds)


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
    events = await session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.order_id == order.id)
        .order_by(TimelineEvent.at, TimelineEvent.id)
    )
    return list(events.unique())


async def open_todos(*, session: AsyncSession, order: Order) -> list[Todo]:
    todos = await session.scalars(
        select(Todo)
        .where(Todo.order_id == order.id, Todo.status == TodoStatus.open.value)
        .options(selectinload(Todo.assignees))
        .order_by(Todo.created_at)
    )
    return list(todos)


def _inbox_todo_ids(actor: Actor, status: TodoStatus) -> Select:
    """Ids of the to-dos reaching this person: one index range scan per way a to-do can reach
    them (by name, by role, as a department's manager)."""
    parts = [
        select(TodoAssignee.todo_id).where(
            TodoAssignee.user_id == actor.user_id, TodoAssignee.status == status.value
        ),
        select(TodoAssignee.todo_id).where(
            TodoAssignee.role == actor.role.value, TodoAssignee.status == status.value
        ),
    ]
    if actor.managed_department_ids:
        parts.append(
            select(TodoAssignee.todo_id).where(
                TodoAssignee.department_id.in_(actor.managed_department_ids),
                TodoAssignee.status == status.value,
            )
        )
    return union(*parts)


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
            facts=decision_facts(todo.facts, sees_costs=sees_costs),
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
    ids = _inbox_todo_ids(actor, status).subquery()
    requester = User.__table__.alias("requester")
    rows = await session.execute(
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
        .limit(limit)
    )
    costs = sees_costs(user)
    return [InboxItem(*row[:-1], facts=decision_facts(row[-1], sees_costs=costs)) for row in rows]


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
