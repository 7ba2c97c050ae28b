"""Cancellation: the request with its reason, its approval after confirmation, the refunds of
money received and the credit notes of issued invoices, and the steps that record them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from models.domain.collection import PAYMENT_METHODS
from models.domain.core import Actor, Assignee, Refusal, RejectionSaysWhy, Stage, StepResult

# Why an order is cancelled (DESIGN: when the order changes).
REASON_CODES = ("customer_request", "duplicate", "credit", "stock", "price", "other")
# Cancelled at once by the owner or their manager: the order is not confirmed yet.
BEFORE_CONFIRMATION = frozenset({Stage.costing, Stage.approval, Stage.revising})
CANCELLATION_REJECTED_WITHOUT_REASON = "Say why the cancellation is rejected."
ALREADY_CANCELLED = "The order is cancelled already."
CANCELLING = "The order is being cancelled."
CANCELLATION_PENDING = "A cancellation of this order is already waiting for approval."
NOT_CANCELLABLE_AFTER_DISPATCH = (
    "The goods have left the warehouse: they must come back through a return before the order "
    "can be cancelled."
)
NOT_CANCELLABLE_CLOSED = "The order is closed: it can no longer be cancelled."
NOT_CANCELLABLE_IN_REVIEW = (
    "The order's cost review has begun: it can no longer be cancelled; a return takes goods back."
)
ONLY_OWNER_OR_MANAGER = "Only the order's owner or a manager of their department cancels it."
OWN_CANCELLATION = "Nobody approves their own cancellation."
HELD_FOR_CANCELLATION = "A cancellation of this order is waiting for approval: do not dispatch it."


class CancelOrder(BaseModel):
    """The owner (or a manager of the owner's department tree) cancels the order: a reason
    code and, in words, why."""

    actor: Actor
    reason_code: str = Field(max_length=30)
    reason: str = Field(max_length=2000)

    def refusal(self) -> Refusal | None:
        if not self.reason_code.strip():
            return Refusal("Choose the reason for the cancellation.")
        if self.reason_code.strip() not in REASON_CODES:
            allowed = ", ".join(REASON_CODES)
            return Refusal("The reason code must be one of: %(allowed)s.", allowed=allowed)
        if not self.reason.strip():
            return Refusal("Say why the order is cancelled.")
        return None


class CancellationDecision(RejectionSaysWhy):
    """The owner's department manager approves a cancellation after confirmation, or rejects it
    saying why (the order stays as it was)."""

    outcome: Literal["approve", "reject"]

    def refusal(self) -> Refusal | None:
        return self.rejection_refusal(CANCELLATION_REJECTED_WITHOUT_REASON)


class RefundConfirmation(BaseModel):
    """Finance paid money received back to the customer: how much, when, how, its reference."""

    todo_key: str
    actor: Actor
    outcome: Literal["refunded"] = "refunded"
    amount: Decimal = Field(max_digits=16, decimal_places=2)
    paid_on: date
    method: str = Field(max_length=30)
    reference: str = Field(max_length=100)

    def refusal(self) -> Refusal | None:
        if self.amount <= 0:
            return Refusal("The amount must be more than zero.")
        if self.method.strip() not in PAYMENT_METHODS:
            allowed = ", ".join(PAYMENT_METHODS)
            return Refusal("The method must be one of: %(allowed)s.", allowed=allowed)
        if not self.reference.strip():
            return Refusal("Give the refund's reference.")
        return None

    def room_refusal(self, room: Decimal) -> Refusal | None:
        """Refused above `room`: the money received less what is refunded already."""
        if self.amount <= room:
            return None
        return Refusal(
            "The refund is more than the money received that is not refunded yet: %(room)s.",
            room=f"{room:,.2f}",
        )


class CreditNoteIssue(BaseModel):
    """Finance issue the credit note (red-letter invoice) that cancels an issued invoice."""

    todo_key: str
    actor: Actor
    outcome: Literal["issued"] = "issued"
    credit_note_number: str = Field(max_length=50)

    def refusal(self) -> Refusal | None:
        if not self.credit_note_number.strip():
            return Refusal("Give the credit note number.")
        return None


class CancellationStep(BaseModel):
    """One step of a cancellation: what the activity records, keyed for idempotency."""

    order_id: int
    workflow_id: str
    step_key: str
    actor_id: int | None = None
    number: int = 1  # the order's cancellation request, 1, 2, ... (a rejected one frees it)
    reason_code: str = ""
    reason: str = ""
    todo_key: str | None = None  # the to-do this step closes
    approver: Assignee | None = None  # who approves a cancellation after confirmation
    # The director's step after the manager's (the policy's amount, the order above it).
    directors: list[Assignee] = Field(default_factory=list)
    director_todo_key: str | None = None
    outcome: str = ""
    comment: str = ""
    # The refund or credit note the step records, and the next refund to-do's key.
    amount: Decimal = Decimal("0")
    paid_on: date | None = None
    method: str = ""
    reference: str = ""
    credit_note_number: str = ""
    next_refund_key: str | None = None
    # The goods left: they come back through a return first (the order is not finished yet).
    goods_back: bool = False


class CancellationStepResult(StepResult):
    refund_due: Decimal = Decimal("0")  # the money received, to be refunded
    credit_notes: int = 0  # credit notes asked for (one per issued invoice)
    finished: bool = False  # nothing (more) to undo: the order is cancelled
    problem: str | None = None  # refused, nothing changed (a credit note number already used)
    # Asked for: who approves after the manager (the approval policy's director step); empty
    # when the manager's approval is enough.
    directors: list[Assignee] = Field(default_factory=list)
