"""Who may ask to change an order, and when (shared by the JSON API and the pages): the owner, or
a manager of a department on the way up from the owner's; after submission and before the cost
review; one open change request at a time. Whoever asked may withdraw it. Seeing the order at
all is the scope's (a sales rep of another team gets 404 before any of this is asked)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import Stage
from models.domain.changes import CHANGE_DECIDED, ONE_OPEN_CHANGE
from models.tables import Department, Order, OrderChangeRequest, User
from web.commands.actions import Refused

ONLY_OWNER_OR_MANAGER = "Only the order's owner or a manager above them can ask for a change."
ONLY_REQUESTER = "Only whoever asked for the change can withdraw it."
NOT_SUBMITTED = "Order %(number)s is a draft: edit it instead of asking for a change."
BEING_REVISED = "Order %(number)s is back with its owner: edit it and resubmit instead."
NO_LONGER = "Order %(number)s is in its cost review or closed: it can no longer be changed."
CANCELLED = "Order %(number)s is cancelled: it can no longer be changed."
# The stages after submission and before the cost review, the order's own (not being revised).
CHANGEABLE = frozenset(
    {
        Stage.costing,
        Stage.approval,
        Stage.confirmed,
        Stage.fulfilment,
        Stage.acceptance,
        Stage.collection,
    }
)


async def owners_managers(*, session: AsyncSession, order: Order) -> set[int]:
    """The managers of the owner's department and of every department above it."""
    managers: set[int] = set()
    department_id: int | None = order.department_id
    for _ in range(50):  # a tree, not a cycle; bounded all the same
        if department_id is None:
            break
        department = await session.get_one(Department, department_id)
        if department.manager_id is not None:
            managers.add(department.manager_id)
        department_id = department.parent_id
    return managers


async def may_request_change(*, session: AsyncSession, user: User, order: Order) -> bool:
    """The owner, or a manager of the owner's department tree (the page shows the form)."""
    if order.owner_id == user.id:
        return True
    return user.id in await owners_managers(session=session, order=order)


def stage_refusal(order: Order) -> Refused | None:
    """When the order's stage takes no change request (409)."""
    stage = Stage(order.stage)
    if stage in CHANGEABLE:
        return None
    if stage == Stage.draft:
        return Refused(409, NOT_SUBMITTED, number=order.number)
    if stage == Stage.revising:
        return Refused(409, BEING_REVISED, number=order.number)
    if stage == Stage.cancelled:
        return Refused(409, CANCELLED, number=order.number)
    return Refused(409, NO_LONGER, number=order.number)


async def open_request(*, session: AsyncSession, order: Order) -> int | None:
    """The number of the order's open change request, if one is open."""
    return await session.scalar(
        select(func.min(OrderChangeRequest.number)).where(
            OrderChangeRequest.order_id == order.id, OrderChangeRequest.status == "open"
        )
    )


async def change_request_refusal(
    *, session: AsyncSession, user: User, order: Order
) -> Refused | None:
    """Why this person may not ask to change this order now (403 not theirs to change, 409
    not at this stage or while another request is open), or None."""
    if not await may_request_change(session=session, user=user, order=order):
        return Refused(403, ONLY_OWNER_OR_MANAGER)
    if refused := stage_refusal(order):
        return refused
    if (number := await open_request(session=session, order=order)) is not None:
        return Refused(409, ONE_OPEN_CHANGE, number=number)
    return None


def withdrawal_refusal(*, user: User, request: OrderChangeRequest) -> Refused | None:
    """Why this person may not withdraw the change request (403 not theirs, 409 decided)."""
    if request.requested_by_id != user.id:
        return Refused(403, ONLY_REQUESTER)
    if request.status != "open":
        return Refused(409, CHANGE_DECIDED, number=request.number)
    return None
