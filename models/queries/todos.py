"""To-dos: the inbox, one to-do and who it reaches, an order's open to-dos and deadlines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    SQLColumnExpression,
    bindparam,
    func,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.dates import as_utc
from models.domain import (
    APPROVAL_KINDS,
    Actor,
    Assignee,
    DecisionFacts,
    Role,
    TodoKind,
    TodoStatus,
)
from models.queries.costs import change_request_of, cost_facts
from models.queries.orders import LIKE_ESCAPE, ORDER_ID, containing, of_order
from models.queries.scope import actor_for, sees_costs
from models.queries.sorting import SortOrder, sql_order
from models.queries.todo_about import TodoAbout, todo_about
from models.tables import (
    Customer,
    Order,
    Todo,
    TodoAssignee,
    User,
)

# Built once, like the order's other rows (models.queries.orders).
OPEN_TODOS = (
    select(Todo)
    .where(Todo.order_id == ORDER_ID, Todo.status == TodoStatus.open.value)
    .options(selectinload(Todo.assignees))
    .order_by(Todo.created_at)
)


async def open_todos(*, session: AsyncSession, order: Order) -> list[Todo]:
    return list(await session.scalars(OPEN_TODOS, of_order(order)))


REQUESTER = User.__table__.alias("requester")


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
            REQUESTER.c.full_name,
            Todo.facts,
            Todo.workflow_id,
        )
        .join(ids, ids.c.todo_id == Todo.id)
        .join(Order, Order.id == Todo.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .outerjoin(REQUESTER, REQUESTER.c.id == Todo.requested_by_id)
        .order_by(Todo.created_at, Todo.id)
        .limit(bindparam("limit"))
    )


# Building the statement took about a third of an inbox request's CPU; now it only binds values.
INBOX = _inbox_statement()

# The inbox's columns a person may sort by, and how they are compared.
INBOX_SORTS: dict[str, SQLColumnExpression[Any]] = {
    "kind": Todo.kind,
    "order": Order.number,
    "customer": func.lower(Customer.name),
    "total": Order.total,
    "asked_by": func.lower(REQUESTER.c.full_name),
    "since": Todo.created_at,
    "due": Todo.due_at,
}
# When an open to-do is due: late, within a day, within a week (not late), or never.
DUE_WINDOWS = ("late", "day", "week", "none")


@dataclass(frozen=True)
class InboxFilter:
    """What the reader narrowed the inbox to, and its order; empty: everything, oldest first."""

    kind: str | None = None
    order: str | None = None  # part of the order number
    customer: str | None = None  # part of the customer's name
    due: str | None = None  # one of DUE_WINDOWS
    sort: SortOrder = field(default_factory=SortOrder)

    @classmethod
    def asked(
        cls,
        *,
        kind: str = "",
        order: str = "",
        customer: str = "",
        due: str = "",
        sort: str = "",
        direction: str = "",
    ) -> InboxFilter:
        """The filter from a query string: a kind or due window the inbox does not know, like
        a column it does not sort by, is left out (a stale link shows the whole inbox)."""
        return cls(
            kind=kind if kind in TodoKind.__members__ else None,
            order=order.strip()[:40] or None,
            customer=customer.strip()[:100] or None,
            due=due if due in DUE_WINDOWS else None,
            sort=SortOrder.of(sort, direction, INBOX_SORTS),
        )

    @property
    def narrows(self) -> bool:
        return bool(self.kind or self.order or self.customer or self.due or self.sort.column)


def _due_within(window: str, now: datetime) -> ColumnElement[bool] | None:
    if window == "late":
        return Todo.due_at < now
    if window == "none":
        return Todo.due_at.is_(None)
    if window in ("day", "week"):
        ahead = now + timedelta(days=1 if window == "day" else 7)
        return Todo.due_at.between(now, ahead)
    return None


def _filtered_inbox(filters: InboxFilter) -> Select[*tuple[Any, ...]]:
    """The inbox statement narrowed and sorted as asked (built for the request: the usual
    inbox keeps its statement built once)."""
    query = INBOX
    if filters.kind:
        query = query.where(Todo.kind == filters.kind)
    if filters.order:
        query = query.where(
            Order.number.ilike(containing(filters.order.strip()), escape=LIKE_ESCAPE)
        )
    if filters.customer:
        query = query.where(
            Customer.name.ilike(containing(filters.customer.strip()), escape=LIKE_ESCAPE)
        )
    if filters.due and (due := _due_within(filters.due, _now())) is not None:
        query = query.where(due)
    if filters.sort.column:
        query = query.order_by(None).order_by(
            *sql_order(filters.sort, INBOX_SORTS, Todo.created_at, Todo.id)
        )
    return query


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
    # estimate_cost: the change request it prices (None: the order's own estimate).
    change_request: int | None = None
    # What tells it apart from the order's other to-dos (which payment, milestone, batch).
    about: TodoAbout | None = None

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
            if todo.kind in APPROVAL_KINDS
            else None,
            cost_facts=cost_facts(todo.kind, todo.facts, sees_costs=sees_costs),
            change_request=change_request_of(todo.kind, todo.facts),
            about=todo_about(todo.kind, todo.facts, todo.workflow_id, sees_costs=sees_costs),
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
    return status == TodoStatus.open.value and due_at is not None and as_utc(due_at) < _now()


def _now() -> datetime:
    return datetime.now(UTC)


async def _inbox_params(
    session: AsyncSession, user: User, status: TodoStatus, limit: int | None
) -> dict[str, Any]:
    actor = await actor_for(session=session, user=user)
    return {
        "user_id": actor.user_id,
        "role": actor.role.value,
        "departments": actor.managed_department_ids,
        "status": status.value,
        "limit": limit,
    }


def _inbox_item(row: Row[Any], costs: bool) -> InboxItem:
    return InboxItem(
        id=row.id,
        kind=row.kind,
        status=row.status,
        created_at=row.created_at,
        due_at=row.due_at,
        order_number=row.number,
        customer=row.name,
        order_total=row.total,
        requested_by=row.full_name,
        facts=decision_facts(row.facts, sees_costs=costs) if row.kind in APPROVAL_KINDS else None,
        cost_facts=cost_facts(row.kind, row.facts, sees_costs=costs),
        change_request=change_request_of(row.kind, row.facts),
        about=todo_about(row.kind, row.facts, row.workflow_id, sees_costs=costs),
    )


async def list_todos(
    *,
    session: AsyncSession,
    user: User,
    status: TodoStatus = TodoStatus.open,
    limit: int = 200,
    filters: InboxFilter | None = None,
) -> list[InboxItem]:
    """The user's to-dos, oldest first unless `filters` sort them otherwise, with their order
    (the inbox), in one query. Plain columns, not ORM objects: this is the home page and the
    API's most polled call."""
    rows = await session.execute(
        _filtered_inbox(filters) if filters and filters.narrows else INBOX,
        await _inbox_params(session, user, status, limit),
    )
    costs = sees_costs(user)
    return [_inbox_item(row, costs) for row in rows]


async def stream_todos(
    *,
    session: AsyncSession,
    user: User,
    status: TodoStatus = TodoStatus.open,
    filters: InboxFilter | None = None,
    batch: int = 1000,
) -> AsyncIterator[InboxItem]:
    """Every to-do of the inbox as filtered and sorted (no limit), fetched `batch` at a time:
    what an export of the inbox writes out."""
    query = _filtered_inbox(filters or InboxFilter()).limit(None)
    params = await _inbox_params(session, user, status, None)
    del params["limit"]
    result = await session.stream(query.execution_options(yield_per=batch), params)
    costs = sees_costs(user)
    async for row in result:
        yield _inbox_item(row, costs)


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
