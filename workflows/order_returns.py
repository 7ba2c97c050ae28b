"""OrderWorkflow's returns: goods that came back after dispatch, asked for by the owner (or a
manager above them), ops or service, approved by the owner's department manager in an
approve_return round (reminders, escalation, e-mail links, no self-approval), then received
by the warehouse (restock or scrap); the money follows: unpaid installments reduced (the
latest first), paid above the new net total refunded, invoiced above it credited."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

from models.domain import (
    CANCELLATION_PENDING,
    RETURNABLE_STAGES,
    ApprovalOutcome,
    ApprovalRoundInput,
    Assignee,
    FieldChange,
    Refusal,
    ReturnReceipt,
    ReturnRequest,
    ReturnRequested,
    ReturnStep,
    Role,
    RouteRequirement,
    RouteStage,
    Stage,
    TodoDone,
    TodoKind,
)
from models.domain.changes import ReplanInstallments
from models.domain.returns import (
    NO_RETURN_APPROVER,
    NOT_DISPATCHED,
    ONLY_OWNER_OPS_SERVICE,
    RETURN_CLOSED_ORDER,
    RETURN_NOT_NOW,
    RETURN_OPEN,
    ReturnStepResult,
    quantity_text,
)
from workflows import rules
from workflows.activity_refs import ReturnSteps
from workflows.order_cancellation import cancellation_approver
from workflows.order_return_money import OrderReturnMoney
from workflows.refusals import INVALID, NOT_ASSIGNEE, NOT_OPEN, refuse_if, refused
from workflows.rules import ZERO

with workflow.unsafe.imports_passed_through():
    # The children run in sandboxes of their own; the order only names their runs and signals.
    from workflows.approval import ApprovalWorkflow
    from workflows.collection import CollectionWorkflow

# Besides the owner and the managers above them, these roles may ask for a return.
RETURN_ROLES = frozenset({Role.ops, Role.service})
RETURN_WITHDRAWN = "The order is cancelled."
# A cancellation after dispatch takes the goods back through a return of everything dispatched
# (issue 17, item 4). Off, it is refused as before returns existed.
TAKE_BACK_ON_CANCELLATION = True
# Returns asked for before this patch were approved by the manager alone (the approval policy's
# return_director_above adds the director's stage after the manager's).
RETURN_DIRECTOR = "return-director"
NO_SUCH_RETURN = "This to-do belongs to no open return of the order."


@dataclass
class ReturnState:
    """A return the workflow carries until its goods are back (or the rest is closed)."""

    requester: int
    receipts: int = 0
    expected: dict[int, Decimal] = field(default_factory=dict)  # per order line
    for_cancellation: bool = False  # everything dispatched, taken back by a cancellation


class OrderReturns(OrderReturnMoney):
    """The request_return and receive_return updates; each return's approval runs beside the
    order's path, in a task of its own, so the request is answered at once. The refunds and
    credit notes a return asks for are finance's confirm_refund and issue_credit_note, as a
    cancellation's are."""

    def __init__(self) -> None:
        super().__init__()
        self.return_number = 0
        self.open_returns: dict[int, ReturnState] = {}
        self.return_tasks: list[asyncio.Task[None]] = []
        self.taking_back = False  # an approved cancellation is opening its return

    # -- asked ---------------------------------------------------------------------------------

    @workflow.update
    async def request_return(self, request: ReturnRequest) -> ReturnRequested:
        self.return_number += 1
        number, requester = self.return_number, request.actor.user_id
        approver = self._return_approver(requester)
        assert approver is not None  # the validator refused a return no one can approve
        self.open_returns[number] = ReturnState(requester=requester)
        recorded = await self.steps.run(
            ReturnSteps.record_return_request,
            self._return_step(
                number, "requested", actor_id=requester, lines=request.lines,
                reason=request.reason.strip(), approver=approver,
            ),
        )  # fmt: skip
        if (refusal := recorded.refusal()) is not None:  # nothing was written
            del self.open_returns[number]
            if self.return_number == number:  # the number is free again (none asked since)
                self.return_number = number - 1
            raise refused(refusal)
        self.open_returns[number].expected = recorded.expected
        self.return_tasks.append(
            asyncio.create_task(
                self._decide_return(number, request, [approver], recorded.directors)
            )
        )
        return ReturnRequested(number=number, stage=self.stage)

    @request_return.validator
    def validate_request_return(self, request: ReturnRequest) -> None:
        refuse_if(request.refusal())
        if self.facts is None:  # the run's first step has not loaded the order yet
            raise ApplicationError("The order is being submitted; try again.", type=NOT_OPEN)
        if request.actor.role not in RETURN_ROLES and not self._owner_or_manager(request.actor):
            raise ApplicationError(ONLY_OWNER_OPS_SERVICE, type=NOT_ASSIGNEE)
        refuse_if(self._cancelling_refusal(), type=NOT_OPEN)
        if self.cancellation is not None:
            raise ApplicationError(CANCELLATION_PENDING, type=NOT_OPEN)
        number = self.facts.number
        if self.closed or self.stage in (Stage.closed, Stage.cancelled):
            refuse_if(Refusal(RETURN_CLOSED_ORDER, number=number), type=NOT_OPEN)
        if self.in_cost_review or self.stage == Stage.cost_review:
            refuse_if(Refusal(RETURN_NOT_NOW, number=number), type=NOT_OPEN)
        if not self.dispatched or self.stage not in RETURNABLE_STAGES:
            refuse_if(Refusal(NOT_DISPATCHED, number=number), type=NOT_OPEN)
        if self._return_approver(request.actor.user_id) is None:
            raise ApplicationError(NO_RETURN_APPROVER, type=INVALID)

    def _return_approver(self, requester: int) -> Assignee | None:
        """The manager of the nearest department from the owner's up, neither the owner nor
        whoever asked."""
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return cancellation_approver(
            self.facts.department_chain, owner_id=self.facts.owner_id, requester_id=requester
        )

    # -- approved or rejected, beside the order's path -----------------------------------------

    async def _decide_return(
        self,
        number: int,
        request: ReturnRequest,
        approver: list[Assignee],
        directors: list[Assignee],
    ) -> None:
        """The approve_return round; approved, the warehouse get receive_return."""
        stages = [approver]
        if directors and workflow.patched(RETURN_DIRECTOR):  # the policy's director, next
            stages.append(directors)
        outcome = await self._return_round(number, request, stages)
        wid = workflow.info().workflow_id
        if outcome.approved:
            decided = await self.steps.run(
                ReturnSteps.decide_return,
                self._return_step(
                    number, "approved", outcome="approve",
                    actor_id=outcome.approver_ids[-1] if outcome.approver_ids else None,
                    todo_key=f"{wid}/return/{number}/receive/1",
                ),
            )  # fmt: skip
            self.open_returns[number].expected = decided.expected
            return
        rejected_by = outcome.rejected_by
        comment = outcome.comment if not outcome.withdrawn else RETURN_WITHDRAWN
        await self.steps.run(
            ReturnSteps.decide_return,
            self._return_step(
                number, "rejected", outcome="reject", actor_id=rejected_by, comment=comment
            ),
        )
        del self.open_returns[number]

    async def _return_round(
        self, number: int, request: ReturnRequest, stages: list[list[Assignee]]
    ) -> ApprovalOutcome:
        """The round's stages: the manager, then (the policy's amount) the director; each
        stage one to-do seen by everyone it names."""
        assert self.facts is not None and self.policy is not None  # loaded at the start
        codes = {line.line_id: line.product_code for line in self.facts.lines}
        asked = [
            FieldChange(
                field=f"returned[{codes.get(line.line_id, line.line_id)}]",
                before="",
                after=quantity_text(line.quantity),
            )
            for line in request.lines
        ]
        reason = request.reason.strip()[:200]
        codes_of_stage = ("return", "return-director")
        route = [
            RouteStage(
                position=position,
                requirements=[
                    RouteRequirement(
                        code=codes_of_stage[position - 1],
                        assignee=deciders[0],
                        also=deciders[1:],
                        reason=reason,
                    )
                ],
            )
            for position, deciders in enumerate(stages, start=1)
        ]
        handle = await workflow.start_child_workflow(
            ApprovalWorkflow.run,
            ApprovalRoundInput(
                order_id=self.facts.order_id,
                order_number=self.facts.number,
                owner_id=self.facts.owner_id,
                round_number=number,
                policy_version=self.policy.version,
                stages=route,
                facts=rules.decision_facts(self.facts).model_copy(update={"changes": asked}),
                todo_kind=TodoKind.approve_return,
                requester_id=request.actor.user_id,
                listed_as=self._next_round_number(),
            ),
            id=f"{workflow.info().workflow_id}/return/{number}/approval",
        )
        watching = asyncio.create_task(self._withdraw_return_round(handle))
        outcome = await handle
        watching.cancel()
        return outcome

    async def _withdraw_return_round(
        self, handle: workflow.ChildWorkflowHandle[ApprovalWorkflow, ApprovalOutcome]
    ) -> None:
        """The order is cancelled: the round ends through its own withdraw signal."""
        await workflow.wait_condition(lambda: self.halted or self.cancel_approved)
        await handle.signal(ApprovalWorkflow.withdraw)

    # -- received ------------------------------------------------------------------------------

    @workflow.update
    async def receive_return(self, receipt: ReturnReceipt) -> TodoDone:
        self.todos.take(receipt.todo_key, receipt.actor)
        number = self._return_number_of(receipt.todo_key)
        state = self.open_returns[number]
        state.receipts += 1
        base = f"{workflow.info().workflow_id}/return/{number}"
        receipt_number = state.receipts
        result = await self.steps.run(
            ReturnSteps.receive_return,
            self._return_step(
                number, f"receipt/{receipt_number}", actor_id=receipt.actor.user_id,
                todo_key=receipt.todo_key, received=receipt.lines, close_rest=receipt.close_rest,
                reason=receipt.close_reason.strip(), receipt=receipt_number,
                for_cancellation=state.for_cancellation,
                next_todo_key=f"{base}/receive/{receipt_number + 1}",
                refund_key=f"{base}/refund/{receipt_number}",
                credit_note_key=f"{base}/credit-note/{receipt_number}",
            ),
        )  # fmt: skip
        state.expected = result.expected
        await self._settle(number, receipt_number, result)
        if result.finished:
            del self.open_returns[number]
        return TodoDone(todo_key=receipt.todo_key, stage=self.stage)

    @receive_return.validator
    def validate_receive_return(self, receipt: ReturnReceipt) -> None:
        self.todos.check(receipt.todo_key, receipt.actor)
        refuse_if(receipt.refusal())
        state = self.open_returns.get(self._return_number_of(receipt.todo_key))
        if state is None:
            raise ApplicationError(NO_SUCH_RETURN, type=NOT_OPEN)
        refuse_if(receipt.room_refusal(state.expected))

    async def _settle(self, number: int, receipt: int, result: ReturnStepResult) -> None:
        """The money the receipt moved: the collection takes the reduced installments; the
        refund and credit note to-dos wait for finance."""
        money = result.money
        if money is None:
            return
        base = f"{workflow.info().workflow_id}/return/{number}"
        if money.refund > ZERO:
            self.return_refunds[f"{base}/refund/{receipt}"] = money.refund
        if money.credit > ZERO:
            self.return_credits.add(f"{base}/credit-note/{receipt}")
        if money.reduced > ZERO and self.collection is not None and not self.collection_done:
            # As plain values: the step's result and the signal's input may be the host's and
            # the sandbox's classes of the same model. A return's replan is numbered below
            # zero, apart from the revisions of change requests.
            replan = ReplanInstallments.model_validate(
                {
                    "revision": -(number * 1000 + receipt),
                    "installments": money.model_dump()["installments"],
                }
            )
            with contextlib.suppress(FailureError):  # it may have ended: paid in full
                await self.collection.signal(CollectionWorkflow.replan_installments, replan)

    def _return_number_of(self, todo_key: str) -> int:
        """The return a receive_return to-do belongs to (…/return/<n>/receive/<k>)."""
        parts = todo_key.rsplit("/", 3)
        if len(parts) == 4 and parts[0].endswith("/return") and parts[1].isdigit():
            return int(parts[1])
        return 0

    def _returns_settled(self) -> bool:
        """No return still open, no refund or credit note of one still with finance."""
        return not (self.open_returns or self.return_refunds or self.return_credits)

    # -- a cancellation after dispatch takes the goods back (OrderCancellation's hooks) -------

    def _returns_take_back(self) -> bool:
        return TAKE_BACK_ON_CANCELLATION

    def _open_return_refusal(self) -> Refusal | None:
        if not self.open_returns:
            return None
        return Refusal(RETURN_OPEN, number=min(self.open_returns))

    async def _take_back_goods(self, actor_id: int) -> None:
        """The return of everything dispatched and not back yet, approved with the
        cancellation: the warehouse get receive_return at once."""
        self.taking_back = True
        self.return_number += 1
        number = self.return_number
        reason = self.cancellation.reason.strip() if self.cancellation is not None else ""
        recorded = await self.steps.run(
            ReturnSteps.record_return_request,
            self._return_step(
                number, "requested", actor_id=actor_id, reason=reason, for_cancellation=True
            ),
        )
        if recorded.expected:
            self.open_returns[number] = ReturnState(requester=actor_id, for_cancellation=True)
            decided = await self.steps.run(
                ReturnSteps.decide_return,
                self._return_step(
                    number, "approved", outcome="approve", actor_id=actor_id,
                    todo_key=f"{workflow.info().workflow_id}/return/{number}/receive/1",
                ),
            )  # fmt: skip
            self.open_returns[number].expected = decided.expected
        self.taking_back = False

    def _goods_back(self) -> bool:
        return not self.taking_back and not self.open_returns

    # -- helpers -------------------------------------------------------------------------------

    def _return_step(self, number: int, name: str, **fields: object) -> ReturnStep:
        wid = workflow.info().workflow_id
        return ReturnStep.model_validate(
            {
                "order_id": self._order_id_for_return,
                "workflow_id": wid,
                "step_key": f"{wid}/return/{number}/{name}",
                "number": number,
                **{k: _plain(v) for k, v in fields.items()},
            }
        )

    @property
    def _order_id_for_return(self) -> int:
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return self.facts.order_id


def _plain(value: object) -> object:
    """Models as plain values: an update's input may be the host's class of a model that the
    step's input (the sandbox's) does not accept as its own."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    dump = getattr(value, "model_dump", None)
    return dump() if callable(dump) else value
