"""Operations' worklists: the shipment milestones still to be confirmed across the orders a
person sees, by when they are due, and the plan_shipment to-dos that reach a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import Stage, TodoKind, TodoStatus
from models.queries.fulfilment import milestone_status
from models.queries.scope import actor_for, order_scope
from models.queries.todos import INBOX
from models.tables import Customer, Milestone, Order, Todo, User

# When a milestone not yet confirmed is due, by its planned date in the company's calendar:
# late (its day is over, or its timer fired), today, later this week (to Sunday), later on.
DUE_WINDOWS = ("late", "today", "this_week", "later")
# Orders whose shipment no longer waits for anyone.
ENDED = (Stage.cancelled.value, Stage.closed.value)
# The plan_shipment to-dos of one page (far more than ops plan in a sitting).
PLANNING_LIMIT = 500


def due_window(milestone: Milestone, today: date) -> str:
    """Which of DUE_WINDOWS a milestone not yet confirmed falls in on `today`."""
    if milestone_status(milestone, today) == "late":
        return "late"
    if milestone.planned_on == today:
        return "today"
    if milestone.planned_on <= today + timedelta(days=6 - today.weekday()):
        return "this_week"
    return "later"


@dataclass(frozen=True)
class DueMilestone:
    """A planned milestone not yet confirmed, with its order and how it is confirmed."""

    order_number: str
    customer: str
    shipping_mode: str
    code: str
    planned_on: date
    due: str  # one of DUE_WINDOWS
    # The order's open confirm_arrival to-do, which the arrival is confirmed with.
    arrival_todo_id: int | None


async def milestones_due(
    *, session: AsyncSession, user: User, today: date, due: str | None = None
) -> list[DueMilestone]:
    """Every planned milestone not yet confirmed of the running shipments in the user's scope,
    the earliest planned first; only those in the `due` window when one is given."""
    scope = await order_scope(session=session, user=user)
    found = list(
        await session.execute(
            select(Milestone, Order.id, Order.number, Customer.name, Order.shipping_mode)
            .join(Order, Order.id == Milestone.order_id)
            .join(Customer, Customer.id == Order.customer_id)
            .where(
                Milestone.actual_on.is_(None),
                Order.shipment_status.is_not(None),
                Order.stage.not_in(ENDED),
                scope,
            )
            .order_by(Milestone.planned_on, Order.number, Milestone.position)
            # as the database has them now, also rows this session read before an action
            .execution_options(populate_existing=True)
        )
    )
    arrivals = await _open_todos(session, [row[1] for row in found], TodoKind.confirm_arrival)
    rows = [
        DueMilestone(
            order_number=number,
            customer=customer,
            shipping_mode=mode,
            code=milestone.code,
            planned_on=milestone.planned_on,
            due=due_window(milestone, today),
            arrival_todo_id=arrivals.get(order_id) if milestone.code == "arrival" else None,
        )
        for milestone, order_id, number, customer, mode in found
    ]
    return [row for row in rows if due is None or row.due == due]


async def _open_todos(
    session: AsyncSession, order_ids: list[int], kind: TodoKind
) -> dict[int, int]:
    """Each order's open to-do of a kind (the first, should there be more)."""
    if not order_ids:
        return {}
    found = await session.execute(
        select(Todo.order_id, func.min(Todo.id))
        .where(
            Todo.order_id.in_(set(order_ids)),
            Todo.kind == kind.value,
            Todo.status == TodoStatus.open.value,
        )
        .group_by(Todo.order_id)
    )
    return {order_id: todo_id for order_id, todo_id in found}


@dataclass(frozen=True)
class PlanningTodo:
    """An open plan_shipment to-do, its order, and the order's milestones as planned so far."""

    todo: Todo
    order: Order
    planned: dict[str, date]


async def plan_shipment_todos(*, session: AsyncSession, user: User) -> list[PlanningTodo]:
    """The open plan_shipment to-dos that reach the user (as the inbox finds them), oldest
    first, each with its order and the order's milestones as planned so far."""
    actor = await actor_for(session=session, user=user)
    found_ids = await session.execute(
        INBOX.where(Todo.kind == TodoKind.plan_shipment.value),
        {
            "user_id": actor.user_id,
            "role": actor.role.value,
            "departments": actor.managed_department_ids,
            "status": TodoStatus.open.value,
            "limit": PLANNING_LIMIT,
        },
    )
    ids = [row.id for row in found_ids]
    if not ids:
        return []
    found = [
        (todo, order)
        for todo, order in await session.execute(
            select(Todo, Order)
            .join(Order, Order.id == Todo.order_id)
            .where(Todo.id.in_(ids))
            .order_by(Todo.created_at, Todo.id)
            .execution_options(populate_existing=True)
        )
    ]
    planned: dict[int, dict[str, date]] = {}
    for milestone in await session.scalars(
        select(Milestone)
        .where(Milestone.order_id.in_({order.id for _, order in found}))
        .execution_options(populate_existing=True)
    ):
        planned.setdefault(milestone.order_id, {})[milestone.code] = milestone.planned_on
    return [PlanningTodo(todo, order, planned.get(order.id, {})) for todo, order in found]
