"""Returns: goods that come back after dispatch (asked for, approved, received by the warehouse
as restocked or scrapped), and the money that follows them (net total, installments, refund,
credit note)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from models.domain.collection import InstallmentState
from models.domain.core import (
    Actor,
    Assignee,
    RefusableStepResult,
    Refusal,
    Stage,
    TodoDone,
)

# What the warehouse finds a returned piece fit for: back on hand, or not.
RETURN_CONDITIONS = ("restock", "scrap")
# The stages after dispatch in which goods may come back (not closed, not cancelled).
RETURNABLE_STAGES = frozenset({Stage.fulfilment, Stage.acceptance, Stage.collection})
# A return not yet received in full nor closed.
OPEN_RETURN_STATUSES = frozenset({"requested", "approved", "receiving"})
# Refused by the input models (the web runs the same checks).
NO_RETURN_LINES = "Say which lines come back and how many of each."
RETURN_QUANTITY_NOT_POSITIVE = "Line %(line)s: the quantity must be more than zero."
RETURN_LINE_TWICE = "Line %(line)s is listed twice."
NO_RETURN_REASON = "Say why the goods come back."
RETURN_REJECTED_WITHOUT_REASON = "Say why the return is rejected."
BAD_CONDITION = "Line %(line)s: the condition must be restock or scrap."
NOTHING_RECEIVED = "Give the quantity received of at least one line, or close the rest."
NO_CLOSE_REASON = "Say why the rest of the return will not come back."
# Refused by the workflow or the step that records the request (they need the order's state).
NOT_DISPATCHED = "Order %(number)s has not been dispatched: there is nothing to return."
RETURN_CLOSED_ORDER = "Order %(number)s is closed or cancelled: it takes no return."
RETURN_NOT_NOW = "Order %(number)s takes no return at this stage."
NO_RETURN_APPROVER = "No manager above the owner can approve this return."
NOTHING_DISPATCHED_ON_LINE = "Line %(line)s is not on the order or nothing of it was dispatched."
MORE_THAN_RETURNABLE = (
    "Line %(line)s: %(quantity)s is more than the %(room)s that can still come back "
    "(dispatched less returned or asked for)."
)
MORE_THAN_EXPECTED = (
    "Line %(line)s: %(quantity)s received is more than the %(room)s still expected back."
)
ONLY_OWNER_OPS_SERVICE = (
    "Only the order's owner, a manager above them, ops or service can ask for a return."
)
OWN_RETURN = "Nobody approves a return they asked for."
RETURN_OPEN = (
    "Return %(number)s of this order is still open: receive or close it before the order is "
    "cancelled."
)


def quantity_text(quantity: Decimal) -> str:
    """A quantity as people write it: 2, 1.5 (not 2.000)."""
    return f"{quantity.normalize():f}"


class ReturnLine(BaseModel):
    """A line of the order and how many of it come back."""

    line_id: int
    quantity: Decimal = Field(max_digits=15, decimal_places=3)


class ReturnRequest(BaseModel):
    """The owner, ops or service ask for goods to come back: lines, quantities and why."""

    actor: Actor
    lines: list[ReturnLine]
    reason: str = Field(max_length=2000)

    def refusal(self) -> Refusal | None:
        if not self.lines:
            return Refusal(NO_RETURN_LINES)
        seen: set[int] = set()
        for line in self.lines:
            if line.quantity <= 0:
                return Refusal(RETURN_QUANTITY_NOT_POSITIVE, line=line.line_id)
            if line.line_id in seen:
                return Refusal(RETURN_LINE_TWICE, line=line.line_id)
            seen.add(line.line_id)
        if not self.reason.strip():
            return Refusal(NO_RETURN_REASON)
        return None


class ReceivedLine(BaseModel):
    """What the warehouse received of a line in one condition: back on hand (restock) or not
    (scrap). A line received in both conditions is given twice, once per condition."""

    line_id: int
    quantity: Decimal = Field(max_digits=15, decimal_places=3)
    condition: str = Field(max_length=20)


class ReturnReceipt(BaseModel):
    """The warehouse received (part of) an approved return; what is still expected may be
    received later, or closed with a reason (it will not come back)."""

    todo_key: str
    actor: Actor
    outcome: Literal["received"] = "received"
    lines: list[ReceivedLine] = Field(default_factory=list)
    close_rest: bool = False
    close_reason: str = Field(default="", max_length=2000)

    def refusal(self) -> Refusal | None:
        seen: set[tuple[int, str]] = set()
        for line in self.lines:
            if line.condition.strip() not in RETURN_CONDITIONS:
                return Refusal(BAD_CONDITION, line=line.line_id)
            if line.quantity <= 0:
                return Refusal(RETURN_QUANTITY_NOT_POSITIVE, line=line.line_id)
            if (line.line_id, line.condition.strip()) in seen:
                return Refusal(RETURN_LINE_TWICE, line=line.line_id)
            seen.add((line.line_id, line.condition.strip()))
        if not self.lines and not self.close_rest:
            return Refusal(NOTHING_RECEIVED)
        if self.close_rest and not self.close_reason.strip():
            return Refusal(NO_CLOSE_REASON)
        return None

    def received(self) -> dict[int, Decimal]:
        """The quantity received per line, both conditions together."""
        total: dict[int, Decimal] = {}
        for line in self.lines:
            total[line.line_id] = total.get(line.line_id, Decimal("0")) + line.quantity
        return total

    def room_refusal(self, expected: dict[int, Decimal]) -> Refusal | None:
        """Refused above what each line of the return still expects back."""
        for line_id, quantity in sorted(self.received().items()):
            room = expected.get(line_id, Decimal("0"))
            if quantity > room:
                return Refusal(
                    MORE_THAN_EXPECTED,
                    line=line_id,
                    quantity=quantity_text(quantity),
                    room=quantity_text(room),
                )
        return None


class ReturnMoney(BaseModel):
    """What a received return does to the order's money, in this order: the unpaid
    installments reduced (the latest first), money paid above the new net total refunded,
    invoiced above it credited."""

    value: Decimal  # of the goods that came back, at each line's net unit price
    net_total: Decimal  # the order's total less everything returned so far
    installments: list[InstallmentState] = Field(default_factory=list)
    reduced: Decimal = Decimal("0")  # taken off the unpaid installments
    refund: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")


class ReturnRequested(TodoDone):
    """What request_return answers: the return's number and the order's stage (a TodoDone, so
    that the answer of a request sent again after a lost answer reads as any action's)."""

    todo_key: str = ""
    number: int
    stage: Stage
    status: str = "requested"


# Activity inputs and results of the return's steps.


class ReturnStep(BaseModel):
    """One step of a return, keyed for idempotency."""

    order_id: int
    workflow_id: str
    step_key: str
    number: int  # the order's return, 1, 2, ...
    actor_id: int | None = None
    lines: list[ReturnLine] = Field(default_factory=list)
    reason: str = ""
    todo_key: str | None = None  # the receive_return to-do the step opens or closes
    outcome: str = ""  # approve, reject (the round's decision)
    comment: str = ""
    approver_ids: list[int] = Field(default_factory=list)
    received: list[ReceivedLine] = Field(default_factory=list)
    close_rest: bool = False
    receipt: int = 0  # the return's receipt 1, 2, ... (its stock moves once)
    next_todo_key: str | None = None  # the receive_return to-do for what is still expected
    refund_key: str | None = None  # finance's confirm_refund to-do, if money goes back
    credit_note_key: str | None = None  # finance's issue_credit_note to-do, if credited
    # The return of everything dispatched that an approved cancellation opens: no approval
    # of its own, and its money is the cancellation's (the refund of everything received).
    for_cancellation: bool = False
    # Asked for: the owner's department manager who approves first (the director's step, when
    # the policy gives one, goes around a director who is that manager).
    approver: Assignee | None = None


class ReturnStepResult(RefusableStepResult):
    """What a return's step reports; a problem (refused, nothing written) as its message and
    its template and values, so the web can say it in the person's language."""

    expected: dict[int, Decimal] = Field(default_factory=dict)  # still to come back, per line
    money: ReturnMoney | None = None  # a receipt's consequences
    finished: bool = False  # nothing more is expected back: the return is received or closed
    # Asked for: the value of the lines asked back, at each line's net unit price, and who
    # approves after the manager (the approval policy's director step; empty: nobody).
    value: Decimal | None = None
    directors: list[Assignee] = Field(default_factory=list)
