"""Asking for a return (shared by the JSON API and the order page): the order's owner, a manager
above them, ops or service, once goods were dispatched and before the cost review; lines and
quantities at most what was dispatched less what came back or is asked for already. Seeing the
order at all is the scope's (a sales rep of another team gets 404 before any of this)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from models.domain import RETURNABLE_STAGES, ReturnLine, ReturnRequest, Role, Stage, TodoDone
from models.domain.returns import (
    NOT_DISPATCHED,
    ONLY_OWNER_OPS_SERVICE,
    RETURN_CLOSED_ORDER,
    RETURN_NOT_NOW,
    ReturnRequested,
)
from models.queries import actor_for
from models.queries.returns import dispatched_by_line, returnable_by_line
from models.tables import Order, OrderReturn, User
from web.commands.actions import Refused, action_id, refuse, send_action
from web.commands.changes import NOT_RUNNING, may_request_change
from web.schemas.returns import ReturnRequestIn
from web.temporal import workflow_id
from workflows import rules
from workflows.order import OrderWorkflow

# Besides the owner and the managers above them, these roles may ask for a return.
RETURN_ROLES = frozenset({Role.ops, Role.service})


async def may_request_return(*, session: AsyncSession, user: User, order: Order) -> bool:
    """The owner, a manager of the owner's department tree, ops or service."""
    if Role(user.role) in RETURN_ROLES:
        return True
    return await may_request_change(session=session, user=user, order=order)


async def stage_refusal(*, session: AsyncSession, order: Order) -> Refused | None:
    """When the order takes no return (409): closed or cancelled, in its cost review, or
    nothing of it was dispatched yet."""
    stage = Stage(order.stage)
    if stage in (Stage.closed, Stage.cancelled):
        return Refused(409, RETURN_CLOSED_ORDER, number=order.number)
    if stage == Stage.cost_review:
        return Refused(409, RETURN_NOT_NOW, number=order.number)
    if stage not in RETURNABLE_STAGES or not await dispatched_by_line(session=session, order=order):
        return Refused(409, NOT_DISPATCHED, number=order.number)
    return None


async def return_refusal(*, session: AsyncSession, user: User, order: Order) -> Refused | None:
    """Why this person may not ask for a return of this order now (403 not theirs to ask,
    409 not at this stage), or None: the page shows the form then."""
    if not await may_request_return(session=session, user=user, order=order):
        return Refused(403, ONLY_OWNER_OPS_SERVICE)
    return await stage_refusal(session=session, order=order)


async def request_return(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    form: ReturnRequestIn,
    client: Client,
    idempotency_key: str | None = None,
) -> ReturnRequested:
    """Ask for the return; its approval runs on in an approve_return to-do. Sent again after a
    lost answer (the same lines, reason and idempotency key) it is the same action and gets
    the same answer."""
    refused = await return_refusal(session=session, user=user, order=order)
    if refused is not None and refused.status == 403:
        raise refused
    request = ReturnRequest(
        actor=await actor_for(session=session, user=user),
        lines=[ReturnLine(line_id=line.line_id, quantity=line.quantity) for line in form.lines],
        reason=form.reason.strip(),
    )
    refuse(request.refusal())
    if refused is None:
        room = await returnable_by_line(session=session, order=order)
        if (too_many := rules.return_refusal(request.lines, room)) is not None:
            refused = Refused.of(422, too_many)
    done = await send_action(
        client,
        workflow_id(order.number),
        OrderWorkflow.request_return,
        request,
        # the returns decided before free the order's lines for this one
        update_id=action_id(
            f"return/{order.number}", request, idempotency_key, await _decided(session, order)
        ),
        gone=Refused(409, NOT_RUNNING, number=order.number),
        refusal=refused,
    )
    return await answered(session=session, order=order, done=done)


async def _decided(session: AsyncSession, order: Order) -> int:
    """How many of the order's returns are no longer waiting for approval."""
    count = await session.scalar(
        select(func.count())
        .select_from(OrderReturn)
        .where(OrderReturn.order_id == order.id, OrderReturn.status != "requested")
    )
    return count or 0


async def answered(*, session: AsyncSession, order: Order, done: TodoDone) -> ReturnRequested:
    """The workflow's answer as a return's (an answer fetched again after it was lost comes
    back as a plain TodoDone: the return is the order's latest)."""
    if isinstance(done, ReturnRequested) and done.number:
        return done
    found = await session.scalar(
        select(OrderReturn)
        .where(OrderReturn.order_id == order.id)
        .order_by(OrderReturn.number.desc())
        .limit(1)
    )
    return ReturnRequested(
        stage=done.stage,
        number=found.number if found else 0,
        status=found.status if found else "requested",
    )


def returnable_rows(order: Order, room: dict[int, Decimal]) -> list[tuple[int, Decimal]]:
    """The order's lines that can still come back, in the order's order, with how many."""
    return [(line.id, room[line.id]) for line in order.lines if room.get(line.id, Decimal(0)) > 0]
