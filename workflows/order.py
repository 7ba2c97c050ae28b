"""OrderWorkflow: one sales order from submission to closing, read top to bottom."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError

from models.domain import (
    COSTS_REJECTED_WITHOUT_REASON,
    VARIANCE_REJECTED_WITHOUT_REASON,
    ApprovalPolicy,
    ApprovalRoundInput,
    CollectionInput,
    CollectionResult,
    CollectionStatus,
    ConfirmOrder,
    CostRecording,
    CostStep,
    CostStepResult,
    Decision,
    EstimateCompletion,
    InvoiceDecision,
    InvoiceRequest,
    InvoiceStep,
    OpenRound,
    OrderFacts,
    OrderResult,
    OrderWorkflowInput,
    PaymentTrigger,
    PrepareRerouting,
    RecordEstimate,
    RecordUnroutable,
    Resubmit,
    Resubmitted,
    RevisionOutcome,
    Role,
    RoundFacts,
    RouteAgain,
    ShipmentInput,
    Stage,
    StartCosting,
    TodoDone,
    TriggerEvent,
    VarianceFigures,
    VarianceReview,
    Withdraw,
)
from workflows import rules
from workflows.activity_refs import CollectionSteps, CostSteps, OrderSteps
from workflows.refusals import INVALID, NOT_ASSIGNEE, NOT_OPEN, SELF_APPROVAL, refuse_if
from workflows.steps import StepRunner, TodoBook

with workflow.unsafe.imports_passed_through():
    # The children run in sandboxes of their own; this one only names their runs and
    # signals, so it takes the host's modules instead of executing three more per order.
    from workflows.approval import ApprovalWorkflow
    from workflows.collection import CollectionWorkflow
    from workflows.shipment import ShipmentWorkflow

STAGE = SearchAttributeKey.for_keyword("Stage")


@dataclass
class CostBatchState:
    """A batch of actual costs waiting for finance."""

    number: int
    keys: list[str]  # CostItem.key of its items
    recorded_by: int


# Orders started before this patch opened a round's first stage, and confirmed the order, in
# steps of their own.
ONE_STEP_PER_DECISION = "one-step-per-decision"
# Orders confirmed before fulfilment existed completed at confirmation.
FULFILMENT = "fulfilment"
DELAYED = SearchAttributeKey.for_bool("Delayed")
ORDER_TOTAL = SearchAttributeKey.for_float("OrderTotal")
OUTSTANDING = SearchAttributeKey.for_float("Outstanding")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
# Orders confirmed before collection existed have no CollectionWorkflow (nor invoices).
COLLECTION = "collection"
ZERO = Decimal("0")
# Who may apply for an invoice besides the order's owner.
INVOICE_ROLES = {Role.finance}
# Invoices are applied for from confirmation until the order closes (customers often ask for
# theirs once they have paid).
AFTER_CONFIRMATION = {Stage.fulfilment, Stage.acceptance, Stage.collection, Stage.cost_review}
# Orders accepted before closing existed wait in collection for a close that never comes.
CLOSING = "closing"
# Orders confirmed before this had no Delayed attribute until a milestone was first late.
DELAYED_FROM_CONFIRMATION = "delayed-from-confirmation"


@workflow.defn
class OrderWorkflow:
    def __init__(self) -> None:
        self.todos = TodoBook()
        self.steps = StepRunner(self.todos)
        self.facts: OrderFacts | None = None
        self.policy: ApprovalPolicy | None = None
        self.stage = Stage.draft
        self.awaiting_estimate = False
        self.estimates = 0
        self.revision: str | None = None
        self.unroutable = False
        self.route_attempts = 0
        self.round_number = 0
        self.round_started = 0
        self.confirmed_by_round = False
        # A round the estimate step already routed (and whose first stage it opened).
        self.prepared: RoundFacts | None = None
        self.prepared_round = 0
        # Collection and invoicing.
        self.collection: (
            workflow.ChildWorkflowHandle[CollectionWorkflow, CollectionResult] | None
        ) = None
        self.outstanding: Decimal | None = None  # as the collection last said
        self.invoice_requests = 0
        self.invoiced = ZERO
        self.invoices_pending: dict[str, Decimal] = {}  # to-do key -> amount
        # Actual costs: the record_actual_costs to-do open (if any), the batches waiting for
        # finance (to-do key -> batch), each not-rejected item's CostItem.key.
        self.record_todo: str | None = None
        self.records = 0  # record_actual_costs to-dos opened so far (none: ops were never asked)
        self.batches = 0
        self.batches_pending: dict[str, CostBatchState] = {}
        self.cost_keys: set[str] = set()
        # The comparison and closing.
        self.in_cost_review = False
        self.reviews = 0
        self.variance: VarianceFigures | None = None
        self.reviewed_by: int | None = None
        self.closed = False

    @workflow.signal
    def refresh(self) -> None:
        """Nothing to do: the workflow task it causes brings a worker's cached copy of this
        workflow back in line with its history when a lost workflow task (a server that died
        while an update was being accepted) left the copy ahead of it."""

    @workflow.run
    async def run(self, order: OrderWorkflowInput) -> OrderResult:
        wid = workflow.info().workflow_id
        self.estimates = 1
        started = await self.steps.run(
            OrderSteps.start_costing,
            StartCosting(
                order_number=order.order_number,
                workflow_id=wid,
                submitted_by=order.submitted_by,
                todo_key=f"{wid}/estimate/1",
            ),
        )
        self.facts, self.policy = started.facts, started.policy
        self._enter(started.stage)
        self.awaiting_estimate = True

        while True:
            await workflow.wait_condition(lambda: not self.awaiting_estimate)
            self.round_number += 1
            approved = await self._approval_round(self.round_number)
            if approved:
                break
            await workflow.wait_condition(lambda: self.revision is not None)
            if self.revision == "withdraw":
                return await self._finish(Stage.cancelled)
            self.revision = None

        if not self.confirmed_by_round:  # else the last approval's step confirmed it
            await self.steps.run(OrderSteps.confirm_order, self._confirmation())
        if not workflow.patched(FULFILMENT):
            return await self._finish(Stage.confirmed)

        self._enter(Stage.fulfilment)
        if workflow.patched(DELAYED_FROM_CONFIRMATION):  # `Delayed=false` finds it on time
            workflow.upsert_search_attributes([DELAYED.value_set(False)])
        shipment = await workflow.start_child_workflow(
            ShipmentWorkflow.run,
            ShipmentInput(
                order_id=self.facts.order_id,
                order_number=self.facts.number,
                owner_id=self.facts.owner_id,
                shipping_mode=self.facts.shipping_mode,
                needs_installation=self.facts.needs_installation,
                hold_for_deposit=self.facts.hold_for_deposit,
            ),
            id=f"{wid}/shipment",
        )
        if workflow.patched(COLLECTION):
            self.collection = await workflow.start_child_workflow(
                CollectionWorkflow.run,
                CollectionInput(
                    order_id=self.facts.order_id,
                    order_number=self.facts.number,
                    owner_id=self.facts.owner_id,
                    total=self.facts.total,
                    hold_for_deposit=self.facts.hold_for_deposit,
                ),
                id=f"{wid}/collection",
            )
        accepted = await shipment
        await self.trigger_happened(
            TriggerEvent(trigger=PaymentTrigger.acceptance, on=accepted.accepted_on)
        )
        self._enter(Stage.collection)
        if not workflow.patched(CLOSING):
            await workflow.wait_condition(lambda: self.stage == Stage.closed)
            return await self._finish(Stage.closed)
        if self.collection is not None:
            await self.collection  # paid in full
        # Fulfilment, acceptance and collection are done: the comparison opens once the costs
        # are complete (ops are asked for them now if the first payment never asked).
        self.in_cost_review = True
        ask = self.records == 0
        begun = await self.steps.run(
            CostSteps.begin_cost_review,
            self._cost_step(
                "cost-review",
                record_todo_key=self._next_record_key() if ask else None,
                review_todo_key=self._next_review_key_if_ready(),
            ),
        )
        self._after_cost_step(begun)
        if not self.closed:
            self._enter(Stage.cost_review)
        # Closed; an invoice still at finance is issued (or rejected) before the workflow ends.
        await workflow.wait_condition(lambda: self.closed and not self.invoices_pending)
        return await self._finish(Stage.closed)

    def _confirmation(self) -> ConfirmOrder:
        # start_costing, the run's first step, loaded the facts and the policy.
        assert self.facts is not None and self.policy is not None
        return ConfirmOrder(
            order_id=self.facts.order_id,
            step_key=f"{workflow.info().workflow_id}/confirmed",
            notify=rules.notify_on_approval(self.policy, self.facts),
        )

    async def _approval_round(self, round_number: int) -> bool:
        """One round of the approval chain as a child workflow; True when the order passed."""
        wid = workflow.info().workflow_id
        attempt = 0
        prepared = self.prepared if self.prepared_round == round_number else None
        first_stage_opened = None
        while True:
            if prepared is not None and prepared.route is not None:
                stages, first_stage_opened = prepared.route, prepared.round_opened
                self.route_attempts += 1
                break
            try:
                if prepared is not None:  # the estimate step found no one and said so
                    raise rules.UnroutableError(prepared.unroutable)
                # start_costing, the run's first step, loaded the facts and the policy.
                assert self.policy is not None and self.facts is not None
                stages = rules.approval_route(self.policy, self.facts)
                self.route_attempts += 1
                break
            except rules.UnroutableError as unroutable:
                attempt += 1
                suffix = "" if attempt == 1 else f"/{attempt}"
                if prepared is None:
                    assert self.facts is not None  # loaded by start_costing, the first step
                    await self.steps.run(
                        OrderSteps.record_unroutable,
                        RecordUnroutable(
                            order_id=self.facts.order_id,
                            step_key=f"{wid}/approval/{round_number}/unroutable{suffix}",
                            reason=str(unroutable),
                        ),
                    )
                prepared = None
                # On the admin's unroutable list until they fix the policy or the department
                # tree and route it again.
                self.unroutable = True
                self.route_attempts += 1
                await workflow.wait_condition(lambda: not self.unroutable)
        self._enter(Stage.approval)
        one_step_per_decision = workflow.patched(ONE_STEP_PER_DECISION)
        # start_costing, the run's first step, loaded the facts and the policy.
        assert self.facts is not None and self.policy is not None
        round_handle = await workflow.start_child_workflow(
            ApprovalWorkflow.run,
            ApprovalRoundInput(
                order_id=self.facts.order_id,
                order_number=self.facts.number,
                owner_id=self.facts.owner_id,
                round_number=round_number,
                policy_version=self.policy.version,
                stages=stages,
                facts=rules.decision_facts(self.facts),
                first_stage_opened=first_stage_opened,
                confirm=self._confirmation() if one_step_per_decision else None,
            ),
            id=f"{wid}/approval/{round_number}",
        )
        self.round_started = round_number
        outcome = await round_handle
        if outcome.approved:
            self.confirmed_by_round = outcome.confirmed
            return True
        assert outcome.revise_todo is not None  # a rejected round opens the owner's revise to-do
        self.todos.add([outcome.revise_todo])
        self._enter(Stage.revising)
        return False

    def _routing_on(self, loaded: RoundFacts | Resubmitted) -> None:
        """Route the next round on freshly loaded facts and the policy in force (steps
        recorded before routing loaded them keep what the order started with)."""
        if loaded.facts is not None:
            self.facts = loaded.facts
        if loaded.policy is not None:
            self.policy = loaded.policy

    async def _finish(self, stage: Stage) -> OrderResult:
        self._enter(stage)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.steps.mail_sent()
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return OrderResult(order_number=self.facts.number, stage=stage)

    def _enter(self, stage: Stage | None) -> None:
        if stage is None or stage == self.stage:
            return
        self.stage = stage
        workflow.upsert_search_attributes([STAGE.value_set(stage.value)])

    @workflow.query
    def status(self) -> Stage:
        return self.stage

    @workflow.signal
    def enter_stage(self, stage: Stage) -> None:
        """The shipment moved the order on (to acceptance): the Stage search attribute follows."""
        self._enter(stage)

    @workflow.signal
    def set_delayed(self, delayed: bool) -> None:
        """The shipment says a milestone is late (or none is any more)."""
        workflow.upsert_search_attributes([DELAYED.value_set(delayed)])

    @workflow.signal
    def collection_changed(self, status: CollectionStatus) -> None:
        """The collection says what is outstanding and whether any of it is overdue (and, on
        the first confirmed payment, that ops were asked to record the actual costs)."""
        self.outstanding = status.outstanding
        if status.costs_todo is not None and self.records == 0:
            self.records = 1
            self.record_todo = status.costs_todo.key
            self.todos.add([status.costs_todo])
        workflow.upsert_search_attributes(
            [
                OUTSTANDING.value_set(float(status.outstanding)),
                OVERDUE.value_set(status.overdue),
            ]
        )

    @workflow.signal
    async def trigger_happened(self, event: TriggerEvent) -> None:
        """The shipment was dispatched or accepted: installments hanging on it fall due (the
        collection is told unless it has nothing left to collect)."""
        if self.collection is None or self.outstanding == ZERO or event.on is None:
            return
        await self.collection.signal(CollectionWorkflow.event_happened, event)

    # -- invoicing -------------------------------------------------------------------------------

    @workflow.update
    async def request_invoice(self, request: InvoiceRequest) -> TodoDone:
        self.invoice_requests += 1
        number = self.invoice_requests
        wid = workflow.info().workflow_id
        todo_key = f"{wid}/invoice/{number}"
        self.invoices_pending[todo_key] = request.amount
        assert self.facts is not None  # the validator saw the order confirmed
        await self.steps.run(
            CollectionSteps.request_invoice,
            InvoiceStep(
                order_id=self.facts.order_id,
                workflow_id=wid,
                step_key=f"{wid}/invoice/{number}/requested",
                actor_id=request.actor.user_id,
                request_number=number,
                todo_key=todo_key,
                amount=request.amount,
                title=request.title.strip(),
                tax_number=request.tax_number.strip(),
                address=request.address.strip(),
            ),
        )
        return TodoDone(todo_key=todo_key, stage=self.stage)

    @request_invoice.validator
    def validate_request_invoice(self, request: InvoiceRequest) -> None:
        if self.closed:
            raise ApplicationError("The order is closed.", type=NOT_OPEN)
        if self.collection is None or self.stage not in AFTER_CONFIRMATION:
            raise ApplicationError(
                "Invoices are applied for once the order is confirmed.", type=NOT_OPEN
            )
        actor = request.actor
        assert self.facts is not None  # confirmed, as the collection child shows
        if actor.user_id != self.facts.owner_id and actor.role not in INVOICE_ROLES:
            raise ApplicationError(
                "Only the order's owner or finance apply for its invoices.", type=NOT_ASSIGNEE
            )
        if request.amount <= ZERO:
            raise ApplicationError("The amount must be more than zero.", type=INVALID)
        room = self._invoiceable()
        if request.amount > room:
            raise ApplicationError(
                f"The amount is more than can still be invoiced: {room:,.2f} (total less "
                "invoiced and applied for).",
                type=INVALID,
            )
        for field, name in (
            (request.title, "invoice title"),
            (request.tax_number, "tax number"),
            (request.address, "mailing address"),
        ):
            if not field.strip():
                raise ApplicationError(f"Give the {name}.", type=INVALID)

    @workflow.update
    async def decide_invoice(self, decision: InvoiceDecision) -> TodoDone:
        todo = self.todos.take(decision.todo_key, decision.actor)
        wid = workflow.info().workflow_id
        number = int(decision.todo_key.rsplit("/", 1)[1])
        issued = decision.outcome == "issued"
        assert self.facts is not None  # an invoice to-do opens only after confirmation
        result = await self.steps.run(
            CollectionSteps.decide_invoice,
            InvoiceStep(
                order_id=self.facts.order_id,
                workflow_id=wid,
                step_key=f"{wid}/invoice/{number}/decided",
                actor_id=decision.actor.user_id,
                request_number=number,
                todo_key=decision.todo_key,
                outcome=decision.outcome,
                invoice_number=decision.invoice_number.strip() if issued else "",
                comment="" if issued else decision.comment.strip(),
            ),
        )
        if result.problem:
            self.todos.add([todo])  # nothing changed: the to-do stays open
            raise ApplicationError(result.problem, type=INVALID)
        amount = self.invoices_pending.pop(decision.todo_key, ZERO)
        if issued:
            self.invoiced += amount
        return TodoDone(todo_key=decision.todo_key, stage=self.stage)

    @decide_invoice.validator
    def validate_decide_invoice(self, decision: InvoiceDecision) -> None:
        self.todos.check(decision.todo_key, decision.actor)
        refuse_if(decision.refusal())

    def _invoiceable(self) -> Decimal:
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return self.facts.total - self.invoiced - sum(self.invoices_pending.values(), ZERO)

    @workflow.update
    async def estimate_cost(self, completion: EstimateCompletion) -> TodoDone:
        self.todos.take(completion.todo_key, completion.actor)
        assert self.facts is not None  # loaded by start_costing, before any estimate to-do
        figures = rules.expected_cost(self.facts, completion.estimate)
        wid = workflow.info().workflow_id
        next_round = self.round_number + 1
        # One step per decision: the estimate's step also routes the round and opens its
        # first stage (earlier orders did that in the round's own first step).
        open_round = (
            OpenRound(
                round_number=next_round,
                workflow_id=f"{wid}/approval/{next_round}",
                order_workflow_id=wid,
                unroutable_key=f"{wid}/approval/{next_round}/unroutable",
            )
            if workflow.patched(ONE_STEP_PER_DECISION)
            else None
        )
        result = await self.steps.run(
            OrderSteps.record_estimate,
            RecordEstimate(
                order_id=self.facts.order_id,
                todo_key=completion.todo_key,
                actor_id=completion.actor.user_id,
                estimate=completion.estimate,
                expected_cost=figures.expected_cost,
                expected_margin=figures.expected_margin,
                open_round=open_round,
            ),
        )
        self._routing_on(result)
        if open_round is not None:
            self.prepared, self.prepared_round = result, next_round
        self._enter(result.stage)
        self.awaiting_estimate = False
        if result.route:
            # The approvers' to-dos exist; answer once their round can take decisions.
            await workflow.wait_condition(lambda: self.round_started >= next_round)
        return TodoDone(todo_key=completion.todo_key, stage=result.stage)

    @estimate_cost.validator
    def validate_estimate_cost(self, completion: EstimateCompletion) -> None:
        self.todos.check(completion.todo_key, completion.actor)
        assert self.facts is not None  # loaded by start_costing, before any estimate to-do
        if problems := rules.estimate_problems(self.facts, completion.estimate):
            raise ApplicationError(" ".join(problems), type=INVALID)

    @workflow.update
    async def revise(self, revision: RevisionOutcome) -> TodoDone:
        self.todos.take(revision.todo_key, revision.actor)
        wid = workflow.info().workflow_id
        assert self.facts is not None  # loaded by start_costing, the run's first step
        if revision.outcome == "withdraw":
            withdrawn = await self.steps.run(
                OrderSteps.withdraw,
                Withdraw(
                    order_id=self.facts.order_id,
                    todo_key=revision.todo_key,
                    actor_id=revision.actor.user_id,
                    comment=revision.comment,
                ),
            )
            self.revision = "withdraw"
            return TodoDone(todo_key=revision.todo_key, stage=withdrawn.stage)
        next_estimate = self.estimates + 1
        result = await self.steps.run(
            OrderSteps.resubmit,
            Resubmit(
                order_id=self.facts.order_id,
                workflow_id=wid,
                todo_key=revision.todo_key,
                actor_id=revision.actor.user_id,
                estimate_todo_key=f"{wid}/estimate/{next_estimate}",
            ),
        )
        self._routing_on(result)
        if result.needs_estimate:
            self.estimates = next_estimate
            self.awaiting_estimate = True
        workflow.upsert_search_attributes([ORDER_TOTAL.value_set(float(self.facts.total))])
        self._enter(result.stage)
        self.revision = "resubmit"
        return TodoDone(todo_key=revision.todo_key, stage=result.stage)

    @revise.validator
    def validate_revise(self, revision: RevisionOutcome) -> None:
        self.todos.check(revision.todo_key, revision.actor)

    @workflow.update
    async def route_again(self, request: RouteAgain) -> TodoDone:
        """Admin fixed what made the order unroutable: load the facts and policy again and
        retry the route. Returns once the attempt is made: routed, or back on the unroutable
        list with the reason."""
        attempts = self.route_attempts
        assert self.facts is not None  # only an order whose routing failed gets here
        loaded = await self.steps.run(
            OrderSteps.prepare_rerouting,
            PrepareRerouting(
                order_id=self.facts.order_id,
                step_key=f"{workflow.info().workflow_id}/rerouted/{attempts}",
                actor_id=request.actor.user_id,
            ),
        )
        self._routing_on(loaded)
        self.unroutable = False
        await workflow.wait_condition(lambda: self.route_attempts > attempts)
        return TodoDone(todo_key="", stage=self.stage)

    @route_again.validator
    def validate_route_again(self, request: RouteAgain) -> None:
        if request.actor.role != Role.admin:
            raise ApplicationError(
                "Only an administrator can route an order again.", type=NOT_ASSIGNEE
            )
        if not self.unroutable:
            raise ApplicationError("This order is not waiting for a route.", type=NOT_OPEN)

    # -- actual costs, the comparison and closing --------------------------------------------

    def _cost_step(self, name: str, **fields: object) -> CostStep:
        wid = workflow.info().workflow_id
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return CostStep(
            order_id=self.facts.order_id, workflow_id=wid, step_key=f"{wid}/{name}", **fields
        )

    def _next_record_key(self) -> str:
        self.records += 1
        self.record_todo = f"{workflow.info().workflow_id}/costs/record/{self.records}"
        return self.record_todo

    def _next_review_key_if_ready(self) -> str | None:
        """The next review_variance to-do, when the order is in cost review and its costs are
        complete: ops said the last were recorded and finance decided every batch."""
        if not self.in_cost_review or self.record_todo or self.batches_pending:
            return None
        if self.variance is not None or self.records == 0:
            return None  # the review is open already / ops are not asked yet
        self.reviews += 1
        return f"{workflow.info().workflow_id}/variance/{self.reviews}/review"

    def _after_cost_step(self, result: CostStepResult) -> None:
        if result.figures is not None:
            self.variance = result.figures
        if result.closed:
            self.closed = True

    @workflow.update
    async def record_actual_costs(self, recording: CostRecording) -> TodoDone:
        self.todos.take(recording.todo_key, recording.actor)
        self.record_todo = None
        number = None
        if recording.items:
            self.batches += 1
            number = self.batches
            keys = [item.key for item in recording.items]
            self.cost_keys.update(keys)
            self.batches_pending[f"{workflow.info().workflow_id}/costs/{number}/approve"] = (
                CostBatchState(number=number, keys=keys, recorded_by=recording.actor.user_id)
            )
        result = await self.steps.run(
            CostSteps.record_actual_costs,
            self._cost_step(
                f"costs/{number}/recorded" if number else f"costs/complete/{self.records}",
                actor_id=recording.actor.user_id,
                todo_key=recording.todo_key,
                batch=number or 0,
                items=recording.items,
                final=recording.final,
                record_todo_key=None if recording.final else self._next_record_key(),
                review_todo_key=self._next_review_key_if_ready(),
            ),
        )
        self._after_cost_step(result)
        return TodoDone(todo_key=recording.todo_key, stage=self.stage)

    @record_actual_costs.validator
    def validate_record_actual_costs(self, recording: CostRecording) -> None:
        if recording.actor.role == Role.finance:
            raise ApplicationError(
                "Operations record the actual costs; finance approve them.", type=NOT_ASSIGNEE
            )
        self.todos.check(recording.todo_key, recording.actor)
        refuse_if(recording.refusal(self.cost_keys))

    @workflow.update
    async def approve_actual_costs(self, decision: Decision) -> TodoDone:
        self.todos.take(decision.todo_key, decision.actor)
        batch = self.batches_pending.pop(decision.todo_key)
        approved = decision.outcome == "approve"
        record_key = None
        if not approved:
            self.cost_keys.difference_update(batch.keys)
            if self.record_todo is None:  # ops record those costs again
                record_key = self._next_record_key()
        result = await self.steps.run(
            CostSteps.decide_actual_costs,
            self._cost_step(
                f"costs/{batch.number}/decided",
                actor_id=decision.actor.user_id,
                todo_key=decision.todo_key,
                batch=batch.number,
                outcome=decision.outcome,
                comment="" if approved else decision.comment.strip(),
                record_todo_key=record_key,
                review_todo_key=self._next_review_key_if_ready(),
            ),
        )
        self._after_cost_step(result)
        return TodoDone(todo_key=decision.todo_key, stage=self.stage)

    @approve_actual_costs.validator
    def validate_approve_actual_costs(self, decision: Decision) -> None:
        self.todos.check(decision.todo_key, decision.actor)
        refuse_if(decision.refusal(reason_missing=COSTS_REJECTED_WITHOUT_REASON))

    @workflow.update
    async def review_variance(self, review: VarianceReview) -> TodoDone:
        self.todos.take(review.todo_key, review.actor)
        assert self.variance is not None  # the review to-do opened with the figures
        above = self.variance.above_threshold
        self.reviewed_by = review.actor.user_id
        wid = workflow.info().workflow_id
        result = await self.steps.run(
            CostSteps.review_variance,
            self._cost_step(
                f"variance/{self.reviews}/reviewed",
                actor_id=review.actor.user_id,
                todo_key=review.todo_key,
                explanation=review.explanation.strip(),
                review_todo_key=f"{wid}/variance/{self.reviews}/approve" if above else None,
                close=not above,
            ),
        )
        self._after_cost_step(result)
        if result.closed:
            self._enter(Stage.closed)
        return TodoDone(todo_key=review.todo_key, stage=self.stage)

    @review_variance.validator
    def validate_review_variance(self, review: VarianceReview) -> None:
        self.todos.check(review.todo_key, review.actor)
        if self.variance is None:  # never so while a review is open
            raise ApplicationError("The cost figures are not ready yet.", type=NOT_OPEN)
        refuse_if(
            review.refusal(
                above_threshold=self.variance.above_threshold,
                threshold=rules.describe_threshold(self.variance.policy),
            )
        )

    @workflow.update
    async def approve_variance(self, decision: Decision) -> TodoDone:
        self.todos.take(decision.todo_key, decision.actor)
        approved = decision.outcome == "approve"
        review_round = self.reviews
        review_key = None
        if not approved:  # back to ops for another review
            self.variance = None
            self.reviewed_by = None
            self.reviews += 1
            review_key = f"{workflow.info().workflow_id}/variance/{self.reviews}/review"
        result = await self.steps.run(
            CostSteps.decide_variance,
            self._cost_step(
                f"variance/{review_round}/decided",
                actor_id=decision.actor.user_id,
                todo_key=decision.todo_key,
                outcome=decision.outcome,
                comment="" if approved else decision.comment.strip(),
                review_todo_key=review_key,
            ),
        )
        self._after_cost_step(result)
        if result.closed:
            self._enter(Stage.closed)
        return TodoDone(todo_key=decision.todo_key, stage=self.stage)

    @approve_variance.validator
    def validate_approve_variance(self, decision: Decision) -> None:
        self.todos.check(decision.todo_key, decision.actor)
        if decision.actor.user_id == self.reviewed_by:
            raise ApplicationError(
                "You reviewed this variance: another operations manager approves it.",
                type=SELF_APPROVAL,
            )
        refuse_if(decision.refusal(reason_missing=VARIANCE_REJECTED_WITHOUT_REASON))
