"""What a person can do to an order, shared by the JSON API and the pages. Each operation checks
role and scope first, then hands the change to the order's workflow (principle 1)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from models.domain import (
    ORDER_ENTRY_ROLES,
    CostEstimate,
    Decision,
    EstimateCompletion,
    LineCost,
    Refusal,
    RevisionOutcome,
    Role,
    RouteAgain,
    Stage,
    TodoDone,
    TodoKind,
    TodoStatus,
)
from models.drafts import (
    DraftError,
    DraftOrder,
    create_draft,
    first_error,
    is_editable,
    mark_submitted,
    unmark_submitted,
    update_draft,
)
from models.queries import actor_for, get_todo, is_assignee, order_scope
from models.tables import Order, Todo, User
from web.temporal import start_order_workflow, workflow_id
from workflows import steps

# How long route_again waits for the workflow's new attempt to show in the database.
ALREADY_SUBMITTED = "Order %(number)s has already been submitted."
REFUSAL_STATUS = {
    steps.NOT_OPEN: 409,
    steps.NOT_ASSIGNEE: 403,
    steps.SELF_APPROVAL: 403,
    steps.INVALID: 422,
}


class Refused(Refusal):
    """An action refused with an HTTP status and a message a person understands."""

    def __init__(self, status: int, template: str, **params: object) -> None:
        super().__init__(template, **params)
        self.status = status

    @property
    def message(self) -> str:
        return str(self)

    @classmethod
    def of(cls, status: int, refusal: Refusal) -> Refused:
        return cls(status, refusal.template, **refusal.params)


class TodoCompletion(BaseModel):
    """The body of POST /api/v1/todos/{id}/complete: the outcome plus the kind's fields."""

    outcome: str
    comment: str = ""
    lines: list[LineCost] | None = None
    freight: Decimal = Field(default=Decimal("0"), ge=0)
    installation: Decimal = Field(default=Decimal("0"), ge=0)
    other: Decimal = Field(default=Decimal("0"), ge=0)


OUTCOMES = {
    TodoKind.estimate_cost: {"estimated"},
    TodoKind.approve: {"approve", "reject"},
    TodoKind.revise: {"resubmit", "withdraw"},
}


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


async def edit_draft(
    *, session: AsyncSession, user: User, order: Order, draft: DraftOrder
) -> Order:
    require_owner(user, order)
    if not is_editable(order):
        raise Refused(
            409, "Order %(number)s is submitted and can no longer be edited.", number=order.number
        )
    try:
        return await update_draft(session=session, order=order, draft=draft)
    except DraftError as error:
        # refused before anything was written; no rollback, which would expire `user`
        raise Refused.of(422, error) from error


def parse_draft(body: dict) -> DraftOrder:
    try:
        return DraftOrder.model_validate(body)
    except ValidationError as error:
        raise Refused(422, first_error(error)) from error


async def submit_order(
    *, session: AsyncSession, user: User, order: Order, client: Client, task_queue: str
) -> TodoDone | None:
    """Submit a draft (starts its workflow) or resubmit a revised order (completes the owner's
    revise to-do)."""
    require_owner(user, order)
    if order.stage == Stage.revising.value:
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
    if not order.lines:
        raise Refused(422, "An order needs at least one line.")
    if not await mark_submitted(session=session, order=order):
        raise Refused(409, ALREADY_SUBMITTED, number=order.number)
    try:
        await start_order_workflow(client, session, order, task_queue=task_queue)
    except WorkflowAlreadyStartedError as error:
        raise Refused(409, ALREADY_SUBMITTED, number=order.number) from error
    except RPCError as error:
        await unmark_submitted(session=session, order=order)
        raise Refused(503, "The workflow engine is not reachable; try again shortly.") from error
    return None


async def visible_todo(*, session: AsyncSession, user: User, todo_id: int) -> Todo:
    """The to-do, if its order is within the user's scope or the user is an assignee."""
    todo = await get_todo(session=session, todo_id=todo_id)
    if todo is None:
        raise Refused(404, "There is no such to-do.")
    actor = await actor_for(session=session, user=user)
    if is_assignee(todo, actor):
        return todo
    scope = await order_scope(session=session, user=user)
    if await session.scalar(select(Order.id).where(Order.id == todo.order_id, scope)) is None:
        raise Refused(404, "There is no such to-do.")
    return todo


async def complete_todo(
    *,
    session: AsyncSession,
    user: User,
    todo: Todo,
    completion: TodoCompletion,
    client: Client,
) -> TodoDone:
    """Check the person may complete this to-do this way, then send the workflow's update; the
    workflow's validator checks again against its own state."""
    if todo.status != TodoStatus.open.value:
        raise Refused(409, "This to-do is no longer open.")
    actor = await actor_for(session=session, user=user)
    if not is_assignee(todo, actor):
        raise Refused(403, "This to-do is not assigned to you.")
    kind = TodoKind(todo.kind)
    if completion.outcome not in OUTCOMES[kind]:
        allowed = ", ".join(sorted(OUTCOMES[kind]))
        raise Refused(422, "The outcome must be one of: %(allowed)s.", allowed=allowed)
    handle = client.get_workflow_handle(todo.workflow_id)
    if kind == TodoKind.estimate_cost:
        if not completion.lines:
            raise Refused(422, "Give a unit cost for every line.")
        update, argument = (
            "estimate_cost",
            EstimateCompletion(
                todo_key=todo.key,
                actor=actor,
                estimate=CostEstimate(
                    lines=completion.lines,
                    freight=completion.freight,
                    installation=completion.installation,
                    other=completion.other,
                ),
            ),
        )
    elif kind == TodoKind.approve:
        owner_id = await session.scalar(select(Order.owner_id).where(Order.id == todo.order_id))
        if owner_id == user.id:
            raise Refused(403, "Nobody approves their own order.")
        if completion.outcome == "reject" and not completion.comment.strip():
            raise Refused(422, "A rejection needs a comment saying why.")
        update, argument = (
            "decide",
            Decision(
                todo_key=todo.key,
                actor=actor,
                outcome=completion.outcome,
                comment=completion.comment,
            ),
        )
    else:
        update, argument = (
            "revise",
            RevisionOutcome(
                todo_key=todo.key,
                actor=actor,
                outcome=completion.outcome,
                comment=completion.comment,
            ),
        )
    try:
        return await handle.execute_update(update, argument, result_type=TodoDone)
    except WorkflowUpdateFailedError as failure:
        cause = failure.cause
        if isinstance(cause, ApplicationError):
            raise Refused(REFUSAL_STATUS.get(cause.type or "", 409), cause.message) from failure
        raise Refused(409, "The order could not take this step.") from failure
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:  # its approval round has already ended
            raise Refused(409, "This to-do is no longer open.") from error
        raise Refused(503, "The workflow engine is not reachable; try again shortly.") from error


async def route_again(*, session: AsyncSession, user: User, order: Order, client: Client) -> Order:
    """Admin asks an order that no one could approve to route its approval again (after fixing
    the policy, a manager or a user); the workflow reloads policy and facts and tries. Returns
    the order as it stands afterwards: routed (no reason), or still unroutable."""
    if Role(user.role) != Role.admin:
        raise Refused(403, "Only an administrator can route an order again.")
    if order.unroutable_reason is None:
        raise Refused(409, "Order %(number)s is not waiting for a route.", number=order.number)
    actor = await actor_for(session=session, user=user)
    handle = client.get_workflow_handle(workflow_id(order.number))
    try:
        await handle.execute_update("route_again", RouteAgain(actor=actor))
    except WorkflowUpdateFailedError as failure:
        cause = failure.cause
        if isinstance(cause, ApplicationError):
            raise Refused(
                REFUSAL_STATUS.get(cause.type or "", 409), cause.message.replace("%", "%%")
            ) from failure
        raise Refused(409, "The order could not take this step.") from failure
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise Refused(
                409, "The workflow of order %(number)s is not running.", number=order.number
            ) from error
        raise Refused(503, "The workflow engine is not reachable; try again shortly.") from error
    # The update returns once the attempt is made: the order is routed (off the list) or back on
    # the list with the reason.
    await session.refresh(order, ["stage", "unroutable_reason", "unroutable_at"])
    return order
