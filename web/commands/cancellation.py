"""Cancelling an order, shared by the JSON API and the order page: the owner (or a manager of the
owner's department tree) gives a reason code and a reason; before confirmation the order is
cancelled at once, after it the owner's department manager is asked to approve. Each check is
made here first (role, scope, the order's state), then again by the workflow's validator."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from models.domain import (
    ALREADY_CANCELLED,
    CANCELLATION_PENDING,
    NOT_CANCELLABLE_CLOSED,
    NOT_CANCELLABLE_IN_REVIEW,
    ONLY_OWNER_OR_MANAGER,
    Actor,
    CancelOrder,
    Stage,
    TodoDone,
)
from models.domain.returns import OPEN_RETURN_STATUSES, RETURN_OPEN
from models.queries import actor_for
from models.tables import Cancellation, Department, Order, OrderReturn, User
from web.commands.actions import Refused, action_id, refuse, send_action
from web.temporal import workflow_id
from workflows.order import OrderWorkflow


class CancelForm(BaseModel):
    """The body of POST /api/v1/orders/{number}/cancel: why the order is cancelled, as a code
    (customer_request, duplicate, credit, stock, price, other) and in words; both required."""

    reason_code: str = Field(default="", max_length=30)
    reason: str = Field(default="", max_length=2000)


async def owners_chain(*, session: AsyncSession, order: Order) -> list[int]:
    """The order's department and every department above it."""
    chain: list[int] = []
    department_id: int | None = order.department_id
    while department_id is not None and department_id not in chain:
        chain.append(department_id)
        department_id = await session.scalar(
            select(Department.parent_id).where(Department.id == department_id)
        )
    return chain


async def may_cancel(*, session: AsyncSession, user: User, order: Order) -> bool:
    """The order's owner, or a manager of a department from the owner's up the tree."""
    if order.owner_id == user.id:
        return True
    actor = await actor_for(session=session, user=user)
    return bool(
        set(actor.managed_department_ids) & set(await owners_chain(session=session, order=order))
    )


async def cancellation_refusal(*, session: AsyncSession, order: Order) -> Refused | None:
    """What the order's state says against cancelling it now, if anything."""
    if order.stage == Stage.draft.value:
        return Refused(409, "Order %(number)s is not submitted yet.", number=order.number)
    if order.stage == Stage.cancelled.value:
        return Refused(409, ALREADY_CANCELLED)
    if order.stage == Stage.closed.value:
        return Refused(409, NOT_CANCELLABLE_CLOSED)
    pending = await session.scalar(
        select(Cancellation.id).where(
            Cancellation.order_id == order.id, Cancellation.status.in_(("requested", "refunding"))
        )
    )
    if pending is not None:
        return Refused(409, CANCELLATION_PENDING)
    if order.stage == Stage.cost_review.value:
        return Refused(409, NOT_CANCELLABLE_IN_REVIEW)
    # After dispatch the cancellation takes the goods back through a return of everything
    # dispatched, once no other return is open.
    open_return = await session.scalar(
        select(func.min(OrderReturn.number)).where(
            OrderReturn.order_id == order.id, OrderReturn.status.in_(OPEN_RETURN_STATUSES)
        )
    )
    if open_return is not None:
        return Refused(409, RETURN_OPEN, number=open_return)
    return None


async def cancel_order(
    *, session: AsyncSession, user: User, order: Order, form: CancelForm, client: Client
) -> TodoDone:
    """Cancel the order (or ask for its cancellation, after confirmation). Sent again after a
    lost answer, it is the same action and gets the same answer."""
    if not await may_cancel(session=session, user=user, order=order):
        raise Refused(403, ONLY_OWNER_OR_MANAGER)
    actor: Actor = await actor_for(session=session, user=user)
    request = CancelOrder(
        actor=actor, reason_code=form.reason_code.strip(), reason=form.reason.strip()
    )
    refuse(request.refusal())
    rejected = await session.scalar(
        select(func.count())
        .select_from(Cancellation)
        .where(Cancellation.order_id == order.id, Cancellation.status == "rejected")
    )
    return await send_action(
        client,
        workflow_id(order.number),
        OrderWorkflow.cancel,
        request,
        # a cancellation rejected before frees the order for a new request
        update_id=action_id(f"cancel/{order.number}", request, rejected or 0),
        gone=Refused(409, "The workflow of order %(number)s is not running.", number=order.number),
        refusal=await cancellation_refusal(session=session, order=order),
    )
