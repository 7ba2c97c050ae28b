"""Change requests: what a person asks to change on a submitted order, and the revision it
becomes once approved (its diff: field, before, after)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from models.domain.approval import ApprovalPolicy
from models.domain.collection import InstallmentState, PaymentPlanItem
from models.domain.core import Actor, RefusableStepResult, Refusal, Stage, TodoDone
from models.domain.core import FieldChange as FieldChange  # where it was first defined
from models.domain.orders import CostEstimate, OrderFacts

# Refused by the web before the request is sent, and by the step that records it.
ONE_OPEN_CHANGE = "Change request %(number)s is still open: decide or withdraw it first."
CHANGE_DECIDED = "Change request %(number)s is decided already."
# The stages after submission and before the cost review, the order's own (not being revised).
CHANGEABLE_STAGES = frozenset(
    {
        Stage.costing,
        Stage.approval,
        Stage.confirmed,
        Stage.fulfilment,
        Stage.acceptance,
        Stage.collection,
    }
)
# Refused by the workflow's validators (and the web's checks).
OWN_CHANGE = "Nobody approves a change they asked for."
NO_OPEN_CHANGE = "The order has no open change request."
CHANGE_NOT_NOW = "Order %(number)s cannot be changed at this stage."
# A change of goods or quantities while pricing estimate the order itself (its estimate would
# not match the lines any more).
GOODS_WHILE_COSTING = (
    "Pricing are still estimating order %(number)s: its goods and quantities can change once"
    " their estimate is in."
)
ONLY_OWNER_OR_MANAGER_CHANGES = (
    "Only the order's owner or a manager above them can ask for a change."
)
ONLY_REQUESTER = "Only whoever asked for the change can withdraw it."


class LineChange(BaseModel):
    """A line as the change wants it: an existing line by `line_id`, a new one by
    `product_id`. A line of the order left out of the change is removed. A unit price or
    discount not given is the line's as it is (a new line's: the list price, no discount)."""

    line_id: int | None = None
    product_id: int | None = None
    quantity: Decimal = Field(max_digits=15, decimal_places=3)
    unit_price: Decimal | None = Field(default=None, max_digits=16, decimal_places=2)
    discount_percent: Decimal | None = Field(default=None, max_digits=7, decimal_places=3)

    def refusal(self, number: int) -> Refusal | None:
        if (self.line_id is None) == (self.product_id is None):
            return Refusal(
                "Line %(number)s: name the order line (line_id) or, for a new line, the "
                "product (product_id), not both.",
                number=number,
            )
        if self.quantity <= 0:
            return Refusal("Line %(number)s: the quantity must be more than zero.", number=number)
        if self.unit_price is not None and self.unit_price < 0:
            return Refusal("Line %(number)s: the unit price cannot be negative.", number=number)
        if self.discount_percent is not None and not (
            Decimal("0") <= self.discount_percent < Decimal("100")
        ):
            return Refusal(
                "Line %(number)s: the discount must be from 0 up to 100 %%.", number=number
            )
        return None


class ChangeRequest(BaseModel):
    """The owner (or a manager above them) asks to change a submitted order; what is left
    out stays as it is. Approved like an order, then applied as its next revision."""

    actor: Actor
    reason: str = Field(max_length=2000)
    lines: list[LineChange] | None = None
    order_discount_percent: Decimal | None = Field(default=None, max_digits=7, decimal_places=3)
    target_total: Decimal | None = Field(default=None, max_digits=16, decimal_places=2)
    requested_delivery_date: date | None = None
    payment_plan: list[PaymentPlanItem] | None = None

    def refusal(self) -> Refusal | None:
        if not self.reason.strip():
            return Refusal("Say why the order changes.")
        changes = (
            self.lines,
            self.order_discount_percent,
            self.target_total,
            self.requested_delivery_date,
            self.payment_plan,
        )
        if all(change is None for change in changes):
            return Refusal("The change request changes nothing.")
        if self.order_discount_percent is not None and self.target_total is not None:
            return Refusal("Give a whole-order discount or a target total, not both.")
        if self.lines is not None:
            if not self.lines:
                return Refusal("An order keeps at least one line; to end it, cancel it.")
            return self._line_refusal(self.lines)
        return None

    @staticmethod
    def _line_refusal(lines: list[LineChange]) -> Refusal | None:
        seen: set[int] = set()
        for number, line in enumerate(lines, start=1):
            if refusal := line.refusal(number):
                return refusal
            if line.line_id is not None:
                if line.line_id in seen:
                    return Refusal(
                        "Line %(number)s: order line %(line)s is given twice.",
                        number=number,
                        line=line.line_id,
                    )
                seen.add(line.line_id)
        return None


class TermLine(BaseModel):
    """A line as a revision compares it."""

    key: str  # the line's id, or "new-<n>" for a line the change adds
    product_code: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = Decimal("0")
    amount: Decimal


class OrderTerms(BaseModel):
    """What a change request can change on an order, as a revision compares it."""

    lines: list[TermLine]
    order_discount_percent: Decimal | None = None
    target_total: Decimal | None = None
    requested_delivery_date: date | None = None
    payment_plan: list[PaymentPlanItem] = Field(default_factory=list)
    total: Decimal


# -- the steps that record, apply and close a change request --------------------------------


class WithdrawChange(BaseModel):
    """Whoever asked for the change takes it back while it is open."""

    actor: Actor
    number: int  # the change request's number within the order


class ChangeRequested(TodoDone):
    """The answer to a change request (or its withdrawal): its number, its status and the
    order's stage. Its approval runs on, in approve_change to-dos."""

    todo_key: str = ""
    number: int = 0
    status: str = "open"


class RecordChange(BaseModel):
    """A change request is made: stored (open) and weighed for its approval."""

    order_id: int
    workflow_id: str
    step_key: str
    number: int  # the request's number within the order: 1, 2, ...
    change: ChangeRequest


class ApplyChange(BaseModel):
    """An approved change request becomes the order's next revision. `estimate`, when pricing
    estimated the changed lines, has the unit costs by line id (a new line by -1, -2, ... in
    the order the change lists its new lines, as ChangeRecorded's facts number them)."""

    order_id: int
    workflow_id: str
    step_key: str
    number: int
    actor_id: int | None = None  # who gave the last approval
    approver_ids: list[int] = Field(default_factory=list)  # told what changed, with the rest
    estimate: CostEstimate | None = None


class OpenChangeEstimate(BaseModel):
    """A change of products or quantities: pricing estimate the order as the change makes it
    (an estimate_cost to-do marked with the change request's number), before its approval."""

    order_id: int
    workflow_id: str
    todo_key: str
    number: int
    requested_by_id: int


class RecordChangeEstimate(BaseModel):
    """Pricing's estimate of a change: its to-do done and the timeline says what it gives
    (the order takes it only once the change is approved)."""

    order_id: int
    todo_key: str
    number: int
    actor_id: int
    expected_cost: Decimal
    expected_margin: Decimal


class CloseChange(BaseModel):
    """A change request rejected (by an approver, with the reason) or withdrawn (by whoever
    asked for it): the order stays as it was."""

    order_id: int
    workflow_id: str
    step_key: str
    number: int
    actor_id: int
    comment: str = ""


class ChangeStepResult(RefusableStepResult):
    """What a change step reports; a problem (refused, nothing written) as its message and
    its template and values, so the web can say it in the person's language."""


class ReplanInstallments(BaseModel):
    """The order tells its collection the installments after revision `revision`."""

    revision: int
    installments: list[InstallmentState]


class ChangeRecorded(ChangeStepResult):
    """The facts approval routing weighs on the order as the change would make it (new lines
    numbered -1, -2, ...), and whether pricing must estimate again (products or quantities
    changed)."""

    facts: OrderFacts | None = None
    policy: ApprovalPolicy | None = None  # the approval policy in force, to route the change
    needs_estimate: bool = False
    changes: list[FieldChange] = Field(default_factory=list)  # what the change would change


class ChangeApplied(ChangeStepResult):
    """The order's new revision: its number, diff and total; the installments for the
    collection to take (money paid stays where it is); whether the shipment is re-planned (a
    line added or removed, a quantity or the delivery date changed before dispatch); and,
    after dispatch, the quantities per line id that go in a new dispatch round."""

    revision: int = 0
    total: Decimal = Decimal("0")
    changes: list[FieldChange] = Field(default_factory=list)
    installments: list[InstallmentState] = Field(default_factory=list)
    replan: bool = False
    extra_dispatch: dict[int, Decimal] = Field(default_factory=dict)
