"""OrderWorkflow's cancellation: at once before confirmation, approved after it; then the
children end, money received is refunded and issued invoices credited, and the order ends."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

from models.domain import (
    ALREADY_CANCELLED,
    BEFORE_CONFIRMATION,
    CANCELLATION_PENDING,
    NOT_CANCELLABLE_AFTER_DISPATCH,
    NOT_CANCELLABLE_CLOSED,
    NOT_CANCELLABLE_IN_REVIEW,
    ONLY_OWNER_OR_MANAGER,
    OWN_CANCELLATION,
    Actor,
    Assignee,
    CancellationDecision,
    CancellationStep,
    CancellationStepResult,
    CancelOrder,
    CreditNoteIssue,
    DepartmentLink,
    OrderResult,
    RefundConfirmation,
    Refusal,
    Stage,
    TodoDone,
    TodoKind,
)
from workflows.activity_refs import CancellationSteps
from workflows.order_state import DELAYED, OUTSTANDING, OVERDUE, OrderState
from workflows.refusals import INVALID, NOT_ASSIGNEE, NOT_OPEN, SELF_APPROVAL, refuse_if
from workflows.rules import ZERO

with workflow.unsafe.imports_passed_through():
    # The child runs in a sandbox of its own; the order only names its signal.
    from workflows.collection import CollectionWorkflow

# Stages in which the goods have left: a return comes before any cancellation.
AFTER_DISPATCH = frozenset({Stage.acceptance, Stage.collection, Stage.cost_review})
# ... which a cancellation takes back through a return of everything dispatched (not once the
# cost review began).
TAKEN_BACK_IN = frozenset({Stage.fulfilment, Stage.acceptance, Stage.collection})
NO_APPROVER = "No manager above the owner can approve this cancellation."
# Cancellations asked for before this patch were approved by the manager alone.
CANCELLATION_DIRECTOR = "cancellation-director"


def cancellation_approver(
    chain: Sequence[DepartmentLink], *, owner_id: int, requester_id: int
) -> Assignee | None:
    """The manager of the nearest department, from the owner's up the tree, who is neither the
    owner nor the one asking: nobody approves their own cancellation."""
    for link in chain:
        if link.manager_id is not None and link.manager_id not in (owner_id, requester_id):
            return Assignee(department_id=link.department_id)
    return None


class OrderCancellation(OrderState):
    """The cancel update (with its reason), approve_cancellation after confirmation, and
    finance's confirm_refund and issue_credit_note."""

    # -- asked ---------------------------------------------------------------------------------

    @workflow.update
    async def cancel(self, request: CancelOrder) -> TodoDone:
        self.cancellations += 1
        if self.stage in BEFORE_CONFIRMATION:
            return await self._cancel_at_once(request, self.cancellations)
        return await self._ask_to_cancel(request, self.cancellations)

    @cancel.validator
    def validate_cancel(self, request: CancelOrder) -> None:
        refuse_if(request.refusal())
        if self.facts is None:  # the run's first step has not loaded the order yet
            raise ApplicationError("The order is being submitted; try again.", type=NOT_OPEN)
        if not self._owner_or_manager(request.actor):
            raise ApplicationError(ONLY_OWNER_OR_MANAGER, type=NOT_ASSIGNEE)
        if self.halted or self.cancel_approved or self.stage == Stage.cancelled:
            raise ApplicationError(ALREADY_CANCELLED, type=NOT_OPEN)
        if self.cancellation is not None:
            raise ApplicationError(CANCELLATION_PENDING, type=NOT_OPEN)
        if self.closed or self.stage == Stage.closed:
            raise ApplicationError(NOT_CANCELLABLE_CLOSED, type=NOT_OPEN)
        # After dispatch the goods come back through a return first (OrderReturns), until the
        # cost review.
        shipped = self.dispatched or self.stage in AFTER_DISPATCH
        in_transit_or_after = shipped and self.stage in TAKEN_BACK_IN
        if shipped and self.stage == Stage.cost_review:
            raise ApplicationError(NOT_CANCELLABLE_IN_REVIEW, type=NOT_OPEN)
        if shipped and not (in_transit_or_after and self._returns_take_back()):
            raise ApplicationError(NOT_CANCELLABLE_AFTER_DISPATCH, type=NOT_OPEN)
        refuse_if(self._open_return_refusal(), type=NOT_OPEN)
        if self.stage not in BEFORE_CONFIRMATION and not (
            self.stage == Stage.fulfilment or in_transit_or_after
        ):
            raise ApplicationError("The order is being confirmed; try again.", type=NOT_OPEN)
        after_confirmation = self.stage not in BEFORE_CONFIRMATION
        if after_confirmation and self._approver(request.actor) is None:
            raise ApplicationError(NO_APPROVER, type=INVALID)

    def _approver(self, requester: Actor) -> Assignee | None:
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return cancellation_approver(
            self.facts.department_chain,
            owner_id=self.facts.owner_id,
            requester_id=requester.user_id,
        )

    def _step(self, name: str, number: int, **fields: object) -> CancellationStep:
        wid = workflow.info().workflow_id
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return CancellationStep(
            order_id=self.facts.order_id,
            workflow_id=wid,
            step_key=f"{wid}/cancel/{number}/{name}",
            number=number,
            **fields,
        )

    async def _cancel_at_once(self, request: CancelOrder, number: int) -> TodoDone:
        """Before confirmation: the run stops where it waits (a running approval round is
        withdrawn), then one step cancels the order and its to-dos and tells the people
        concerned. Should the last approval confirm the order meanwhile, it is asked for."""
        self.cancellation = request
        await workflow.wait_condition(lambda: self.halted or self.stage not in BEFORE_CONFIRMATION)
        if not self.halted:
            self.cancellation = None
            return await self._ask_to_cancel(request, number)
        result = await self.steps.run(
            CancellationSteps.cancel_order,
            self._step(
                "cancelled",
                number,
                actor_id=request.actor.user_id,
                reason_code=request.reason_code.strip(),
                reason=request.reason.strip(),
            ),
        )
        self.todos.discard_all()
        return TodoDone(todo_key="", stage=result.stage or Stage.cancelled)

    async def _ask_to_cancel(self, request: CancelOrder, number: int) -> TodoDone:
        """After confirmation: the owner's department manager approves it; the warehouse holds
        the dispatch meanwhile."""
        self.cancellation = request
        self.cancel_todo = f"{workflow.info().workflow_id}/cancel/{number}/approve"
        await self._signal_shipment("hold_for_cancellation", True)
        asked = await self.steps.run(
            CancellationSteps.request_cancellation,
            self._step(
                "requested",
                number,
                actor_id=request.actor.user_id,
                reason_code=request.reason_code.strip(),
                reason=request.reason.strip(),
                todo_key=self.cancel_todo,
                approver=self._approver(request.actor),
            ),
        )
        # The approval policy may give the director a step after the manager's.
        self.cancel_directors = asked.directors
        return TodoDone(todo_key=self.cancel_todo, stage=self.stage)

    async def _signal_shipment(self, signal: str, *args: bool) -> None:
        """Tell the shipment (it may have ended, or not be started yet: no matter)."""
        shipment = workflow.get_external_workflow_handle(f"{workflow.info().workflow_id}/shipment")
        with contextlib.suppress(FailureError):
            await shipment.signal(signal, args=args)

    # -- approved or rejected ------------------------------------------------------------------

    @workflow.update
    async def approve_cancellation(self, decision: CancellationDecision) -> TodoDone:
        self.todos.take(decision.todo_key, decision.actor)
        self.cancel_todo = None
        number = self.cancellations
        if (
            decision.outcome == "approve"
            and self.cancel_directors
            and workflow.patched(CANCELLATION_DIRECTOR)
        ):
            return await self._forward_to_director(decision, number)
        self.cancel_directors = []
        step = self._step(
            "decided",
            number,
            actor_id=decision.actor.user_id,
            todo_key=decision.todo_key,
            outcome=decision.outcome,
            comment=decision.reason,
            next_refund_key=self._next_refund_key(number),
            goods_back=self.dispatched,
        )
        if decision.outcome == "reject":
            self.cancellation = None
            await self._signal_shipment("hold_for_cancellation", False)
            await self.steps.run(CancellationSteps.decide_cancellation, step)
            return TodoDone(todo_key=decision.todo_key, stage=self.stage)
        self.cancel_approved = True
        await self._end_children()
        result = await self.steps.run(CancellationSteps.decide_cancellation, step)
        self._undo_from(result)
        self._enter(Stage.cancelled)
        workflow.upsert_search_attributes(
            [OUTSTANDING.value_set(0.0), OVERDUE.value_set(False), DELAYED.value_set(False)]
        )
        if self.dispatched:  # the goods come back first (the return of everything dispatched)
            await self._take_back_goods(decision.actor.user_id)
        return TodoDone(todo_key=decision.todo_key, stage=Stage.cancelled)

    async def _forward_to_director(self, decision: CancellationDecision, number: int) -> TodoDone:
        """The manager approved; the director decides next (their approval cancels the order,
        their rejection leaves it running, as the manager's would)."""
        directors, self.cancel_directors = self.cancel_directors, []
        self.cancel_todo = f"{workflow.info().workflow_id}/cancel/{number}/approve-director"
        await self.steps.run(
            CancellationSteps.forward_cancellation,
            self._step(
                "manager-approved",
                number,
                actor_id=decision.actor.user_id,
                todo_key=decision.todo_key,
                comment=decision.reason,
                directors=directors,
                director_todo_key=self.cancel_todo,
            ),
        )
        return TodoDone(todo_key=decision.todo_key, stage=self.stage)

    @approve_cancellation.validator
    def validate_approve_cancellation(self, decision: CancellationDecision) -> None:
        self.todos.check(decision.todo_key, decision.actor)
        if self.cancellation is not None and decision.actor.user_id == (
            self.cancellation.actor.user_id
        ):
            raise ApplicationError(OWN_CANCELLATION, type=SELF_APPROVAL)
        refuse_if(decision.refusal())
        if decision.outcome == "approve" and self.dispatched and not self._returns_take_back():
            raise ApplicationError(NOT_CANCELLABLE_AFTER_DISPATCH, type=NOT_OPEN)

    async def _end_children(self) -> None:
        """The shipment and the collection end through their own code path (their timers with
        them); the order's own to-dos (invoices, costs) are closed by the approval's step."""
        await self._signal_shipment("withdraw")
        if self.dispatched:  # in transit or with the customer: the goods come back by a return
            await self._signal_shipment("withdraw_after_dispatch")
        if self.collection is not None:
            with contextlib.suppress(FailureError):  # it may have ended: paid in full
                await self.collection.signal(CollectionWorkflow.stop)
        await workflow.wait_condition(lambda: self.shipment_done and self.collection_done)
        self.todos.discard_all()
        self.invoices_pending.clear()
        self.batches_pending.clear()
        self.record_todo = None

    def _undo_from(self, result: CancellationStepResult) -> None:
        self.undo_started = True
        self.refund_room = result.refund_due
        self.credit_notes_pending = {
            todo.key for todo in result.opened if todo.kind == TodoKind.issue_credit_note
        }
        if result.refund_due > ZERO:
            self.refunds = 1

    def _next_refund_key(self, number: int) -> str:
        return f"{workflow.info().workflow_id}/cancel/{number}/refund/{self.refunds + 1}"

    async def _end_cancelled(self) -> OrderResult:
        """The run after an approved cancellation: the collection has stopped; once finance
        have refunded the money and credited the invoices, the order is cancelled."""
        if self.collection is not None:
            await self.collection
        self.collection_done = True
        await workflow.wait_condition(
            lambda: (
                self.undo_started
                and self.refund_room == ZERO
                and not self.credit_notes_pending
                and self._goods_back()
            )
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        number = self.cancellations
        await self.steps.run(CancellationSteps.finish_cancellation, self._step("done", number))
        return await self._finish(Stage.cancelled)

    # -- finance undo the money ----------------------------------------------------------------

    @workflow.update
    async def confirm_refund(self, refund: RefundConfirmation) -> TodoDone:
        self.todos.take(refund.todo_key, refund.actor)
        if self._of_return(refund.todo_key):  # a return's refund (OrderReturns)
            return await self._return_refund(refund)
        number = self.cancellations
        self.refund_room -= refund.amount
        next_key = None
        if self.refund_room > ZERO:  # the rest is another refund
            next_key = self._next_refund_key(number)
            self.refunds += 1
        await self.steps.run(
            CancellationSteps.confirm_refund,
            self._step(
                f"refund/{refund.todo_key.rsplit('/', 1)[1]}",
                number,
                actor_id=refund.actor.user_id,
                todo_key=refund.todo_key,
                amount=refund.amount,
                paid_on=refund.paid_on,
                method=refund.method.strip(),
                reference=refund.reference.strip(),
                next_refund_key=next_key,
            ),
        )
        return TodoDone(todo_key=refund.todo_key, stage=self.stage)

    @confirm_refund.validator
    def validate_confirm_refund(self, refund: RefundConfirmation) -> None:
        self.todos.check(refund.todo_key, refund.actor)
        refuse_if(refund.refusal())
        refuse_if(refund.room_refusal(self._refund_room_of(refund.todo_key)))

    @workflow.update
    async def issue_credit_note(self, issue: CreditNoteIssue) -> TodoDone:
        if self._of_return(issue.todo_key):  # a return's credit note (OrderReturns)
            return await self._return_credit_note(issue)
        todo = self.todos.take(issue.todo_key, issue.actor)
        result = await self.steps.run(
            CancellationSteps.issue_credit_note,
            self._step(
                f"credit-note/{issue.todo_key.rsplit('/', 1)[1]}",
                self.cancellations,
                actor_id=issue.actor.user_id,
                todo_key=issue.todo_key,
                credit_note_number=issue.credit_note_number.strip(),
            ),
        )
        if result.problem:
            self.todos.add([todo])  # nothing changed: the to-do stays open
            raise ApplicationError(result.problem, type=INVALID)
        self.credit_notes_pending.discard(issue.todo_key)
        return TodoDone(todo_key=issue.todo_key, stage=self.stage)

    @issue_credit_note.validator
    def validate_issue_credit_note(self, issue: CreditNoteIssue) -> None:
        self.todos.check(issue.todo_key, issue.actor)
        refuse_if(issue.refusal())

    # -- what a return's refunds and credit notes need (workflows/order_returns.py) ------------

    def _of_return(self, todo_key: str) -> bool:
        """A refund or credit note to-do a return opened (none before returns existed)."""
        return False

    def _refund_room_of(self, todo_key: str) -> Decimal:
        """What a refund to-do may pay back at most: the cancellation's money received."""
        return self.refund_room

    def _returns_take_back(self) -> bool:
        """Goods already dispatched can come back through a return (OrderReturns)."""
        return False

    def _open_return_refusal(self) -> Refusal | None:
        """A return still open refuses the cancellation (OrderReturns)."""
        return None

    async def _take_back_goods(self, actor_id: int) -> None:
        """The return of everything dispatched, for the warehouse to receive (OrderReturns)."""

    def _goods_back(self) -> bool:
        """No goods still to come back before the order is cancelled (OrderReturns)."""
        return True

    async def _return_refund(self, refund: RefundConfirmation) -> TodoDone:
        raise NotImplementedError  # OrderReturns'

    async def _return_credit_note(self, issue: CreditNoteIssue) -> TodoDone:
        raise NotImplementedError  # OrderReturns'
