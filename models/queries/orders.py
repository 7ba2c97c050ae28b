"""Orders in the user's scope: the list, one order, its approval rounds and timeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Select,
    SQLColumnExpression,
    bindparam,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models.domain import Stage
from models.queries.scope import order_scope
from models.queries.sorting import SortOrder, sql_order
from models.tables import (
    ApprovalRound,
    ApprovalStep,
    Customer,
    Department,
    Order,
    OrderLine,
    TimelineEvent,
    Todo,
    User,
)

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
    sort: SortOrder = field(default_factory=SortOrder)  # the usual: the newest first


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def orders_in_view(
    *, session: AsyncSession, user: User, filters: OrderFilter
) -> Select[Order]:
    """The order list's query: the user's scope and the filters, in the list's order, every
    page (the list pages it; an export streams it)."""
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
    return query.order_by(*_order_of_list(filters.sort))


async def list_orders(*, session: AsyncSession, user: User, filters: OrderFilter) -> OrderPage:
    query = await orders_in_view(session=session, user=user, filters=filters)
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    # The page's ids first, then those orders: sorting a manager's tens of thousands of orders
    # for 25 reads their ids from an index, not every order's whole row.
    page = (
        query.with_only_columns(Order.id)
        .limit(filters.per_page)
        .offset((filters.page - 1) * filters.per_page)
    )
    rows = await session.scalars(
        select(Order).where(Order.id.in_(page)).order_by(*_order_of_list(filters.sort))
    )
    return OrderPage(list(rows.unique()), total or 0, filters.page, filters.per_page)


async def stream_orders(
    *, session: AsyncSession, user: User, filters: OrderFilter, batch: int = 1000
) -> AsyncIterator[Order]:
    """Every order of the list (all its pages), fetched `batch` at a time: an export of
    100,000 orders holds one batch of them in memory, not all."""
    query = await orders_in_view(session=session, user=user, filters=filters)
    result = await session.stream_scalars(query.execution_options(yield_per=batch))
    async for order in result:
        yield order


def _name_of(column: Any, key: Any) -> SQLColumnExpression[Any]:
    """A related row's name, for sorting the orders by it (no join that could repeat them)."""
    return func.lower(select(column).where(key).scalar_subquery())


# The order list's columns a person may sort by.
ORDER_SORTS: dict[str, SQLColumnExpression[Any]] = {
    "number": Order.number,
    "customer": _name_of(Customer.name, Customer.id == Order.customer_id),
    "owner": _name_of(User.full_name, User.id == Order.owner_id),
    "department": _name_of(Department.name, Department.id == Order.department_id),
    # stages in the order an order goes through them
    "stage": case({stage.value: n for n, stage in enumerate(Stage)}, value=Order.stage),
    "total": Order.total,
    "created": Order.created_at,
}


def _order_of_list(sort: SortOrder) -> list[SQLColumnExpression[Any]]:
    if not sort.column:
        return [Order.id.desc()]
    return sql_order(sort, ORDER_SORTS, Order.id.desc())


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


def of_order(order: Order) -> dict[str, int]:
    """The parameters of the statements above."""
    return {"order_id": order.id}


async def approval_rounds(*, session: AsyncSession, order: Order) -> list[ApprovalRound]:
    return list(await session.scalars(ROUNDS, of_order(order)))


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
