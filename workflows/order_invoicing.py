"""OrderWorkflow's invoices: applied for by the owner or finance, issued or rejected by finance."""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    INVOICE_ROLES,
    InvoiceDecision,
    InvoiceRequest,
    InvoiceStep,
    Stage,
    TodoDone,
)
from workflows.activity_refs import CollectionSteps
from workflows.order_state import OrderState
from workflows.refusals import INVALID, NOT_ASSIGNEE, NOT_OPEN, refuse_if
from workflows.rules import ZERO

# Invoices are applied for from confirmation until the order closes (customers often ask for
# theirs once they have paid).
AFTER_CONFIRMATION = {Stage.fulfilment, Stage.acceptance, Stage.collection, Stage.cost_review}


class OrderInvoicing(OrderState):
    """The request_invoice and decide_invoice updates and what may still be invoiced."""

    @workflow.update
    async def request_invoice(self, request: InvoiceRequest) -> TodoDone:
        self.invoice_requests += 1
        number = self.invoice_requests
        wid = workflow.info().workflow_id
        todo_key = f"{wid}/invoice/{number}"
        self.invoices_pending[todo_key] = request.amount
        await self.steps.run(
            CollectionSteps.request_invoice,
            self._invoice_step(
                number,
                "requested",
                actor_id=request.actor.user_id,
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
        refuse_if(request.refusal())
        refuse_if(request.room_refusal(self._invoiceable()))

    @workflow.update
    async def decide_invoice(self, decision: InvoiceDecision) -> TodoDone:
        todo = self.todos.take(decision.todo_key, decision.actor)
        number = int(decision.todo_key.rsplit("/", 1)[1])
        issued = decision.outcome == "issued"
        result = await self.steps.run(
            CollectionSteps.decide_invoice,
            self._invoice_step(
                number,
                "decided",
                actor_id=decision.actor.user_id,
                todo_key=decision.todo_key,
                outcome=decision.outcome,
                invoice_number=decision.invoice_number.strip() if issued else "",
                comment=decision.reason,
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

    def _invoice_step(self, number: int, name: str, **fields: object) -> InvoiceStep:
        """A step of the order's invoice `number` (its step key ends in `name`)."""
        wid = workflow.info().workflow_id
        assert self.facts is not None  # invoices are applied for only after confirmation
        return InvoiceStep(
            order_id=self.facts.order_id,
            workflow_id=wid,
            step_key=f"{wid}/invoice/{number}/{name}",
            request_number=number,
            **fields,
        )

    def _invoiceable(self) -> Decimal:
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return self.facts.total - self.invoiced - sum(self.invoices_pending.values(), ZERO)
