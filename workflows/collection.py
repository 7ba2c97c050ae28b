"""CollectionWorkflow: an order's money, from confirmation until it is paid in full."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

from models.domain import (
    ALREADY_CANCELLED,
    CollectionInput,
    CollectionPolicy,
    CollectionResult,
    CollectionStatus,
    CollectionStep,
    InstallmentState,
    OpenTodo,
    PaymentDecision,
    PaymentRegistration,
    PaymentTrigger,
    PendingPayment,
    Stage,
    TodoDone,
    TriggerEvent,
)
from workflows import rules
from workflows.activity_refs import CollectionSteps
from workflows.collection_cancellation import CollectionCancellation
from workflows.collection_changes import CollectionChanges
from workflows.collection_timers import next_timer, on_due_date
from workflows.refusals import INVALID, NOT_ASSIGNEE, NOT_OPEN, refuse_if
from workflows.rules import ZERO
from workflows.steps import StepRunner, TodoBook

# Collections started before actual costs existed did not ask ops for them on the first payment
# (their order does, when it reaches cost review).
ACTUAL_COSTS = "actual-costs"


@workflow.defn
class CollectionWorkflow(CollectionChanges, CollectionCancellation):
    """Each installment is watched by durable timers: a reminder before its due date, the
    overdue moment (a collect to-do for the owner, the order turns red), and the escalations to
    the sales manager and the director. The owner registers payments, finance confirm them and
    they are allocated oldest due first. Long collections continue as new, carrying their state."""

    @workflow.init
    def __init__(self, collection: CollectionInput) -> None:
        self.input = collection
        self.todos = TodoBook()
        self.todos.add(collection.open_todos)
        self.steps = StepRunner(self.todos)
        self.installments: dict[int, InstallmentState] = {
            i.position: i for i in collection.installments
        }
        self.pending: dict[str, PendingPayment] = {p.todo_key: p for p in collection.pending}
        self.references = set(collection.references)
        self.payments = collection.payments
        self.policy: CollectionPolicy | None = collection.policy
        self.events: dict[PaymentTrigger, date] = dict(collection.events)
        self.new_events: list[TriggerEvent] = []
        self.deposit_told = collection.deposit_told
        self.told: CollectionStatus | None = None  # what the order was last told
        self.changes = 0  # bumped whenever due dates or paid amounts change: timers look again

    # -- the process ---------------------------------------------------------------------------

    @workflow.signal
    def refresh(self) -> None:
        """Nothing to do: the workflow task it causes brings a worker's cached copy of this
        workflow back in line with its history when a lost workflow task (a server that died
        while an update was being accepted) left the copy ahead of it."""

    @workflow.run
    async def run(self, collection: CollectionInput) -> CollectionResult:
        if not collection.started:
            started = await self.steps.run(
                CollectionSteps.start_collection, self._step("installments")
            )
            self.installments = {i.position: i for i in started.installments}
            self.policy = started.policy
            self.events[PaymentTrigger.confirmation] = workflow.now().date()
            await self._tell_order()
            await self._tell_shipment_if_deposit_paid()
        while (self._open() > ZERO or self.pending) and not self.stopped:
            if self._history_is_long():
                await self._quiet()
                if not self.new_events:  # else an event came meanwhile: fix its dates first
                    workflow.continue_as_new(self._carried())
            if self.new_events:
                await self._fix_due_dates()
                continue
            changed = self._changed_since(self.changes)
            action = next_timer(self.installments.values(), self.policy, workflow.now())
            if action is None:
                await workflow.wait_condition(changed)
            else:
                moment, kind, due = action
                wait = moment - workflow.now()
                if wait > timedelta(0):
                    try:
                        await workflow.wait_condition(changed, timeout=wait)
                        continue
                    except TimeoutError:
                        pass
                await self._fire(kind, due)
        if self.stopped:  # the order was cancelled
            return await self._end_stopped()
        await self._quiet()
        return CollectionResult(paid_on=workflow.now().date())

    async def _quiet(self) -> None:
        """No update or signal handler still running and no mail still being sent (a handler
        may queue mail while the sender is awaited): nothing is lost across the boundary."""
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self.steps.mail_sent()
            if workflow.all_handlers_finished():
                return

    def _changed_since(self, seen: int) -> Callable[[], bool]:
        return lambda: self.changes != seen

    async def _fire(self, kind: str, due: list[InstallmentState]) -> None:
        names = "+".join(on_due_date(i) for i in due)
        copies = [i.model_copy() for i in due]
        if kind == "remind":
            for item in due:
                item.reminded_for = item.due_date
            await self.steps.run(
                CollectionSteps.remind_installment,
                self._step(f"remind/{names}", installments=copies),
            )
        elif kind == "overdue":
            for item in due:
                item.overdue_for = item.due_date
                item.reminded_for = item.due_date  # too late for a reminder
            await self.steps.run(
                CollectionSteps.mark_overdue,
                self._step(f"overdue/{names}", installments=copies),
            )
            await self._tell_order()
        else:
            for item in due:
                item.alerted.append(kind)
            await self.steps.run(
                CollectionSteps.escalate_overdue,
                self._step(f"escalate/{kind}/{names}", installments=copies, level=kind),
            )

    async def _fix_due_dates(self) -> None:
        events, self.new_events = self.new_events, []
        fixed = []
        for event in events:
            if event.trigger in self.events:
                continue  # a second dispatch (reshipment) does not move the dates
            self.events[event.trigger] = event.on
            for item in self.installments.values():
                if item.trigger == event.trigger and item.due_date is None:
                    item.due_date = rules.due_date(
                        item.trigger, item.offset_days, None, self.events
                    )
                    fixed.append(item.model_copy())
        if fixed:
            await self.steps.run(
                CollectionSteps.fix_due_dates,
                self._step(
                    "due/" + "+".join(on_due_date(i) for i in fixed),
                    installments=fixed,
                    status=self._status(),
                ),
            )
        self.changes += 1

    def _history_is_long(self) -> bool:
        info = workflow.info()
        if self.input.history_limit is not None:
            return info.get_current_history_length() >= self.input.history_limit
        return info.is_continue_as_new_suggested()

    def _carried(self) -> CollectionInput:
        return self.input.model_copy(
            update={
                "started": True,
                "installments": list(self.installments.values()),
                "pending": list(self.pending.values()),
                "references": sorted(self.references),
                "payments": self.payments,
                "policy": self.policy,
                "events": self.events,
                "open_todos": self.todos.open_todos(),
                "deposit_told": self.deposit_told,
            }
        )

    # -- what others are told ----------------------------------------------------------------------

    async def _tell_order(self, costs_todo: OpenTodo | None = None) -> None:
        """The order's Outstanding and Overdue search attributes follow the money (and the
        first payment's record_actual_costs to-do is handed to the order)."""
        status = CollectionStatus(
            outstanding=self._open(), overdue=self._overdue(), costs_todo=costs_todo
        )
        parent = workflow.info().parent
        if parent is None or status == self.told:
            return
        self.told = status
        await workflow.get_external_workflow_handle(parent.workflow_id).signal(
            "collection_changed", status
        )

    async def _tell_shipment_if_deposit_paid(self) -> None:
        """Dispatch held for the deposit may go once the installments due on confirmation are
        paid."""
        if not self.input.hold_for_deposit or self.deposit_told:
            return
        deposit = [
            i for i in self.installments.values() if i.trigger == PaymentTrigger.confirmation
        ]
        if any(i.open > ZERO for i in deposit):
            return
        self.deposit_told = True
        parent = workflow.info().parent
        if parent is None:
            return
        shipment = workflow.get_external_workflow_handle(f"{parent.workflow_id}/shipment")
        # The shipment may have ended already (ops released the hold by hand): no matter.
        with contextlib.suppress(FailureError):
            await shipment.signal("deposit_paid")

    # -- the owner registers a payment, finance confirm it ---------------------------------------

    @workflow.update
    async def register_payment(self, payment: PaymentRegistration) -> TodoDone:
        self.payments += 1
        number = self.payments
        reference = payment.reference.strip()
        todo_key = f"{self._wid}/payment/{number}"
        self.references.add(reference.casefold())
        self.pending[todo_key] = PendingPayment(
            number=number, amount=payment.amount, todo_key=todo_key, reference=reference.casefold()
        )
        await self.steps.run(
            CollectionSteps.register_payment,
            self._step(
                f"payment/{number}/registered",
                actor_id=payment.actor.user_id,
                todo_key=todo_key,
                payment_number=number,
                amount=payment.amount,
                received_on=payment.received_on,
                method=payment.method.strip(),
                reference=reference,
            ),
        )
        return TodoDone(todo_key=todo_key, stage=Stage.collection)

    @register_payment.validator
    def validate_register_payment(self, payment: PaymentRegistration) -> None:
        if payment.actor.user_id != self.input.owner_id:
            raise ApplicationError(
                "Only the order's owner registers its payments.", type=NOT_ASSIGNEE
            )
        if self.stopped:
            raise ApplicationError(ALREADY_CANCELLED, type=NOT_OPEN)
        refuse_if(payment.refusal())
        if payment.received_on > workflow.now().date():
            raise ApplicationError("The payment cannot be received in the future.", type=INVALID)
        refuse_if(payment.reference_refusal(self.references))
        refuse_if(payment.payable_refusal(self._open() - self._pending()))

    @workflow.update
    async def decide_payment(self, decision: PaymentDecision) -> TodoDone:
        self.todos.take(decision.todo_key, decision.actor)
        payment = self.pending.pop(decision.todo_key)
        confirmed = decision.outcome == "confirm"
        costs_todo_key = None
        parent = workflow.info().parent
        first = confirmed and all(i.paid <= ZERO for i in self.installments.values())
        if first and parent is not None and workflow.patched(ACTUAL_COSTS):
            costs_todo_key = f"{parent.workflow_id}/costs/record/1"
        allocations = []
        if confirmed:
            allocations = rules.allocate(list(self.installments.values()), payment.amount)
            for allocation in allocations:
                item = self.installments[allocation.position]
                item.paid += allocation.amount
                if item.open <= ZERO and item.due_date is not None:
                    self.todos.discard(f"{self._wid}/collect/{item.position}/{item.due_date}")
            self.changes += 1
        else:  # the money may be registered again under its reference
            self.references.discard(payment.reference)
        await self.steps.run(
            CollectionSteps.decide_payment,
            self._step(
                f"payment/{payment.number}/decided",
                actor_id=decision.actor.user_id,
                todo_key=decision.todo_key,
                payment_number=payment.number,
                amount=payment.amount,
                allocations=allocations,
                comment=decision.reason,
                overdue=self._overdue(),
                status=self._status(),
                costs_todo_key=costs_todo_key,
                order_workflow_id=parent.workflow_id if costs_todo_key and parent else None,
            ),
        )
        # The order's to-do: the order completes it, and is told of it here.
        costs_todo = self.todos.pop(costs_todo_key) if costs_todo_key else None
        if confirmed:
            await self._tell_order(costs_todo)
            await self._tell_shipment_if_deposit_paid()
        return TodoDone(todo_key=decision.todo_key, stage=Stage.collection)

    @decide_payment.validator
    def validate_decide_payment(self, decision: PaymentDecision) -> None:
        self.todos.check(decision.todo_key, decision.actor)
        refuse_if(decision.refusal())
        payment = self.pending.get(decision.todo_key)
        if payment is not None and decision.outcome == "confirm":
            try:
                rules.allocate(list(self.installments.values()), payment.amount)
            except rules.AllocationError as refused:
                raise ApplicationError(str(refused), type=INVALID) from None

    # -- the order says an event happened ----------------------------------------------------------

    @workflow.signal
    def event_happened(self, event: TriggerEvent) -> None:
        """Dispatch or acceptance happened: the installments hanging on it get due dates."""
        self.new_events.append(event)
        self.changes += 1

    @workflow.query
    def outstanding(self) -> CollectionStatus:
        return CollectionStatus(outstanding=self._open(), overdue=self._overdue())

    # -- helpers -----------------------------------------------------------------------------------

    def _open(self) -> Decimal:
        return sum((i.open for i in self.installments.values()), ZERO)

    def _pending(self) -> Decimal:
        return sum((p.amount for p in self.pending.values()), ZERO)

    def _overdue(self) -> bool:
        return any(
            i.open > ZERO and i.overdue_for is not None and i.overdue_for == i.due_date
            for i in self.installments.values()
        )

    def _status(self) -> str:
        return rules.collection_status(list(self.installments.values()), workflow.now().date())

    @property
    def _wid(self) -> str:
        return workflow.info().workflow_id

    def _step(self, name: str, **fields: object) -> CollectionStep:
        return CollectionStep(
            order_id=self.input.order_id,
            workflow_id=self._wid,
            step_key=f"{self._wid}/{name}",
            **fields,
        )
