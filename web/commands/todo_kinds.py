"""One declaration per to-do kind: who may complete it, its outcomes, the input model its
workflow update takes (whose own check the update's validator runs too), the update itself, and
how a person's completion becomes that input. `web.commands.todos.complete_todo` reads nothing
else; adding a kind means its declaration here, its workflow handler, its activity, its template
and its tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import (
    COSTS_REJECTED_WITHOUT_REASON,
    OWN_CANCELLATION,
    REJECTED_WITHOUT_REASON,
    VARIANCE_REJECTED_WITHOUT_REASON,
    AcceptanceOutcome,
    ArrivalConfirmation,
    CancellationDecision,
    CostEstimate,
    CostRecording,
    CreditNoteIssue,
    Decision,
    DispatchConfirmation,
    EstimateCompletion,
    ExceptionResolution,
    InvoiceDecision,
    MilestoneCode,
    MilestoneConfirmation,
    PaymentDecision,
    PlanShipment,
    RefundConfirmation,
    Refusal,
    ReturnReceipt,
    RevisionOutcome,
    TodoKind,
    VarianceReview,
)
from models.domain.changes import OWN_CHANGE
from models.domain.returns import OWN_RETURN
from models.queries.cancellation import number_taken
from models.tables import Order, Refund, Todo
from web.commands.actions import Refused, UpdateMethod
from web.commands.completion import Completing, cost_items
from web.commands.dispatch import dispatch_of, dispatch_state
from web.commands.fulfilment import (
    confirmable_milestone,
    milestone_codes,
    out_of_turn,
    planned_milestones,
    refuse_done_date,
    utc_today,
)
from web.schemas.todos import COMPLETIONS
from workflows.approval import ApprovalWorkflow
from workflows.collection import CollectionWorkflow
from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow

A = TypeVar("A", bound=BaseModel)


@dataclass(frozen=True)
class TodoKindDeclaration(Generic[A]):
    """Everything particular to one kind of to-do."""

    kind: TodoKind
    # The input model of its update, built from a completion (422 for what cannot be built).
    argument: type[A]
    build: Callable[[Completing], A]
    # The workflow update it sends, to the workflow that opened the to-do.
    update: UpdateMethod[A]
    # The input model's own check, the one the update's validator runs too.
    check: Callable[[A, Completing], Refusal | None] = lambda argument, completing: None
    # Who may complete it: the people it is assigned to, and never the order's owner if set.
    not_by_owner: bool = False
    # What the database says against it besides (the invoice number is taken).
    state: Callable[[AsyncSession, A], Awaitable[Refused | None]] | None = None
    # What the order's records say against it (an earlier milestone is not done yet).
    order_state: Callable[[AsyncSession, Order, A], Awaitable[Refused | None]] | None = None

    @property
    def body(self) -> type[BaseModel]:
        """Its completion as the API documents it (one branch of TodoCompletionIn)."""
        return COMPLETIONS[self.kind.value]

    @property
    def allowed_outcomes(self) -> tuple[str, ...]:
        """Its outcomes, as its body names them."""
        outcomes: tuple[str, ...] = get_args(self.body.model_fields["outcome"].annotation)
        return outcomes

    def argument_for(self, completing: Completing) -> A:
        """The update's input for this completion, once its fields are checked (422 with what
        is wrong), by the same check the workflow's validator runs."""
        if completing.given.outcome not in self.allowed_outcomes:
            allowed = ", ".join(sorted(self.allowed_outcomes))
            raise Refused(422, "The outcome must be one of: %(allowed)s.", allowed=allowed)
        argument = self.build(completing)
        if refusal := self.check(argument, completing):
            raise Refused.of(422, refusal)
        return argument


# -- how each kind's input is built from a completion --------------------------------------------


def _estimate(c: Completing) -> EstimateCompletion:
    if not c.given.lines:
        raise Refused(422, "Give a unit cost for every line.")
    estimate = CostEstimate(
        lines=c.given.lines,
        freight=c.given.freight,
        installation=c.given.installation,
        other=c.given.other,
    )
    return EstimateCompletion(todo_key=c.todo.key, actor=c.actor, estimate=estimate)


def _decision(c: Completing) -> Decision:
    return Decision(todo_key=c.todo.key, actor=c.actor, outcome=c.given.outcome, comment=c.comment)


def _approval(c: Completing) -> Decision:
    # an approver's comment is kept as written
    return Decision(
        todo_key=c.todo.key, actor=c.actor, outcome=c.given.outcome, comment=c.given.comment
    )


def _revision(c: Completing) -> RevisionOutcome:
    return RevisionOutcome(
        todo_key=c.todo.key, actor=c.actor, outcome=c.given.outcome, comment=c.given.comment
    )


def _plan(c: Completing) -> PlanShipment:
    milestones = planned_milestones(c.order, c.given.milestones or [])
    return PlanShipment(todo_key=c.todo.key, actor=c.actor, milestones=milestones)


def _planned_in_order(plan: PlanShipment, c: Completing) -> Refusal | None:
    return plan.refusal(expected=milestone_codes(c.order), today=utc_today())


def _milestone(c: Completing) -> MilestoneConfirmation:
    raw = c.given.code.strip() or str((c.todo.facts or {}).get("code") or "")
    if not raw:
        raise Refused(422, "Say which milestone is done.")
    code = confirmable_milestone(c.order, raw)
    if c.given.actual_date is None:
        raise Refused(422, "Give the date the milestone was done.")
    refuse_done_date(c.given.actual_date, milestone=code)
    return MilestoneConfirmation(
        actor=c.actor, code=code, actual_date=c.given.actual_date, todo_key=c.todo.key
    )


async def _milestone_in_turn(
    session: AsyncSession, order: Order, confirmation: MilestoneConfirmation
) -> Refused | None:
    return await out_of_turn(session=session, order=order, code=confirmation.code)


async def _arrival_in_turn(
    session: AsyncSession, order: Order, arrival: ArrivalConfirmation
) -> Refused | None:
    return await out_of_turn(session=session, order=order, code=MilestoneCode.arrival)


def _arrival(c: Completing) -> ArrivalConfirmation:
    if c.given.actual_date is None:
        raise Refused(422, "Give the date the goods arrived.")
    refuse_done_date(c.given.actual_date, milestone=MilestoneCode.arrival)
    return ArrivalConfirmation(actual_date=c.given.actual_date, actor=c.actor, todo_key=c.todo.key)


def _acceptance(c: Completing) -> AcceptanceOutcome:
    accepted = c.given.outcome == "accepted"
    if accepted and c.given.accepted_on is not None:
        refuse_done_date(c.given.accepted_on, milestone=MilestoneCode.arrival, field="accepted_on")
    return AcceptanceOutcome(
        todo_key=c.todo.key,
        actor=c.actor,
        outcome=c.given.outcome,
        accepted_on=c.given.accepted_on if accepted else None,
        signed_by=c.given.signed_by.strip(),
        comment=c.comment,
    )


def _resolution(c: Completing) -> ExceptionResolution:
    return ExceptionResolution(
        todo_key=c.todo.key,
        actor=c.actor,
        resolution=c.given.resolution.strip(),
        reship=c.given.reship,
    )


def _payment(c: Completing) -> PaymentDecision:
    return PaymentDecision(
        actor=c.actor, todo_key=c.todo.key, outcome=c.given.outcome, comment=c.comment
    )


def _invoice(c: Completing) -> InvoiceDecision:
    return InvoiceDecision(
        actor=c.actor,
        todo_key=c.todo.key,
        outcome=c.given.outcome,
        invoice_number=c.given.invoice_number.strip(),
        comment=c.comment,
    )


async def _invoice_number_taken(session: AsyncSession, decision: InvoiceDecision) -> Refused | None:
    if decision.outcome != "issued":
        return None
    number = decision.invoice_number
    if not await number_taken(session, number):  # invoices and credit notes share numbers
        return None
    return Refused(422, "Invoice number %(number)s is already used.", number=number)


def _costs(c: Completing) -> CostRecording:
    return CostRecording(
        actor=c.actor, todo_key=c.todo.key, items=cost_items(c.given.items), final=c.given.final
    )


def _review(c: Completing) -> VarianceReview:
    return VarianceReview(
        actor=c.actor, todo_key=c.todo.key, explanation=c.given.explanation.strip()
    )


def _explained(review: VarianceReview, c: Completing) -> Refusal | None:
    facts = c.todo.facts or {}
    threshold = str(facts.get("threshold", ""))
    return review.refusal(above_threshold=bool(facts.get("above_threshold")), threshold=threshold)


def _own_check(argument: Any, completing: Completing) -> Refusal | None:
    """The input model's check that needs nothing but the input."""
    refusal: Refusal | None = argument.refusal()
    return refusal


def _reason(message: str) -> Callable[[Decision, Completing], Refusal | None]:
    return lambda decision, completing: decision.refusal(reason_missing=message)


def _cancellation_decision(c: Completing) -> CancellationDecision:
    return CancellationDecision(
        todo_key=c.todo.key, actor=c.actor, outcome=c.given.outcome, comment=c.comment
    )


async def _own_cancellation(
    session: AsyncSession, decision: CancellationDecision
) -> Refused | None:
    asked_by = await session.scalar(
        select(Todo.requested_by_id).where(Todo.key == decision.todo_key)
    )
    if asked_by == decision.actor.user_id:
        return Refused(403, OWN_CANCELLATION)
    return None


def _refund(c: Completing) -> RefundConfirmation:
    if c.given.paid_on is None:
        raise Refused(422, "Give the date the money was paid back.")
    return RefundConfirmation(
        todo_key=c.todo.key,
        actor=c.actor,
        amount=c.given.amount,
        paid_on=c.given.paid_on,
        method=c.given.method.strip(),
        reference=c.given.reference.strip(),
    )


async def _own_change(session: AsyncSession, decision: Decision) -> Refused | None:
    """Whoever asked for a change does not approve it (the to-do names them as its asker)."""
    asked_by = await session.scalar(
        select(Todo.requested_by_id).where(Todo.key == decision.todo_key)
    )
    if asked_by == decision.actor.user_id:
        return Refused(403, OWN_CHANGE)
    return None


async def _own_return(session: AsyncSession, decision: Decision) -> Refused | None:
    """Whoever asked for a return does not approve it (the to-do names them as its asker)."""
    asked_by = await session.scalar(
        select(Todo.requested_by_id).where(Todo.key == decision.todo_key)
    )
    if asked_by == decision.actor.user_id:
        return Refused(403, OWN_RETURN)
    return None


def _receipt(c: Completing) -> ReturnReceipt:
    return ReturnReceipt(
        todo_key=c.todo.key,
        actor=c.actor,
        lines=c.given.received or [],
        close_rest=c.given.close_rest,
        close_reason=c.given.close_reason.strip(),
    )


async def _refund_room(session: AsyncSession, refund: RefundConfirmation) -> Refused | None:
    """A refund to-do asks for what is left of the money received: no more may be refunded."""
    due = await session.scalar(select(Refund.due).where(Refund.todo_key == refund.todo_key))
    if due is None or (refusal := refund.room_refusal(due)) is None:
        return None
    return Refused.of(422, refusal)


def _credit_note(c: Completing) -> CreditNoteIssue:
    return CreditNoteIssue(
        todo_key=c.todo.key, actor=c.actor, credit_note_number=c.given.credit_note_number.strip()
    )


async def _credit_note_number_taken(
    session: AsyncSession, issue: CreditNoteIssue
) -> Refused | None:
    if not await number_taken(session, issue.credit_note_number):
        return None
    return Refused(
        422, "Credit note number %(number)s is already used.", number=issue.credit_note_number
    )


# -- the declarations ----------------------------------------------------------------------------

TODO_KINDS: dict[TodoKind, TodoKindDeclaration[Any]] = {
    declared.kind: declared
    for declared in (
        TodoKindDeclaration(
            TodoKind.estimate_cost,
            EstimateCompletion,
            _estimate,
            OrderWorkflow.estimate_cost,
        ),
        TodoKindDeclaration(
            TodoKind.approve,
            Decision,
            _approval,
            ApprovalWorkflow.decide,
            check=_reason(REJECTED_WITHOUT_REASON),
            not_by_owner=True,
        ),
        TodoKindDeclaration(TodoKind.revise, RevisionOutcome, _revision, OrderWorkflow.revise),
        TodoKindDeclaration(
            TodoKind.plan_shipment,
            PlanShipment,
            _plan,
            ShipmentWorkflow.plan,
            check=_planned_in_order,
        ),
        TodoKindDeclaration(
            TodoKind.replan_shipment,
            PlanShipment,
            _plan,
            ShipmentWorkflow.replan_shipment,
            check=_planned_in_order,
        ),
        TodoKindDeclaration(
            TodoKind.confirm_dispatch,
            DispatchConfirmation,
            dispatch_of,
            ShipmentWorkflow.confirm_dispatch,
            check=_own_check,
            order_state=dispatch_state,
        ),
        TodoKindDeclaration(
            TodoKind.confirm_milestone,
            MilestoneConfirmation,
            _milestone,
            ShipmentWorkflow.confirm_milestone,
            check=_own_check,
            order_state=_milestone_in_turn,
        ),
        TodoKindDeclaration(
            TodoKind.confirm_arrival,
            ArrivalConfirmation,
            _arrival,
            ShipmentWorkflow.confirm_arrival,
            order_state=_arrival_in_turn,
        ),
        TodoKindDeclaration(
            TodoKind.confirm_acceptance,
            AcceptanceOutcome,
            _acceptance,
            ShipmentWorkflow.confirm_acceptance,
            check=_own_check,
        ),
        TodoKindDeclaration(
            TodoKind.handle_exception,
            ExceptionResolution,
            _resolution,
            ShipmentWorkflow.handle_exception,
            check=_own_check,
        ),
        TodoKindDeclaration(
            TodoKind.confirm_payment,
            PaymentDecision,
            _payment,
            CollectionWorkflow.decide_payment,
            check=_own_check,
        ),
        TodoKindDeclaration(
            TodoKind.issue_invoice,
            InvoiceDecision,
            _invoice,
            OrderWorkflow.decide_invoice,
            check=_own_check,
            state=_invoice_number_taken,
        ),
        TodoKindDeclaration(
            TodoKind.record_actual_costs,
            CostRecording,
            _costs,
            OrderWorkflow.record_actual_costs,
            check=_own_check,
        ),
        TodoKindDeclaration(
            TodoKind.approve_actual_costs,
            Decision,
            _decision,
            OrderWorkflow.approve_actual_costs,
            check=_reason(COSTS_REJECTED_WITHOUT_REASON),
        ),
        TodoKindDeclaration(
            TodoKind.review_variance,
            VarianceReview,
            _review,
            OrderWorkflow.review_variance,
            check=_explained,
        ),
        TodoKindDeclaration(
            TodoKind.approve_variance,
            Decision,
            _decision,
            OrderWorkflow.approve_variance,
            check=_reason(VARIANCE_REJECTED_WITHOUT_REASON),
        ),
        TodoKindDeclaration(
            TodoKind.approve_cancellation,
            CancellationDecision,
            _cancellation_decision,
            OrderWorkflow.approve_cancellation,
            check=_own_check,
            state=_own_cancellation,
        ),
        TodoKindDeclaration(
            TodoKind.confirm_refund,
            RefundConfirmation,
            _refund,
            OrderWorkflow.confirm_refund,
            check=_own_check,
            state=_refund_room,
        ),
        TodoKindDeclaration(
            TodoKind.issue_credit_note,
            CreditNoteIssue,
            _credit_note,
            OrderWorkflow.issue_credit_note,
            check=_own_check,
            state=_credit_note_number_taken,
        ),
        TodoKindDeclaration(
            TodoKind.approve_change,
            Decision,
            _approval,
            ApprovalWorkflow.decide,
            check=_reason(REJECTED_WITHOUT_REASON),
            not_by_owner=True,
            state=_own_change,
        ),
        TodoKindDeclaration(
            TodoKind.approve_return,
            Decision,
            _approval,
            ApprovalWorkflow.decide,
            check=_reason(REJECTED_WITHOUT_REASON),
            not_by_owner=True,
            state=_own_return,
        ),
        TodoKindDeclaration(
            TodoKind.receive_return,
            ReturnReceipt,
            _receipt,
            OrderWorkflow.receive_return,
            check=_own_check,
        ),
    )
}
# A collect to-do closes by itself once its installment is paid: no one completes it.
CLOSES_BY_ITSELF = frozenset({TodoKind.collect})
