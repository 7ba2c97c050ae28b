"""What every area of OrderWorkflow shares: its state, patch ids, search attributes, helpers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from temporalio import workflow
from temporalio.common import SearchAttributeKey

from models.domain import (
    ALREADY_CANCELLED,
    BEFORE_CONFIRMATION,
    CANCELLING,
    Actor,
    ApprovalPolicy,
    Assignee,
    CancelOrder,
    CollectionResult,
    CostEstimate,
    OrderFacts,
    OrderResult,
    Refusal,
    RoundFacts,
    Stage,
    TodoKind,
    VarianceFigures,
)
from models.domain.changes import ChangeRequest
from workflows.rules import ZERO
from workflows.steps import StepRunner, TodoBook

with workflow.unsafe.imports_passed_through():
    # The child runs in a sandbox of its own; the order only holds its handle.
    from workflows.collection import CollectionWorkflow

STAGE = SearchAttributeKey.for_keyword("Stage")
# `Delayed` is a reserved word in the visibility query parser (`Delayed=true` is refused unless
# written in backticks): orders carry it under a name that works as written, ShipmentDelayed, and
# keep the old one current too for a release, so orders confirmed earlier are still found by it.
DELAYED = SearchAttributeKey.for_bool("Delayed")
SHIPMENT_DELAYED = SearchAttributeKey.for_bool("ShipmentDelayed")
ORDER_TOTAL = SearchAttributeKey.for_float("OrderTotal")
OUTSTANDING = SearchAttributeKey.for_float("Outstanding")
OVERDUE = SearchAttributeKey.for_bool("Overdue")

# Orders started before this patch opened a round's first stage, and confirmed the order, in
# steps of their own.
ONE_STEP_PER_DECISION = "one-step-per-decision"
# Orders confirmed before fulfilment existed completed at confirmation.
FULFILMENT = "fulfilment"
# Orders confirmed before collection existed have no CollectionWorkflow (nor invoices).
COLLECTION = "collection"
# Orders accepted before closing existed wait in collection for a close that never comes.
CLOSING = "closing"
# Orders confirmed before this had no Delayed attribute until a milestone was first late.
DELAYED_FROM_CONFIRMATION = "delayed-from-confirmation"
# Before this, a change request's round took the next free number among the order's rounds in
# the database alone, and the order's own next round (numbered by the workflow) could take the
# same number: the order's workflow now numbers both.
ROUNDS_NUMBERED_APART = "rounds-numbered-apart"
# Before this, a late shipment set only `Delayed`, which the query parser cannot read as written.
SHIPMENT_DELAYED_ATTRIBUTE = "shipment-delayed-attribute"


@dataclass
class ChangePricing:
    """A change request's estimate asked of pricing: its to-do, the facts of the order as the
    change makes it (its margin once estimated), and pricing's estimate once given."""

    number: int
    todo_key: str
    facts: OrderFacts
    estimate: CostEstimate | None = None


@dataclass
class CostBatchState:
    """A batch of actual costs waiting for finance."""

    number: int
    keys: list[str]  # CostItem.key of its items
    recorded_by: int


class OrderState:
    """The state of one order's workflow; each area of OrderWorkflow is a subclass of it."""

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
        self.rounds_numbered = 0  # the highest round number given out, the order's or a change's
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
        # Cancellation (workflows/order_cancellation.py): the request being carried out or
        # waiting for approval, requests so far, where the run stopped for it, what it undoes.
        self.cancellation: CancelOrder | None = None
        self.cancellations = 0
        self.cancel_todo: str | None = None  # the approve_cancellation to-do, while open
        self.cancel_directors: list[Assignee] = []  # the director's step, after the manager's
        self.halted = False  # the run stopped before confirmation: the order is cancelled
        self.cancel_approved = False  # after confirmation: the children are being ended
        self.dispatched = False  # the shipment said goods left: a return comes first
        self.shipment_done = False
        self.collection_done = False
        self.undo_started = False  # the approval's step asked finance to refund and credit
        self.refund_room = ZERO  # money received, not refunded yet
        self.refunds = 0
        self.credit_notes_pending: set[str] = set()  # issue_credit_note to-do keys
        # Change requests (workflows/order_changes.py): the open one (one at a time), requests
        # numbered so far, who withdrew the open one, the task that sees it decided.
        self.change: ChangeRequest | None = None
        self.change_number = 0
        self.change_withdrawn_by: int | None = None
        self.change_task: asyncio.Task[None] | None = None
        self.change_pricing: ChangePricing | None = None  # while pricing estimate the change

    async def _finish(self, stage: Stage) -> OrderResult:
        self._enter(stage)
        await workflow.wait_condition(lambda: self.change is None)  # decided, or withdrawn
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.steps.mail_sent()
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return OrderResult(order_number=self.facts.number, stage=stage)

    def _owner_or_manager(self, actor: Actor) -> bool:
        """The order's owner, or a manager of a department from the owner's up the tree."""
        assert self.facts is not None  # loaded by start_costing, the run's first step
        tree = {link.department_id for link in self.facts.department_chain}
        return actor.user_id == self.facts.owner_id or bool(
            tree.intersection(actor.managed_department_ids)
        )

    def _halt(self) -> bool:
        """The run stops where it waits, for the order's cancellation (False: not approved)."""
        self.halted = True
        return False

    def _cancelling_refusal(self) -> Refusal | None:
        """Refused once the order is being cancelled (at once, or its cancellation approved)."""
        if self.halted or self.cancel_approved or self.stage == Stage.cancelled:
            return Refusal(ALREADY_CANCELLED)
        if self.cancellation is not None and self.stage in BEFORE_CONFIRMATION:
            return Refusal(CANCELLING)
        return None

    def _todo_open(self, kind: TodoKind) -> bool:
        """A to-do of this kind is open in the book (not being completed right now), for the
        order itself (a change request's pricing to-do is the change's)."""
        return any(
            todo.kind == kind and "/change/" not in todo.key for todo in self.todos.open_todos()
        )

    def _next_round_number(self) -> int:
        """The number of the next approval round, the order's own or a change request's:
        above every number given out (ROUNDS_NUMBERED_APART)."""
        self.rounds_numbered = max(self.round_number, self.prepared_round, self.rounds_numbered) + 1
        return self.rounds_numbered

    def _enter(self, stage: Stage | None) -> None:
        if stage is None or stage == self.stage:
            return
        self.stage = stage
        workflow.upsert_search_attributes([STAGE.value_set(stage.value)])

    def _mark_delayed(self, delayed: bool) -> None:
        """Whether a shipment milestone is late, as ShipmentDelayed (and the old Delayed)."""
        pairs = [DELAYED.value_set(delayed)]
        if workflow.patched(SHIPMENT_DELAYED_ATTRIBUTE):
            pairs.append(SHIPMENT_DELAYED.value_set(delayed))
        workflow.upsert_search_attributes(pairs)
