"""OrderWorkflow's money of returns: the refunds and credit notes a received return asks
finance for, confirmed and issued through the cancellation's updates (confirm_refund,
issue_credit_note) and activities, which hand a return's to-dos here."""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import CancellationStep, CreditNoteIssue, RefundConfirmation, TodoDone
from workflows.activity_refs import CancellationSteps
from workflows.order_cancellation import OrderCancellation
from workflows.refusals import INVALID
from workflows.rules import ZERO


class OrderReturnMoney(OrderCancellation):
    """What finance do about a return's money (OrderCancellation's hooks)."""

    def __init__(self) -> None:
        super().__init__()
        self.return_refunds: dict[str, Decimal] = {}  # confirm_refund key -> what is left
        self.return_credits: set[str] = set()  # issue_credit_note keys still open

    def _of_return(self, todo_key: str) -> bool:
        return todo_key in self.return_refunds or todo_key in self.return_credits

    def _refund_room_of(self, todo_key: str) -> Decimal:
        return self.return_refunds.get(todo_key, super()._refund_room_of(todo_key))

    async def _return_refund(self, refund: RefundConfirmation) -> TodoDone:
        left = self.return_refunds.pop(refund.todo_key) - refund.amount
        next_key = f"{refund.todo_key}/rest" if left > ZERO else None
        if next_key is not None:  # the rest is another refund
            self.return_refunds[next_key] = left
        await self.steps.run(
            CancellationSteps.confirm_refund,
            self._money_step(
                f"{refund.todo_key}/refunded", actor_id=refund.actor.user_id,
                todo_key=refund.todo_key, amount=refund.amount, paid_on=refund.paid_on,
                method=refund.method.strip(), reference=refund.reference.strip(),
                next_refund_key=next_key,
            ),
        )  # fmt: skip
        return TodoDone(todo_key=refund.todo_key, stage=self.stage)

    async def _return_credit_note(self, issue: CreditNoteIssue) -> TodoDone:
        todo = self.todos.take(issue.todo_key, issue.actor)
        result = await self.steps.run(
            CancellationSteps.issue_credit_note,
            self._money_step(
                f"{issue.todo_key}/issued", actor_id=issue.actor.user_id,
                todo_key=issue.todo_key, credit_note_number=issue.credit_note_number.strip(),
            ),
        )  # fmt: skip
        if result.problem:
            self.todos.add([todo])  # nothing changed: the to-do stays open
            raise ApplicationError(result.problem, type=INVALID)
        self.return_credits.discard(issue.todo_key)
        return TodoDone(todo_key=issue.todo_key, stage=self.stage)

    def _money_step(self, step_key: str, **fields: object) -> CancellationStep:
        return CancellationStep.model_validate(
            {
                "order_id": self._return_order_id,
                "workflow_id": workflow.info().workflow_id,
                "step_key": step_key,
                "number": self.cancellations,
                **fields,
            }
        )

    @property
    def _return_order_id(self) -> int:
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return self.facts.order_id
