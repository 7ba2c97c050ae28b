"""OrderWorkflow: one sales order from submission to closing, read top to bottom."""

from __future__ import annotations

from temporalio import workflow

from models.domain import (
    CollectionInput,
    CollectionStatus,
    OrderResult,
    OrderWorkflowInput,
    PaymentTrigger,
    ShipmentInput,
    Stage,
    StartCosting,
    TodoKind,
    TriggerEvent,
)
from workflows.activity_refs import OrderSteps
from workflows.order_approval import OrderApproval
from workflows.order_changes import OrderChanges
from workflows.order_costs import OrderCosts
from workflows.order_invoicing import AFTER_CONFIRMATION, OrderInvoicing
from workflows.order_returns import OrderReturns
from workflows.order_state import (
    CLOSING,
    COLLECTION,
    DELAYED,
    DELAYED_FROM_CONFIRMATION,
    FULFILMENT,
    ONE_STEP_PER_DECISION,
    ORDER_TOTAL,
    OUTSTANDING,
    OVERDUE,
    ROUNDS_NUMBERED_APART,
    STAGE,
    CostBatchState,
)
from workflows.rules import ZERO

with workflow.unsafe.imports_passed_through():
    # The children run in sandboxes of their own; this one only names their runs and
    # signals, so it takes the host's modules instead of executing three more per order.
    from workflows.collection import CollectionWorkflow
    from workflows.shipment import ShipmentWorkflow

# The patch ids, search attributes and constants stay importable from here.
__all__ = [
    "AFTER_CONFIRMATION",
    "CLOSING",
    "COLLECTION",
    "DELAYED",
    "DELAYED_FROM_CONFIRMATION",
    "FULFILMENT",
    "ONE_STEP_PER_DECISION",
    "ORDER_TOTAL",
    "OUTSTANDING",
    "OVERDUE",
    "STAGE",
    "ZERO",
    "CostBatchState",
    "OrderWorkflow",
]


@workflow.defn
class OrderWorkflow(OrderApproval, OrderInvoicing, OrderCosts, OrderReturns, OrderChanges):
    """The run reads top to bottom; each area's updates live in the class it inherits."""

    @workflow.run
    async def run(self, order: OrderWorkflowInput) -> OrderResult:
        await self._start_costing(order)
        if not await self._approve():
            return await self._finish(Stage.cancelled)
        if not self.confirmed_by_round:  # else the last approval's step confirmed it
            await self.steps.run(OrderSteps.confirm_order, self._confirmation())
        if not workflow.patched(FULFILMENT):
            return await self._finish(Stage.confirmed)
        await self._fulfil()
        if self.cancel_approved:
            return await self._end_cancelled()
        if not workflow.patched(CLOSING):
            await workflow.wait_condition(lambda: self.stage == Stage.closed)
            return await self._finish(Stage.closed)
        if self.collection is not None:
            await self.collection  # paid in full (or stopped: the order is being cancelled)
        if self.cancel_approved:  # cancelled after acceptance: the goods come back first
            return await self._end_cancelled()
        await self._begin_cost_review()
        # Closed; an invoice still at finance is issued (or rejected) before the workflow ends,
        # and a return's goods are back and its money settled.
        await workflow.wait_condition(
            lambda: self.closed and not self.invoices_pending and self._returns_settled()
        )
        return await self._finish(Stage.closed)

    async def _start_costing(self, order: OrderWorkflowInput) -> None:
        """The order's facts and the approval policy are loaded; ops are asked for the
        estimate."""
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

    async def _approve(self) -> bool:
        """Approval rounds until one passes (True) or the owner withdraws the order (False)."""
        while True:
            # A cancellation stops the run where it waits (not while the person it waits for
            # is acting: their to-do is out of the book until their step is done).
            await workflow.wait_condition(
                lambda: (
                    not self.awaiting_estimate
                    or (self.cancellation is not None and self._todo_open(TodoKind.estimate_cost))
                )
            )
            if self.awaiting_estimate:
                return self._halt()
            self.round_number = self._round_to_start()
            approved = await self._approval_round(self.round_number)
            if approved:
                return True
            if self.halted:
                return False
            await workflow.wait_condition(
                lambda: (
                    self.revision is not None
                    or (self.cancellation is not None and self._todo_open(TodoKind.revise))
                )
            )
            if self.revision is None:
                return self._halt()
            if self.revision == "withdraw":
                return False
            self.revision = None

    def _round_to_start(self) -> int:
        """The round the estimate's step prepared, else the next number: above every round
        number given out, a change request's too (earlier orders: the last round's plus one)."""
        if not workflow.patched(ROUNDS_NUMBERED_APART):
            return self.round_number + 1
        if self.prepared_round > self.round_number:
            return self.prepared_round
        return self._next_round_number()

    async def _fulfil(self) -> None:
        """The shipment and the collection run as children until the customer accepts."""
        wid = workflow.info().workflow_id
        self._enter(Stage.fulfilment)
        if workflow.patched(DELAYED_FROM_CONFIRMATION):  # `ShipmentDelayed=false` finds it
            self._mark_delayed(False)
        assert self.facts is not None  # loaded by start_costing, the run's first step
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
        self.shipment_done = True
        if self.cancel_approved:  # withdrawn before dispatch: the order is cancelled
            return
        await self.trigger_happened(
            TriggerEvent(trigger=PaymentTrigger.acceptance, on=accepted.accepted_on)
        )
        self._enter(Stage.collection)

    # -- what the order is asked and told ------------------------------------------------------

    @workflow.query
    def status(self) -> Stage:
        return self.stage

    @workflow.update
    async def acknowledge_submit(self) -> Stage:
        """Answers once the first step has run, that is once the order's stage (cost estimate)
        and pricing's to-do are in the database: the page shown after Submit then shows them.
        It adds no command, so running orders and recorded histories are unaffected."""
        await workflow.wait_condition(lambda: self.facts is not None)
        return self.stage

    @workflow.signal
    def refresh(self) -> None:
        """Nothing to do: the workflow task it causes brings a worker's cached copy of this
        workflow back in line with its history when a lost workflow task (a server that died
        while an update was being accepted) left the copy ahead of it."""

    @workflow.signal
    def enter_stage(self, stage: Stage) -> None:
        """The shipment moved the order on (to acceptance): the Stage search attribute follows."""
        self._enter(stage)

    @workflow.signal
    def set_delayed(self, delayed: bool) -> None:
        """The shipment says a milestone is late (or none is any more)."""
        self._mark_delayed(delayed)

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
        if event.trigger == PaymentTrigger.dispatch:
            self.dispatched = True  # a cancellation waits for the goods to come back
        if self.collection is None or self.outstanding == ZERO or event.on is None:
            return
        if self.cancel_approved:  # its collection has stopped
            return
        await self.collection.signal(CollectionWorkflow.event_happened, event)
