"""What people do to an order as a whole: enter and edit drafts, submit them (which starts the
order's workflow) or resubmit a revised one, and, for admin, route an unroutable order again."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from i18n import N_
from models.dates import requested_delivery_refusal
from models.domain import ORDER_ENTRY_ROLES, Role, RouteAgain, Stage, TodoDone, TodoKind, TodoStatus
from models.drafts import (
    DraftError,
    DraftOrder,
    create_draft,
    draft_of,
    is_editable,
    mark_submitted,
    merged_draft,
    update_draft,
)
from models.queries import actor_for
from models.tables import Order, Todo, User
from web.commands.actions import UNREACHABLE, Refused, action_id, refuse, send_update
from web.commands.completion import TodoCompletion
from web.commands.fulfilment import utc_today
from web.commands.todos import complete_todo
from web.forms.errors import invalid_input
from web.temporal import start_order_workflow, submitted_with, workflow_id
from workflows.order import OrderWorkflow

ALREADY_SUBMITTED = "Order %(number)s has already been submitted."
# A draft's fields that every order has: a PATCH may change them but not clear them.
ALWAYS_SET = ("customer_id", "shipping_mode", "lines")
NOT_CLEARABLE = N_("%(field)s cannot be null; leave it out to keep its value.")
# How long the page after Submit waits for the workflow's first step (a worker takes well
# under a second; one that is down must not hold the person's request for long).
FIRST_STEP_WAIT_SECONDS = 10.0


def require_order_entry(user: User) -> None:
    if Role(user.role) not in ORDER_ENTRY_ROLES:
        raise Refused(403, "Your role does not enter orders.")


def require_owner(user: User, order: Order) -> None:
    if order.owner_id != user.id:
        raise Refused(403, "Only the order's owner can change it.")


async def new_draft(*, session: AsyncSession, user: User, draft: DraftOrder) -> Order:
    require_order_entry(user)
    try:
        return await create_draft(session=session, user=user, draft=draft)
    except DraftError as error:
        # refused before anything was written; no rollback, which would expire `user`
        raise Refused.of(422, error) from error


def require_editable(user: User, order: Order) -> None:
    require_owner(user, order)
    if not is_editable(order):
        raise Refused(
            409, "Order %(number)s is submitted and can no longer be edited.", number=order.number
        )


async def _saved(session: AsyncSession, order: Order, draft: DraftOrder) -> Order:
    try:
        return await update_draft(session=session, order=order, draft=draft)
    except DraftError as error:
        # refused before anything was written; no rollback, which would expire `user`
        raise Refused.of(422, error) from error


async def edit_draft(
    *, session: AsyncSession, user: User, order: Order, draft: DraftOrder
) -> Order:
    """Replace the whole draft (the page's form sends all of it)."""
    require_editable(user, order)
    return await _saved(session, order, draft)


async def patch_draft(
    *, session: AsyncSession, user: User, order: Order, changes: Mapping[str, Any]
) -> Order:
    """Change only the given fields of a draft, or of an order sent back for revision: the
    stored draft merged with them (models.drafts.merged_draft) goes through the same checks as
    a whole draft, so a bad result is refused and changes nothing. No fields, no write."""
    require_editable(user, order)
    cleared = [field for field in ALWAYS_SET if field in changes and changes[field] is None]
    if cleared:
        raise Refused(422, NOT_CLEARABLE, field=cleared[0])
    if not changes:
        return order
    stored = await draft_of(session=session, order=order)
    return await _saved(session, order, parse_draft(merged_draft(stored, changes)))


def parse_draft(body: dict[str, Any]) -> DraftOrder:
    try:
        return DraftOrder.model_validate(body)
    except ValidationError as error:
        raise invalid_input(error) from error


async def submit_order(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    client: Client,
    task_queue: str,
    idempotency_key: str | None = None,
) -> TodoDone | None:
    """Submit a draft (starts its workflow) or resubmit a revised order (completes the owner's
    revise to-do). A submit sent again with the same idempotency key after its answer was lost
    gets the same answer, not "already submitted"."""
    require_owner(user, order)
    # A draft saved while its delivery date was ahead may be sent after that day has passed.
    refuse(requested_delivery_refusal(order.requested_delivery_on, today=utc_today()))
    if order.stage == Stage.revising.value:
        return await resubmit(session=session, user=user, order=order, client=client)
    if not order.lines:
        raise Refused(422, "An order needs at least one line.")
    already = Refused(409, ALREADY_SUBMITTED, number=order.number)
    if order.stage != Stage.draft.value:
        if idempotency_key and await submitted_with(client, order.number, idempotency_key):
            return None
        raise already
    # The workflow first, then the mark that keeps the draft's editor out: the database never
    # says "submitted" for an order whose workflow may not exist, and the workflow's first step
    # marks the order itself should this request die in between. Its id is the order number,
    # so a start repeated after a lost answer is recognised.
    try:
        await start_order_workflow(
            client, session, order, task_queue=task_queue, submit_key=idempotency_key
        )
    except WorkflowAlreadyStartedError as error:
        if order.submitted_at is not None and not (
            idempotency_key and await submitted_with(client, order.number, idempotency_key)
        ):
            raise already from error
        # started by a submit that was cut off before it could say so
    except RPCError as error:
        raise Refused(503, UNREACHABLE) from error
    await mark_submitted(session=session, order=order)
    return None


async def await_first_step(
    client: Client, number: str, *, timeout: float = FIRST_STEP_WAIT_SECONDS
) -> bool:
    """Wait until a submitted order's workflow has run its first step, which writes the order's
    stage (cost estimate) and pricing's to-do: a page read afterwards shows the submit's
    result, not the draft. False when it did not happen in time (no worker, Temporal
    unreachable); the submit stands either way and the page catches up on the next read."""
    handle = client.get_workflow_handle_for(OrderWorkflow.run, workflow_id(number))
    try:
        async with asyncio.timeout(timeout):
            await handle.execute_update(OrderWorkflow.acknowledge_submit)
    except (TimeoutError, WorkflowUpdateFailedError, RPCError):
        return False
    return True


async def resubmit(*, session: AsyncSession, user: User, order: Order, client: Client) -> TodoDone:
    """The owner sends a revised order back to costing and approval (their revise to-do)."""
    todo = await session.scalar(
        select(Todo).where(
            Todo.order_id == order.id,
            Todo.kind == TodoKind.revise.value,
            Todo.status == TodoStatus.open.value,
        )
    )
    if todo is None:
        raise Refused(409, "This order is not waiting for a revision.")
    return await complete_todo(
        session=session,
        user=user,
        todo=todo,
        completion=TodoCompletion(outcome="resubmit"),
        client=client,
    )


async def route_again(*, session: AsyncSession, user: User, order: Order, client: Client) -> Order:
    """Admin asks an order that no one could approve to route its approval again (after fixing
    the policy, a manager or a user); the workflow reloads policy and facts and tries. Returns
    the order as it stands afterwards: routed (no reason), or still unroutable."""
    if Role(user.role) != Role.admin:
        raise Refused(403, "Only an administrator can route an order again.")
    if order.unroutable_reason is None:  # a request sent again finds it routed: it says so
        raise Refused(409, "Order %(number)s is not waiting for a route.", number=order.number)
    actor = await actor_for(session=session, user=user)
    await send_update(
        client,
        workflow_id(order.number),
        OrderWorkflow.route_again,
        RouteAgain(actor=actor),
        gone=Refused(409, "The workflow of order %(number)s is not running.", number=order.number),
        # one action per time the order fell off its route
        update_id=action_id(f"route_again/{order.number}", actor, order.unroutable_at),
    )
    # The update returns once the attempt is made: the order is routed (off the list) or back on
    # the list with the reason.
    await session.refresh(order, ["stage", "unroutable_reason", "unroutable_at"])
    return order
