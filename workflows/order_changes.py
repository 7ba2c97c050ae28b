"""OrderWorkflow's change requests: asked for by the owner or a manager above them, approved
like an order (an approve_change round routed by the policy on the changed facts), then applied
as the order's next revision; or rejected, or withdrawn by whoever asked, the order staying as
it was."""

from __future__ import annotations

import asyncio
import contextlib

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

from models.domain import (
    CANCELLATION_PENDING,
    ApprovalOutcome,
    ApprovalRoundInput,
    CostEstimate,
    Refusal,
    RouteStage,
    ShipmentChange,
    TodoKind,
)
from models.domain.changes import (
    CHANGE_DECIDED,
    CHANGE_NOT_NOW,
    CHANGEABLE_STAGES,
    NO_OPEN_CHANGE,
    ONE_OPEN_CHANGE,
    ONLY_OWNER_OR_MANAGER_CHANGES,
    ONLY_REQUESTER,
    ApplyChange,
    ChangeApplied,
    ChangeRecorded,
    ChangeRequest,
    ChangeRequested,
    ChangeStepResult,
    CloseChange,
    RecordChange,
    ReplanInstallments,
    WithdrawChange,
)
from workflows import rules
from workflows.activity_refs import ChangeSteps, Step
from workflows.order_change_pricing import CHANGE_PRICING, OrderChangePricing
from workflows.order_state import ORDER_TOTAL, ROUNDS_NUMBERED_APART
from workflows.refusals import NOT_ASSIGNEE, NOT_OPEN, refuse_if, refused
from workflows.rules import ZERO

with workflow.unsafe.imports_passed_through():
    # The children run in sandboxes of their own; the order only names their runs and signals.
    from workflows.approval import ApprovalWorkflow
    from workflows.collection import CollectionWorkflow
    from workflows.shipment import ShipmentWorkflow

NO_ONE_APPROVES = "No one can approve this change: %(reason)s"
PAID_IN_FULL = (
    "The order is paid in full and its collection has ended: a change that raises the total "
    "to %(total)s can no longer be collected. Sell the extra as a new order."
)
ORDER_CANCELLED = "The order is cancelled."
# Changes asked for before this patch were routed around the owner alone: a manager who asked
# landed on their own approval stage (refused as self-approval, waiting for escalation).
ROUTE_AROUND_REQUESTER = "change-route-around-requester"
# Changes applied before this patch did not reach the shipment: no replan_shipment to-do, and
# extra quantities after dispatch were never dispatched.
CHANGE_TO_SHIPMENT = "change-to-shipment"
# Changes raising the total of an order paid in full were applied before this patch, and the
# extra money, with no collection left to reach, was never collected.
PAID_IN_FULL_REFUSES_MORE = "change-paid-in-full-refuses-more"


class OrderChanges(OrderChangePricing):
    """The request_change and withdraw_change updates; the change's approval runs beside the
    order's own path, in a task of its own, so the request is answered at once."""

    @workflow.update
    async def request_change(self, change: ChangeRequest) -> ChangeRequested:
        self.change_number += 1
        number, requester = self.change_number, change.actor.user_id
        self.change, self.change_withdrawn_by = change, None
        recorded = await self.steps.run(
            ChangeSteps.record_change_request,
            RecordChange(
                order_id=self._order_id,
                workflow_id=workflow.info().workflow_id,
                step_key=self._change_key(number, "requested"),
                number=number,
                change=change,
            ),
        )
        if (refusal := recorded.refusal()) is not None:  # nothing was written
            self.change, self.change_number = None, number - 1
            raise refused(refusal)
        assert recorded.facts is not None and recorded.policy is not None  # recorded: both
        if (refusal := self._beyond_collection(recorded)) is not None:
            await self._close_change(
                number, ChangeSteps.withdraw_change, change.actor.user_id, str(refusal)
            )
            self.change = None  # closed: the order is free for the next request
            raise refused(refusal, type=NOT_OPEN)
        try:
            stages = rules.approval_route(
                recorded.policy, recorded.facts, requester_id=self._routed_around(change)
            )
        except rules.UnroutableError as unroutable:
            await self._close_change(
                number, ChangeSteps.withdraw_change, change.actor.user_id, str(unroutable)
            )
            self.change = None  # closed: the order is free for the next request
            raise refused(Refusal(NO_ONE_APPROVES, reason=str(unroutable))) from None
        # Products or quantities change: pricing estimate the order as changed first.
        pricing = recorded.needs_estimate and workflow.patched(CHANGE_PRICING)
        if pricing and (refusal := await self._ask_pricing(number, recorded, requester)):
            await self._close_change(number, ChangeSteps.withdraw_change, requester, str(refusal))
            self.change = None  # closed: the order is free for the next request
            raise refused(refusal)
        self.change_task = asyncio.create_task(self._decide_change(number, recorded, stages))
        return ChangeRequested(number=number, stage=self.stage)

    def _routed_around(self, change: ChangeRequest) -> int | None:
        """Whoever asked, when it is not the owner: nobody approves a change they asked for."""
        assert self.facts is not None  # the validator refused before the order was loaded
        requester = change.actor.user_id
        if requester == self.facts.owner_id or not workflow.patched(ROUTE_AROUND_REQUESTER):
            return None
        return requester

    @request_change.validator
    def validate_request_change(self, change: ChangeRequest) -> None:
        refuse_if(change.refusal())
        if self.facts is None:  # the run's first step has not loaded the order yet
            raise ApplicationError("The order is being submitted; try again.", type=NOT_OPEN)
        if not self._owner_or_manager(change.actor):
            raise ApplicationError(ONLY_OWNER_OR_MANAGER_CHANGES, type=NOT_ASSIGNEE)
        refuse_if(self._cancelling_refusal(), type=NOT_OPEN)
        if self.cancellation is not None:
            raise ApplicationError(CANCELLATION_PENDING, type=NOT_OPEN)
        if self.stage not in CHANGEABLE_STAGES or self.in_cost_review or self.closed:
            refuse_if(Refusal(CHANGE_NOT_NOW, number=self.facts.number), type=NOT_OPEN)
        if self.change is not None:
            refuse_if(Refusal(ONE_OPEN_CHANGE, number=self.change_number), type=NOT_OPEN)

    @workflow.update
    async def withdraw_change(self, request: WithdrawChange) -> ChangeRequested:
        self.change_withdrawn_by = request.actor.user_id
        await workflow.wait_condition(lambda: self.change is None)
        return ChangeRequested(number=request.number, stage=self.stage, status="withdrawn")

    @withdraw_change.validator
    def validate_withdraw_change(self, request: WithdrawChange) -> None:
        if self.change is None or request.number > self.change_number:
            raise ApplicationError(NO_OPEN_CHANGE, type=NOT_OPEN)
        if request.number < self.change_number or self.change_withdrawn_by is not None:
            refuse_if(Refusal(CHANGE_DECIDED, number=request.number), type=NOT_OPEN)
        if request.actor.user_id != self.change.actor.user_id:
            raise ApplicationError(ONLY_REQUESTER, type=NOT_ASSIGNEE)

    # -- the change's approval, beside the order's path ----------------------------------------

    async def _decide_change(
        self, number: int, recorded: ChangeRecorded, stages: list[RouteStage]
    ) -> None:
        """The approve_change round (none when the policy asks no one), then the change is
        applied, rejected or withdrawn; the order is free for the next request after."""
        assert self.change is not None and self.facts is not None  # request_change set both
        requester = self.change.actor.user_id
        outcome = ApprovalOutcome(approved=True)
        estimate: CostEstimate | None = None
        if self.change_pricing is not None:  # pricing first: the round is routed on its margin
            priced = await self._priced(recorded)
            if priced is None:
                outcome = ApprovalOutcome(approved=False, withdrawn=True)
            else:
                recorded, estimate = priced
                stages, unroutable = self._route_priced(recorded)
                if unroutable is not None:
                    await self._close_change(
                        number, ChangeSteps.withdraw_change, requester, unroutable
                    )
                    self.change, self.change_withdrawn_by = None, None
                    return
        if stages and not outcome.withdrawn:
            outcome = await self._change_round(number, recorded, stages, requester)
        if outcome.withdrawn:
            by = self.change_withdrawn_by or requester
            comment = "" if self.change_withdrawn_by else ORDER_CANCELLED
            await self._close_change(number, ChangeSteps.withdraw_change, by, comment)
        elif not outcome.approved:
            by = outcome.rejected_by or requester
            await self._close_change(number, ChangeSteps.reject_change, by, outcome.comment)
        elif (late := self._beyond_collection(recorded)) is not None:  # paid in full meanwhile
            by = (outcome.approver_ids or [requester])[-1]
            await self._close_change(number, ChangeSteps.reject_change, by, str(late))
        else:
            await self._apply_change(number, outcome, requester, estimate)
        self.change, self.change_withdrawn_by = None, None

    def _route_priced(self, recorded: ChangeRecorded) -> tuple[list[RouteStage], str | None]:
        """The change's route on the facts with pricing's margin (a margin under the policy's
        floor goes where it would for a new order), or why no one can approve it."""
        assert self.change is not None and recorded.policy is not None  # recorded: both
        assert recorded.facts is not None
        try:
            route = rules.approval_route(
                recorded.policy, recorded.facts, requester_id=self._routed_around(self.change)
            )
        except rules.UnroutableError as unroutable:
            return [], str(Refusal(NO_ONE_APPROVES, reason=str(unroutable)))
        return route, None

    async def _change_round(
        self, number: int, recorded: ChangeRecorded, stages: list[RouteStage], requester: int
    ) -> ApprovalOutcome:
        assert self.facts is not None and recorded.facts is not None  # loaded before
        assert recorded.policy is not None
        facts = rules.decision_facts(recorded.facts).model_copy(
            update={"changes": recorded.changes}
        )
        handle = await workflow.start_child_workflow(
            ApprovalWorkflow.run,
            ApprovalRoundInput(
                order_id=self.facts.order_id,
                order_number=self.facts.number,
                owner_id=self.facts.owner_id,
                round_number=number,
                policy_version=recorded.policy.version,
                stages=stages,
                facts=facts,
                todo_kind=TodoKind.approve_change,
                requester_id=requester,
                listed_as=(
                    self._next_round_number() if workflow.patched(ROUNDS_NUMBERED_APART) else None
                ),
            ),
            id=self._change_key(number, "approval"),
        )
        watching = asyncio.create_task(self._withdraw_when_asked(handle))
        outcome = await handle
        watching.cancel()
        return outcome

    async def _withdraw_when_asked(
        self, handle: workflow.ChildWorkflowHandle[ApprovalWorkflow, ApprovalOutcome]
    ) -> None:
        """Whoever asked withdraws the change, or the order is cancelled: the round ends
        through its own withdraw signal."""
        await workflow.wait_condition(
            lambda: self.change_withdrawn_by is not None or self.halted or self.cancel_approved
        )
        await handle.signal(ApprovalWorkflow.withdraw)

    async def _apply_change(
        self,
        number: int,
        outcome: ApprovalOutcome,
        requester: int,
        estimate: CostEstimate | None = None,
    ) -> None:
        """The order's next revision (its expected cost and margin on pricing's estimate of
        the change, or on the kept one); the collection takes the new installments and the
        OrderTotal search attribute follows. A change that can no longer be made (paid or
        dispatched meanwhile) is closed with the reason instead."""
        approvers = outcome.approver_ids
        # As plain values: the estimate came in an update's input, which may be the host's
        # class of the sandbox's model.
        apply = ApplyChange.model_validate(
            {
                "order_id": self._order_id,
                "workflow_id": workflow.info().workflow_id,
                "step_key": self._change_key(number, "applied"),
                "number": number,
                "actor_id": approvers[-1] if approvers else None,
                "approver_ids": approvers,
                "estimate": estimate.model_dump() if estimate is not None else None,
            }
        )
        applied = await self.steps.run(ChangeSteps.apply_change, apply)
        if applied.problem is not None:
            by = approvers[-1] if approvers else requester
            await self._close_change(number, ChangeSteps.reject_change, by, applied.problem)
            return
        assert self.facts is not None  # loaded by start_costing, the run's first step
        self.facts = self.facts.model_copy(update={"total": applied.total})
        workflow.upsert_search_attributes([ORDER_TOTAL.value_set(float(applied.total))])
        if applied.installments and self.collection is not None:
            # As plain values: the step's result and the signal's input may be the host's and
            # the sandbox's classes of the same model.
            replan = ReplanInstallments.model_validate(
                {"revision": applied.revision, "installments": applied.model_dump()["installments"]}
            )
            with contextlib.suppress(FailureError):  # it may have ended: paid in full
                await self.collection.signal(CollectionWorkflow.replan_installments, replan)
        await self._tell_shipment(applied)

    async def _tell_shipment(self, applied: ChangeApplied) -> None:
        """The shipment re-plans (ops' replan_shipment to-do) and dispatches the extra
        quantities in a new round, while it runs."""
        if not (applied.replan or applied.extra_dispatch) or self.shipment_done:
            return
        if not workflow.patched(CHANGE_TO_SHIPMENT):
            return
        change = ShipmentChange.model_validate(
            {
                "revision": applied.revision,
                "replan": applied.replan,
                "extra_dispatch": applied.model_dump()["extra_dispatch"],
            }
        )
        shipment = workflow.get_external_workflow_handle(f"{workflow.info().workflow_id}/shipment")
        with contextlib.suppress(FailureError):  # it may have ended meanwhile
            await shipment.signal(ShipmentWorkflow.change_applied, change)

    async def _close_change(
        self, number: int, step: Step[CloseChange, ChangeStepResult], actor_id: int, comment: str
    ) -> None:
        await self.steps.run(
            step,
            CloseChange(
                order_id=self._order_id,
                workflow_id=workflow.info().workflow_id,
                step_key=self._change_key(number, step.name),
                number=number,
                actor_id=actor_id,
                comment=comment,
            ),
        )

    def _beyond_collection(self, recorded: ChangeRecorded) -> Refusal | None:
        """A change that raises the total of an order paid in full: its collection has ended,
        so the extra money could never be collected (refused, the request closed with why)."""
        assert self.facts is not None and recorded.facts is not None  # loaded, recorded
        if self.outstanding != ZERO or recorded.facts.total <= self.facts.total:
            return None
        if not workflow.patched(PAID_IN_FULL_REFUSES_MORE):
            return None
        return Refusal(PAID_IN_FULL, total=f"{recorded.facts.total:,.2f}")

    def _change_key(self, number: int, name: str) -> str:
        return f"{workflow.info().workflow_id}/change/{number}/{name}"

    @property
    def _order_id(self) -> int:
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return self.facts.order_id
