"""What a person can do to an order, shared by the JSON API and the pages. Each operation checks
role and scope first, then hands the change to the order's workflow (principle 1)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateHandle
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from models.dates import done_date_refusal, planned_date_refusal
from models.domain import (
    MILESTONES,
    ORDER_ENTRY_ROLES,
    RAISABLE_EXCEPTIONS,
    AcceptanceOutcome,
    Actor,
    ArrivalConfirmation,
    CostCategory,
    CostEstimate,
    CostItem,
    CostRecording,
    CostsDecision,
    Decision,
    DispatchConfirmation,
    EstimateCompletion,
    ExceptionKind,
    ExceptionReport,
    ExceptionResolution,
    HoldRelease,
    InvoiceDecision,
    LineCost,
    MilestoneCode,
    MilestoneConfirmation,
    MilestoneReplan,
    PaymentDecision,
    PlannedMilestone,
    PlanShipment,
    Refusal,
    RevisionOutcome,
    Role,
    RouteAgain,
    ShippingMode,
    Stage,
    TodoDone,
    TodoKind,
    TodoStatus,
    VarianceDecision,
    VarianceReview,
)
from models.drafts import (
    DraftError,
    DraftOrder,
    create_draft,
    first_error,
    is_editable,
    mark_submitted,
    update_draft,
)
from models.queries import (
    AWAITING_DISPATCH,
    HELD,
    QueueItem,
    actor_for,
    awaiting_shipment,
    get_todo,
    is_assignee,
    milestone_of,
    order_scope,
    was_dispatched,
)
from models.tables import Invoice, Order, Todo, User
from web.temporal import start_order_workflow, submitted_with, workflow_id
from workflows import refusals as steps

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


class MilestoneDate(BaseModel):
    """A milestone's planned date in a plan_shipment completion. Both fields may be left out
    here so that the refusal can say which milestone lacks what."""

    code: str = ""
    planned_date: date | None = None


class CostItemIn(BaseModel):
    """One actual cost as a person gives it; every field is checked with a message that names
    the item."""

    category: str = ""
    amount: Decimal | None = Field(default=None, max_digits=16, decimal_places=2)
    supplier_payment_reference: str = Field(default="", max_length=100)


class TodoCompletion(BaseModel):
    """The body of POST /api/v1/todos/{id}/complete: the outcome plus the kind's fields."""

    outcome: str
    comment: str = ""
    lines: list[LineCost] | None = None
    freight: Decimal = Field(default=Decimal("0"), ge=0)
    installation: Decimal = Field(default=Decimal("0"), ge=0)
    other: Decimal = Field(default=Decimal("0"), ge=0)
    # plan_shipment
    milestones: list[MilestoneDate] | None = None
    # confirm_dispatch
    carrier: str = ""
    tracking_number: str = ""
    # confirm_milestone, confirm_arrival
    code: str = ""
    actual_date: date | None = None
    # confirm_acceptance
    accepted_on: date | None = None
    signed_by: str = ""
    # handle_exception
    resolution: str = ""
    reship: bool = False
    # issue_invoice
    invoice_number: str = Field(default="", max_length=50)
    # record_actual_costs (`final`: no more costs follow), review_variance
    items: list[CostItemIn] | None = None
    final: bool = False
    explanation: str = Field(default="", max_length=2000)


OUTCOMES = {
    TodoKind.estimate_cost: {"estimated"},
    TodoKind.approve: {"approve", "reject"},
    TodoKind.revise: {"resubmit", "withdraw"},
    TodoKind.plan_shipment: {"planned"},
    TodoKind.confirm_dispatch: {"dispatched"},
    TodoKind.confirm_milestone: {"done"},
    TodoKind.confirm_arrival: {"arrived"},
    TodoKind.confirm_acceptance: {"accepted", "defect"},
    TodoKind.handle_exception: {"resolved"},
    TodoKind.confirm_payment: {"confirm", "reject"},
    TodoKind.issue_invoice: {"issued", "reject"},
    TodoKind.record_actual_costs: {"recorded"},
    TodoKind.approve_actual_costs: {"approve", "reject"},
    TodoKind.review_variance: {"reviewed"},
    TodoKind.approve_variance: {"approve", "reject"},
}
COST_CATEGORIES = ", ".join(c.value for c in CostCategory)

# Who confirms and re-plans milestones and releases a held shipment.
SHIPMENT_ROLES = frozenset({Role.ops, Role.ops_manager})
# Who raises an exception after dispatch, besides the order's owner.
EXCEPTION_ROLES = frozenset({Role.ops, Role.ops_manager, Role.service})
# Who works (or watches) the "awaiting shipment" queue.
SHIPMENT_QUEUE_ROLES = frozenset({Role.warehouse, Role.ops, Role.ops_manager, Role.director})
# Once the customer has accepted, a problem is no longer a shipment exception.
ACCEPTED = "accepted"
# Milestones confirmed their own way: dispatch by the warehouse, arrival with its to-do.
OWN_CONFIRMATION = frozenset({MilestoneCode.dispatch, MilestoneCode.arrival})
QUEUE_STATUSES = {"awaiting": (AWAITING_DISPATCH,), "held": (HELD,)}


class ExceptionRequest(BaseModel):
    """The body of POST /api/v1/orders/{number}/exceptions."""

    kind: str = ""
    description: str = ""


class MilestoneDone(BaseModel):
    """The body of POST /api/v1/orders/{number}/milestones/{code}/confirm."""

    actual_date: date | None = None


class MilestoneNewDate(BaseModel):
    """The body of POST /api/v1/orders/{number}/milestones/{code}/replan."""

    planned_date: date | None = None
    reason: str = ""


class HoldReleaseRequest(BaseModel):
    """The body of POST /api/v1/orders/{number}/release-hold."""

    reason: str = ""


def shipment_workflow_id(order_number: str) -> str:
    return f"{workflow_id(order_number)}/shipment"


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


def parse_draft(body: dict[str, Any]) -> DraftOrder:
    try:
        return DraftOrder.model_validate(body)
    except ValidationError as error:
        raise Refused(422, first_error(error)) from error


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
        raise Refused(503, "The workflow engine is not reachable; try again shortly.") from error
    await mark_submitted(session=session, order=order)
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
    action: str | None = None,
) -> TodoDone:
    """Check the person may complete this to-do this way, then send the workflow's update; the
    workflow's validator checks again against its own state.

    The update's id is derived from the action (the to-do, the person and what they sent, or
    `action` when the caller names it), so the same action sent again is the same update to
    the engine. A check against the database that refuses it (the to-do is closed, the invoice
    number is taken) may be looking at this very action's own effect: the engine is asked
    first, and an action it already took answers with its result."""
    gone = todo.status != TodoStatus.open.value
    actor = await actor_for(session=session, user=user)
    if not gone and not is_assignee(todo, actor):
        raise Refused(403, "This to-do is not assigned to you.")
    kind = TodoKind(todo.kind)
    try:
        update, argument = await todo_update(
            session=session, user=user, todo=todo, kind=kind, completion=completion, actor=actor
        )
    except Refused:
        if gone:
            raise Refused(409, TODO_GONE) from None
        raise
    update_id = action or action_id(f"todo/{todo.id}", user.id, argument)
    refusal = Refused(409, TODO_GONE) if gone else None
    if refusal is None:
        refusal = await state_refusal(session=session, user=user, todo=todo, argument=argument)
    return await send_action(
        client,
        todo.workflow_id,
        update,
        argument,
        update_id=update_id,
        gone=Refused(409, TODO_GONE),
        refusal=refusal,
    )


async def todo_update(
    *,
    session: AsyncSession,
    user: User,
    todo: Todo,
    kind: TodoKind,
    completion: TodoCompletion,
    actor: Actor,
) -> tuple[str, BaseModel]:
    """The workflow update a completion sends and its argument, once the completion's own
    fields are checked (422 with what is wrong)."""
    if kind == TodoKind.collect:
        raise Refused(409, "This to-do closes by itself once the installment is paid.")
    if completion.outcome not in OUTCOMES[kind]:
        allowed = ", ".join(sorted(OUTCOMES[kind]))
        raise Refused(422, "The outcome must be one of: %(allowed)s.", allowed=allowed)
    if kind == TodoKind.estimate_cost:
        if not completion.lines:
            raise Refused(422, "Give a unit cost for every line.")
        return "estimate_cost", EstimateCompletion(
            todo_key=todo.key,
            actor=actor,
            estimate=CostEstimate(
                lines=completion.lines,
                freight=completion.freight,
                installation=completion.installation,
                other=completion.other,
            ),
        )
    if kind == TodoKind.approve:
        if completion.outcome == "reject" and not completion.comment.strip():
            raise Refused(422, "A rejection needs a comment saying why.")
        return "decide", Decision(
            todo_key=todo.key, actor=actor, outcome=completion.outcome, comment=completion.comment
        )
    if kind == TodoKind.revise:
        return "revise", RevisionOutcome(
            todo_key=todo.key, actor=actor, outcome=completion.outcome, comment=completion.comment
        )
    if cost := cost_update(kind, todo, completion, actor):
        return cost
    if money := money_update(kind=kind, todo=todo, completion=completion, actor=actor):
        return money
    order = await session.get(Order, todo.order_id)
    assert order is not None  # a to-do's order is never deleted
    return fulfilment_update(kind, todo, order, completion, actor)


async def state_refusal(
    *, session: AsyncSession, user: User, todo: Todo, argument: BaseModel
) -> Refused | None:
    """What the database says against completing the to-do this way, if anything."""
    if isinstance(argument, Decision):
        owner_id = await session.scalar(select(Order.owner_id).where(Order.id == todo.order_id))
        if owner_id == user.id:
            return Refused(403, "Nobody approves their own order.")
    if isinstance(argument, InvoiceDecision) and argument.outcome == "issued":
        number = argument.invoice_number
        taken = await session.scalar(select(Invoice.id).where(Invoice.invoice_number == number))
        if taken is not None:
            return Refused(422, "Invoice number %(number)s is already used.", number=number)
    return None


def action_id(action: str, *parts: object) -> str:
    """An update id derived from an action: what it is and everything it carries. The same
    action sent again (its answer was lost) gets the same id, and the engine takes it once."""
    body = json.dumps(
        [p.model_dump(mode="json") if isinstance(p, BaseModel) else p for p in parts],
        sort_keys=True,
        default=str,
    )
    return f"{action}/{hashlib.sha256(body.encode()).hexdigest()[:32]}"


async def send_action(
    client: Client,
    to_workflow: str,
    update: str,
    argument: BaseModel,
    *,
    update_id: str,
    gone: Refused,
    refusal: Refused | None = None,
) -> TodoDone:
    """Send a person's action under its update id. When a check against the database refused
    it (`refusal`), that check may be looking at this very action's own effect (its answer was
    lost and it is sent again): the engine is asked, and the refusal stands only if it never
    took the action."""
    if refusal is not None:
        return await redelivered(client, to_workflow, update_id, refusal)
    return await _send_update(client, to_workflow, update, argument, gone=gone, update_id=update_id)


async def redelivered(
    client: Client, to_workflow: str, update_id: str, refusal: Refused
) -> TodoDone:
    """A check against the database refused the action. If the engine has already taken this
    very action (the person is sending it again because its answer was lost), its result;
    otherwise the refusal."""
    handle: WorkflowUpdateHandle[TodoDone] = client.get_workflow_handle(
        to_workflow
    ).get_update_handle(update_id, result_type=TodoDone)
    try:
        return await handle.result()
    except WorkflowUpdateFailedError as failure:
        raise _refusal_of(failure) from failure
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:  # not taken before: the refusal stands
            raise refusal from error
        raise Refused(503, "The workflow engine is not reachable; try again shortly.") from error


TODO_GONE = "This to-do is no longer open."


def money_update(
    *, kind: TodoKind, todo: Todo, completion: TodoCompletion, actor: Actor
) -> tuple[str, BaseModel] | None:
    """The update and argument for a money to-do, once its fields are checked; None for other
    kinds."""
    if kind == TodoKind.confirm_payment:
        if completion.outcome == "reject" and not completion.comment.strip():
            raise Refused(422, "Say why the payment is rejected.")
        return "decide_payment", PaymentDecision(
            actor=actor,
            todo_key=todo.key,
            outcome=completion.outcome,
            comment=completion.comment.strip(),
        )
    if kind == TodoKind.issue_invoice:
        number = completion.invoice_number.strip()
        if completion.outcome == "issued":
            if not number:
                raise Refused(422, "Give the invoice number.")
        elif not completion.comment.strip():
            raise Refused(422, "Say why the invoice is not issued.")
        return "decide_invoice", InvoiceDecision(
            actor=actor,
            todo_key=todo.key,
            outcome=completion.outcome,
            invoice_number=number,
            comment=completion.comment.strip(),
        )
    return None


def cost_items(given: list[CostItemIn] | None, *, final: bool) -> list[CostItem]:
    """The items, checked (422 naming the item and what is wrong)."""
    items = []
    for number, item in enumerate(given or [], start=1):
        try:
            category = CostCategory(item.category.strip())
        except ValueError as error:
            raise Refused(
                422,
                "Item %(number)s: the category must be one of: %(allowed)s.",
                number=number,
                allowed=COST_CATEGORIES,
            ) from error
        if item.amount is None or item.amount <= 0:
            raise Refused(422, "Item %(number)s: the amount must be more than zero.", number=number)
        reference = item.supplier_payment_reference.strip()
        if not reference:
            raise Refused(
                422, "Item %(number)s: give the supplier payment reference.", number=number
            )
        items.append(
            CostItem(category=category, amount=item.amount, supplier_payment_reference=reference)
        )
    if not items and not final:
        raise Refused(422, "Give at least one cost item.")
    return items


def cost_update(
    kind: TodoKind, todo: Todo, completion: TodoCompletion, actor: Actor
) -> tuple[str, BaseModel] | None:
    """The order workflow's update and argument for a cost to-do, once its fields are checked;
    None for other kinds."""
    comment = completion.comment.strip()
    if kind == TodoKind.record_actual_costs:
        return "record_actual_costs", CostRecording(
            actor=actor,
            todo_key=todo.key,
            items=cost_items(completion.items, final=completion.final),
            final=completion.final,
        )
    if kind == TodoKind.approve_actual_costs:
        if completion.outcome == "reject" and not comment:
            raise Refused(422, "Say why the costs are rejected.")
        return "approve_actual_costs", CostsDecision(
            actor=actor, todo_key=todo.key, outcome=completion.outcome, comment=comment
        )
    if kind == TodoKind.review_variance:
        facts = todo.facts or {}
        explanation = completion.explanation.strip()
        if facts.get("above_threshold") and not explanation:
            raise Refused(
                422,
                "Explain the variance: it is above the threshold of %(threshold)s.",
                threshold=facts.get("threshold", ""),
            )
        return "review_variance", VarianceReview(
            actor=actor, todo_key=todo.key, explanation=explanation
        )
    if kind == TodoKind.approve_variance:
        if completion.outcome == "reject" and not comment:
            raise Refused(422, "Say why the variance is not approved.")
        return "approve_variance", VarianceDecision(
            actor=actor, todo_key=todo.key, outcome=completion.outcome, comment=comment
        )
    return None


def fulfilment_update(
    kind: TodoKind, todo: Todo, order: Order, completion: TodoCompletion, actor: Actor
) -> tuple[str, BaseModel]:
    """The shipment workflow's update and its argument for a fulfilment to-do, once the
    completion's fields are checked (422 with what is missing)."""
    if kind == TodoKind.plan_shipment:
        return "plan", PlanShipment(
            todo_key=todo.key, actor=actor, milestones=planned_milestones(order, completion)
        )
    if kind == TodoKind.confirm_dispatch:
        carrier = completion.carrier.strip()
        tracking_number = completion.tracking_number.strip()
        if not carrier:
            raise Refused(422, "Name the carrier.")
        if not tracking_number:
            raise Refused(422, "Give the tracking number.")
        return "confirm_dispatch", DispatchConfirmation(
            todo_key=todo.key, actor=actor, carrier=carrier, tracking_number=tracking_number
        )
    if kind == TodoKind.confirm_milestone:
        raw = completion.code.strip() or str((todo.facts or {}).get("code") or "")
        if not raw:
            raise Refused(422, "Say which milestone is done.")
        code = confirmable_milestone(order, raw)
        if completion.actual_date is None:
            raise Refused(422, "Give the date the milestone was done.")
        refuse_done_date(completion.actual_date, milestone=code)
        return "confirm_milestone", MilestoneConfirmation(
            actor=actor, code=code, actual_date=completion.actual_date, todo_key=todo.key
        )
    if kind == TodoKind.confirm_arrival:
        if completion.actual_date is None:
            raise Refused(422, "Give the date the goods arrived.")
        refuse_done_date(completion.actual_date, milestone=MilestoneCode.arrival)
        return "confirm_arrival", ArrivalConfirmation(
            actual_date=completion.actual_date, actor=actor, todo_key=todo.key
        )
    if kind == TodoKind.confirm_acceptance:
        if completion.outcome == "accepted":
            if completion.accepted_on is None or not completion.signed_by.strip():
                raise Refused(422, "Give the acceptance date and who signed for the customer.")
            refuse_done_date(
                completion.accepted_on, milestone=MilestoneCode.arrival, field="accepted_on"
            )
        elif not completion.comment.strip():
            raise Refused(422, "Describe the defect.")
        return "confirm_acceptance", AcceptanceOutcome(
            todo_key=todo.key,
            actor=actor,
            outcome=completion.outcome,
            accepted_on=completion.accepted_on if completion.outcome == "accepted" else None,
            signed_by=completion.signed_by.strip(),
            comment=completion.comment.strip(),
        )
    if kind == TodoKind.handle_exception:
        if not completion.resolution.strip():
            raise Refused(422, "Say how the exception was resolved.")
        return "handle_exception", ExceptionResolution(
            todo_key=todo.key,
            actor=actor,
            resolution=completion.resolution.strip(),
            reship=completion.reship,
        )
    raise Refused(409, "The order could not take this step.")


def utc_today() -> date:
    return datetime.now(UTC).date()


def refuse_date(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise Refused.of(422, refusal)


def refuse_done_date(value: date, *, milestone: str, field: str = "actual_date") -> None:
    """A day something was done: not absurdly far back. Whether it is in the future is the
    workflow's to say, on the engine's clock."""
    refuse_date(
        done_date_refusal(value, milestone=milestone, today=max(value, utc_today()), field=field)
    )


def milestone_codes(order: Order) -> tuple[MilestoneCode, ...]:
    """The milestones of the order's shipping mode, in the order they happen."""
    return MILESTONES[ShippingMode(order.shipping_mode)]


def order_milestone(order: Order, raw: str) -> MilestoneCode:
    """The milestone named by `raw`, if the order's shipping mode has it (422 otherwise)."""
    try:
        code = MilestoneCode(raw.strip())
    except ValueError as error:
        raise Refused(422, "There is no milestone %(code)s.", code=raw) from error
    if code not in milestone_codes(order):
        raise Refused(
            422, "Order %(number)s has no milestone %(code)s.", number=order.number, code=code
        )
    return code


def confirmable_milestone(order: Order, raw: str) -> MilestoneCode:
    """A milestone that ops confirm themselves: not dispatch (the warehouse confirms it) nor
    arrival (its own to-do, or the customer's link)."""
    code = order_milestone(order, raw)
    if code == MilestoneCode.dispatch:
        raise Refused(422, "Dispatch is confirmed by the warehouse, with carrier and tracking.")
    if code == MilestoneCode.arrival:
        raise Refused(422, "Arrival is confirmed by its to-do.")
    return code


def planned_milestones(order: Order, completion: TodoCompletion) -> list[PlannedMilestone]:
    """Every milestone of the order's shipping mode with its planned date, in their order."""
    dates: dict[MilestoneCode, date] = {}
    for given in completion.milestones or []:
        code = order_milestone(order, given.code)
        if code in dates:
            raise Refused(422, "Milestone %(code)s is given twice.", code=code)
        if given.planned_date is None:
            raise Refused(422, "Give a planned date for milestone %(code)s.", code=code)
        refuse_date(planned_date_refusal(given.planned_date, milestone=code, today=utc_today()))
        dates[code] = given.planned_date
    for code in milestone_codes(order):
        if code not in dates:
            raise Refused(422, "Give a planned date for milestone %(code)s.", code=code)
    return [PlannedMilestone(code=c, planned_date=dates[c]) for c in milestone_codes(order)]


async def _send_update(
    client: Client,
    to_workflow: str,
    update: str,
    argument: BaseModel,
    *,
    gone: Refused,
    update_id: str | None = None,
) -> TodoDone:
    """Send a person's decision to a workflow under the action's update id; its validator's
    refusal comes back with the HTTP status of its kind, `gone` when the workflow is no longer
    running."""
    handle = client.get_workflow_handle(to_workflow)
    update_id = update_id or action_id(update, argument)
    try:
        try:
            done: TodoDone = await handle.execute_update(
                update, argument, id=update_id, result_type=TodoDone
            )
        except WorkflowUpdateFailedError:
            # The database's checks passed and the workflow refused. A worker's cached copy of
            # the workflow can be ahead of its history: an earlier delivery of this action ran
            # its handler in a workflow task the engine lost when it died (seen once in the
            # fault test: a to-do open in the database, "no longer open" in the copy). A signal
            # makes the worker take a real workflow task, which brings the copy back in line
            # with the history; then the validator is asked once more, and a refusal stands.
            await handle.signal("refresh")
            done = await handle.execute_update(update, argument, id=update_id, result_type=TodoDone)
        return done
    except WorkflowUpdateFailedError as failure:
        raise _refusal_of(failure) from failure
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:  # its workflow has already ended
            raise gone from error
        raise Refused(503, "The workflow engine is not reachable; try again shortly.") from error


def _refusal_of(failure: WorkflowUpdateFailedError) -> Refused:
    cause = failure.cause
    if isinstance(cause, ApplicationError):
        # the workflow's message is a template with no fields
        return Refused(REFUSAL_STATUS.get(cause.type or "", 409), cause.message.replace("%", "%%"))
    return Refused(409, "The order could not take this step.")


# -- fulfilment: what people do to an order's shipment outside their to-dos ---------------------


def may_raise_exception(user: User, order: Order) -> bool:
    return Role(user.role) in EXCEPTION_ROLES or order.owner_id == user.id


def may_steer_shipment(user: User) -> bool:
    """Confirm and re-plan milestones, release a held shipment: operations."""
    return Role(user.role) in SHIPMENT_ROLES


def require_shipment(order: Order) -> None:
    if order.shipment_status is None:
        raise Refused(409, "Order %(number)s has no shipment yet.", number=order.number)


def require_steering(user: User, refusal: str) -> None:
    if not may_steer_shipment(user):
        raise Refused(403, refusal)


def _shipment_gone(order: Order) -> Refused:
    return Refused(409, "The shipment of order %(number)s is not running.", number=order.number)


async def raise_exception(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    report: ExceptionRequest,
    client: Client,
    idempotency_key: str | None = None,
) -> TodoDone:
    """Something is wrong after dispatch (damaged, missing parts, replacement, reshipment):
    the shipment opens a to-do for ops to handle it. The same report sent again (same fields
    and idempotency key) is the same exception."""
    if not may_raise_exception(user, order):
        raise Refused(403, "Exceptions are raised by operations, service or the order's owner.")
    require_shipment(order)
    if order.shipment_status == ACCEPTED:
        raise Refused(409, "The customer has accepted the order.")
    if not await was_dispatched(session=session, order=order):
        raise Refused(409, "Nothing has been dispatched yet.")
    try:
        kind = ExceptionKind(report.kind.strip())
        if kind not in RAISABLE_EXCEPTIONS:
            raise ValueError(kind)
    except ValueError as error:
        allowed = ", ".join(k.value for k in RAISABLE_EXCEPTIONS)
        raise Refused(422, "The kind must be one of: %(allowed)s.", allowed=allowed) from error
    description = report.description.strip()
    if not description:
        raise Refused(422, "Describe what went wrong.")
    actor = await actor_for(session=session, user=user)
    report_in = ExceptionReport(actor=actor, kind=kind, description=description)
    return await _send_update(
        client,
        shipment_workflow_id(order.number),
        "raise_exception",
        report_in,
        gone=_shipment_gone(order),
        update_id=action_id("raise_exception", report_in, idempotency_key),
    )


async def _open_milestone(*, session: AsyncSession, order: Order, code: MilestoneCode) -> None:
    """409 unless the milestone is planned and not done yet."""
    milestone = await milestone_of(session=session, order=order, code=code.value)
    if milestone is None:
        raise Refused(409, "The shipment is not planned yet.")
    if milestone.actual_on is not None:
        raise Refused(409, "Milestone %(code)s is already done.", code=code)


async def confirm_milestone(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    code: str,
    done: MilestoneDone,
    client: Client,
) -> TodoDone:
    """Ops confirm a milestone from the order page (not dispatch, not arrival)."""
    require_steering(user, "Only business operations confirm milestones.")
    require_shipment(order)
    milestone = confirmable_milestone(order, code)
    if done.actual_date is None:
        raise Refused(422, "Give the date the milestone was done.")
    refuse_done_date(done.actual_date, milestone=milestone)
    actor = await actor_for(session=session, user=user)
    confirmation = MilestoneConfirmation(actor=actor, code=milestone, actual_date=done.actual_date)
    to_workflow = shipment_workflow_id(order.number)
    update_id = action_id("confirm_milestone", confirmation)
    refusal = None
    try:
        await _open_milestone(session=session, order=order, code=milestone)
    except Refused as done:  # perhaps by this very confirmation, sent again
        refusal = done
    return await send_action(
        client,
        to_workflow,
        "confirm_milestone",
        confirmation,
        update_id=update_id,
        gone=_shipment_gone(order),
        refusal=refusal,
    )


async def replan_milestone(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    code: str,
    replan: MilestoneNewDate,
    client: Client,
) -> TodoDone:
    """Ops move a milestone not yet done to a new planned date, saying why."""
    require_steering(user, "Only business operations re-plan milestones.")
    require_shipment(order)
    milestone = order_milestone(order, code)
    if replan.planned_date is None:
        raise Refused(422, "Give the new planned date.")
    refuse_date(planned_date_refusal(replan.planned_date, milestone=milestone, today=utc_today()))
    reason = replan.reason.strip()
    if not reason:
        raise Refused(422, "Say why the date moves.")
    await _open_milestone(session=session, order=order, code=milestone)
    actor = await actor_for(session=session, user=user)
    return await _send_update(
        client,
        shipment_workflow_id(order.number),
        "replan_milestone",
        MilestoneReplan(
            actor=actor, code=milestone, planned_date=replan.planned_date, reason=reason
        ),
        gone=_shipment_gone(order),
    )


async def release_hold(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    release: HoldReleaseRequest,
    client: Client,
) -> TodoDone:
    """Ops let a shipment held for its deposit go ahead, saying why."""
    require_steering(user, "Only business operations release a hold.")
    require_shipment(order)
    reason = release.reason.strip()
    if not reason:
        raise Refused(422, "Say why the hold is released.")
    actor = await actor_for(session=session, user=user)
    hold_release = HoldRelease(actor=actor, reason=reason)
    to_workflow = shipment_workflow_id(order.number)
    update_id = action_id("release_hold", hold_release)
    return await send_action(
        client,
        to_workflow,
        "release_hold",
        hold_release,
        update_id=update_id,
        gone=_shipment_gone(order),
        # released: perhaps by this very release, sent again
        refusal=Refused(409, "This shipment is not held.")
        if order.shipment_status != HELD
        else None,
    )


def may_see_shipment_queue(user: User) -> bool:
    return Role(user.role) in SHIPMENT_QUEUE_ROLES


async def shipment_queue(
    *, session: AsyncSession, user: User, status: str | None = None
) -> list[QueueItem]:
    """The "awaiting shipment" queue: `awaiting` (ready for dispatch), `held` (waiting for
    the deposit), or both (any other status)."""
    if not may_see_shipment_queue(user):
        raise Refused(403, "The shipment queue is for the warehouse and business operations.")
    statuses = QUEUE_STATUSES.get(status or "", (AWAITING_DISPATCH, HELD))
    return await awaiting_shipment(session=session, user=user, statuses=statuses)


async def route_again(*, session: AsyncSession, user: User, order: Order, client: Client) -> Order:
    """Admin asks an order that no one could approve to route its approval again (after fixing
    the policy, a manager or a user); the workflow reloads policy and facts and tries. Returns
    the order as it stands afterwards: routed (no reason), or still unroutable."""
    if Role(user.role) != Role.admin:
        raise Refused(403, "Only an administrator can route an order again.")
    if order.unroutable_reason is None:  # a request sent again finds it routed: it says so
        raise Refused(409, "Order %(number)s is not waiting for a route.", number=order.number)
    actor = await actor_for(session=session, user=user)
    await _send_update(
        client,
        workflow_id(order.number),
        "route_again",
        RouteAgain(actor=actor),
        gone=Refused(409, "The workflow of order %(number)s is not running.", number=order.number),
        # one action per time the order fell off its route
        update_id=action_id(f"route_again/{order.number}", actor, order.unroutable_at),
    )
    # The update returns once the attempt is made: the order is routed (off the list) or back on
    # the list with the reason.
    await session.refresh(order, ["stage", "unroutable_reason", "unroutable_at"])
    return order
