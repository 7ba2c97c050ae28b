"""Operations' worklists: the milestones due across the orders they see, each confirmed in
place through the command its own form uses (a milestone's confirmation, the arrival's to-do),
and many plan_shipment to-dos planned from one list, each through its to-do's completion."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from i18n import N_
from models.company import company_time_zone, company_today
from models.domain import MilestoneCode, TodoKind
from models.queries.worklists import (
    DUE_WINDOWS,
    DueMilestone,
    PlanningTodo,
    milestones_due,
    plan_shipment_todos,
)
from models.tables import Order, Todo, User
from settings import Settings
from web.commands.actions import Refused
from web.commands.completion import TodoCompletion
from web.commands.fulfilment import may_steer_shipment
from web.commands.todos import complete_todo, visible_todo

NOT_FOR_YOU = N_("The operations worklists are for business operations.")
NO_SUCH_TODO = N_("There is no such to-do.")
NOTHING_TICKED = N_("Tick the shipments to plan.")


def require_worklist(user: User) -> None:
    """The worklists are for those who confirm milestones: ops and operations managers."""
    if not may_steer_shipment(user):
        raise Refused(403, NOT_FOR_YOU)


def confirmed_with(item: DueMilestone) -> str:
    """How a milestone of the list is confirmed: `milestone` (ops confirm it, the order page's
    command), `todo` (the arrival, with its open to-do), `warehouse` (the dispatch, from the
    warehouse's queue) or `dispatch_first` (an arrival before anything left)."""
    if item.code == MilestoneCode.dispatch.value:
        return "warehouse"
    if item.code == MilestoneCode.arrival.value:
        return "todo" if item.arrival_todo_id is not None else "dispatch_first"
    return "milestone"


async def company_day(session: AsyncSession, settings: Settings) -> date:
    """Today in the company's calendar (the zone an administrator saved, else O2C_TIME_ZONE),
    which the worklist's windows are counted by."""
    return company_today(await company_time_zone(session=session, default=settings.time_zone))


async def due_milestones(
    *, session: AsyncSession, user: User, today: date, due: str | None = None
) -> list[DueMilestone]:
    """The milestones not yet confirmed in the user's scope on the company's `today`; those
    of one window of DUE_WINDOWS when `due` names one."""
    require_worklist(user)
    return await milestones_due(
        session=session, user=user, today=today, due=due if due in DUE_WINDOWS else None
    )


async def _open_todo_of_kind(
    session: AsyncSession, user: User, todo_id: int, kind: TodoKind
) -> Todo:
    todo = await visible_todo(session=session, user=user, todo_id=todo_id)
    if todo.kind != kind.value:
        raise Refused(404, NO_SUCH_TODO)
    return todo


async def confirm_arrival(
    *,
    session: AsyncSession,
    user: User,
    todo_id: int,
    completion: TodoCompletion,
    client: Client,
) -> str:
    """The arrival confirmed from the list: its confirm_arrival to-do completed as its page
    completes it (the same update id, so a second click is the same confirmation). The
    order's number."""
    require_worklist(user)
    todo = await _open_todo_of_kind(session, user, todo_id, TodoKind.confirm_arrival)
    return await _completed(session, user, todo, completion, client)


async def _completed(
    session: AsyncSession, user: User, todo: Todo, completion: TodoCompletion, client: Client
) -> str:
    """Complete the to-do through the one completion command; its order's number."""
    await complete_todo(session=session, user=user, todo=todo, completion=completion, client=client)
    order = await session.get(Order, todo.order_id)
    assert order is not None  # a to-do's order is never deleted
    return order.number


async def planning_list(*, session: AsyncSession, user: User) -> list[PlanningTodo]:
    """The plan_shipment to-dos the user may plan from one list."""
    require_worklist(user)
    return await plan_shipment_todos(session=session, user=user)


async def plan_one(
    *,
    session: AsyncSession,
    user: User,
    todo_id: int,
    completion: TodoCompletion,
    client: Client,
) -> str:
    """One ticked row of the planning list: its plan_shipment to-do completed as its own page
    completes it (the same checks and update id; a list sent twice plans each once). The
    order's number."""
    todo = await _open_todo_of_kind(session, user, todo_id, TodoKind.plan_shipment)
    return await _completed(session, user, todo, completion, client)
