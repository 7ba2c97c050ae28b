"""To-dos as the API returns them, and the body that completes each kind."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, PlainValidator

from models.domain import DispatchLine, ReceivedLine
from models.queries.todo_about import TodoAbout
from web.commands.completion import CostItemIn
from web.commands.fulfilment import MilestoneDate
from web.schemas.approval import FACTS_COST_FIELDS, DecisionFactsOut
from web.schemas.core import MAX_ID, Model


class TodoOut(Model):
    id: int
    kind: str
    order_number: str
    title: str
    status: str
    created_at: datetime
    due_at: datetime | None
    requested_by: str | None = None
    customer: str | None = None
    order_total: Decimal | None = None
    overdue: bool = False
    facts: DecisionFactsOut | None = None
    # record/approve_actual_costs, review/approve_variance: the batch (`batch`, `total`, `items`,
    # `final`) or the comparison (`expected`, `actual`, `difference`, `percent`,
    # `above_threshold`, `threshold`, `categories`), for the roles that see costs.
    cost_facts: dict[str, Any] | None = None
    # estimate_cost: the change request it prices (None: the order's own estimate); its lines
    # as the change makes them are in `cost_facts` (`lines`, `freight`, ...).
    change_request: int | None = None
    # What tells the to-do apart from the order's other to-dos, by kind: confirm_payment
    # `payment`, `amount`, `method`, `reference`, `received_on`; collect `installment`,
    # `amount`, `due_on`; confirm_milestone `milestone`, `planned_on`; approve_actual_costs
    # `batch`, `amount`; issue_invoice `invoice_request`, `amount`; confirm_refund `refund`,
    # `amount`; issue_credit_note `invoice_number`, `amount`; approve_return and
    # receive_return `return_number`; approve_change `change_request`; only the facts it has.
    about: TodoAbout | None = None

    def for_viewer(self, sees_costs: bool) -> dict[str, Any]:
        """The JSON body for this viewer: the margin and cost figures left out unless they may
        see costs (the inbox leaves a cost batch's `about` out already); `about` carries only
        the facts its kind has."""
        if sees_costs:
            body = self.model_dump(mode="json")
        else:
            body = self.model_dump(
                mode="json", exclude={"facts": FACTS_COST_FIELDS, "cost_facts": True}
            )
        if body.get("about"):
            body["about"] = {k: v for k, v in body["about"].items() if v is not None}
        return body


class SiteContactOut(Model):
    name: str
    phone: str
    email: str


class SiteOut(Model):
    """Where the goods are installed and accepted (the customer's address) and whom to call."""

    address: str
    contacts: list[SiteContactOut]


class TodoDetailOut(TodoOut):
    """One to-do; an acceptance (`confirm_acceptance`) also with its order's site."""

    site: SiteOut | None = None


class TodoCompletedOut(Model):
    """A completed to-do and the stage its order is in now."""

    id: int
    status: str
    stage: str


# -- to-do completions: one body per kind (DESIGN: to-do kinds and the outcomes that complete
# them; each kind's declaration in web.commands.todo_kinds takes its outcomes from here). Fields
# a kind needs are checked by its declaration with messages that name what is missing, so they
# keep their defaults here; unknown fields are ignored. ----------------------


class LineCostIn(BaseModel):
    # An order line's id; in a change request's estimate a line the change adds is -1, -2, ...
    # (as the to-do's `cost_facts.lines` number them).
    line_id: Annotated[int, Field(ge=-MAX_ID, le=MAX_ID)]
    unit_cost: Decimal = Field(ge=0)


class EstimateCostCompletion(BaseModel):
    """Pricing confirm each line's unit cost, and the freight, installation and other costs."""

    kind: Literal["estimate_cost"]
    outcome: Literal["estimated"]
    lines: list[LineCostIn] | None = None
    freight: Decimal = Field(default=Decimal("0"), ge=0)
    installation: Decimal = Field(default=Decimal("0"), ge=0)
    other: Decimal = Field(default=Decimal("0"), ge=0)


class ApproveCompletion(BaseModel):
    """An approval; a rejection needs a comment saying why."""

    kind: Literal["approve"]
    outcome: Literal["approve", "reject"]
    comment: str = ""


class ReviseCompletion(BaseModel):
    """The owner withdraws a rejected order (resubmitting is POST /orders/{number}/submit)."""

    kind: Literal["revise"]
    outcome: Literal["resubmit", "withdraw"]
    comment: str = ""


class PlanShipmentCompletion(BaseModel):
    """Ops give every milestone of the order's shipping mode a planned date."""

    kind: Literal["plan_shipment"]
    outcome: Literal["planned"]
    milestones: list[MilestoneDate] | None = None


class ReplanShipmentCompletion(BaseModel):
    """After an approved change to the order, ops give every milestone of its shipping mode
    its planned date again (as for the first plan); the timers move to the new dates."""

    kind: Literal["replan_shipment"]
    outcome: Literal["planned"]
    milestones: list[MilestoneDate] | None = None


class ConfirmDispatchCompletion(BaseModel):
    """The goods left with `carrier` under `tracking_number` on `dispatched_on` (today when
    left out; not in the future nor before the order was confirmed). `dispatch_lines`
    [`line_id`, `quantity`]: only these left now (a line left out: none of it), the rest
    waits for a new confirm_dispatch to-do; left out, all that remains of the round left."""

    kind: Literal["confirm_dispatch"]
    outcome: Literal["dispatched"]
    carrier: str = ""
    tracking_number: str = ""
    dispatched_on: date | None = None
    dispatch_lines: list[DispatchLine] | None = None


class ConfirmMilestoneCompletion(BaseModel):
    """`code` defaults to the to-do's milestone."""

    kind: Literal["confirm_milestone"]
    outcome: Literal["done"]
    code: str = ""
    actual_date: date | None = None


class ConfirmArrivalCompletion(BaseModel):
    kind: Literal["confirm_arrival"]
    outcome: Literal["arrived"]
    actual_date: date | None = None


class ConfirmAcceptanceCompletion(BaseModel):
    """`accepted` with the date and who signed for the customer, or `defect` with a comment."""

    kind: Literal["confirm_acceptance"]
    outcome: Literal["accepted", "defect"]
    accepted_on: date | None = None
    signed_by: str = ""
    comment: str = ""


class HandleExceptionCompletion(BaseModel):
    kind: Literal["handle_exception"]
    outcome: Literal["resolved"]
    resolution: str = ""
    reship: bool = False


class ConfirmPaymentCompletion(BaseModel):
    """Finance confirm the money arrived, or reject it with a comment."""

    kind: Literal["confirm_payment"]
    outcome: Literal["confirm", "reject"]
    comment: str = ""


class CollectCompletion(BaseModel):
    """A collect to-do closes by itself once the installment is paid: completing it is
    refused (409)."""

    kind: Literal["collect"]
    outcome: str = ""


class IssueInvoiceCompletion(BaseModel):
    """`issued` with the invoice number, or `reject` with a comment."""

    kind: Literal["issue_invoice"]
    outcome: Literal["issued", "reject"]
    invoice_number: str = Field(default="", max_length=50)
    comment: str = ""


class RecordActualCostsCompletion(BaseModel):
    """A batch of actual costs; `final` when no more follow (an empty final batch says every
    cost is recorded)."""

    kind: Literal["record_actual_costs"]
    outcome: Literal["recorded"]
    items: list[CostItemIn] | None = None
    final: bool = False


class ApproveActualCostsCompletion(BaseModel):
    kind: Literal["approve_actual_costs"]
    outcome: Literal["approve", "reject"]
    comment: str = ""


class ReviewVarianceCompletion(BaseModel):
    """The explanation is required when the variance is above the policy's threshold."""

    kind: Literal["review_variance"]
    outcome: Literal["reviewed"]
    explanation: str = Field(default="", max_length=2000)


class ApproveVarianceCompletion(BaseModel):
    kind: Literal["approve_variance"]
    outcome: Literal["approve", "reject"]
    comment: str = ""


class ApproveCancellationCompletion(BaseModel):
    """The owner's department manager approves a cancellation, or rejects it with a comment."""

    kind: Literal["approve_cancellation"]
    outcome: Literal["approve", "reject"]
    comment: str = ""


class ApproveChangeCompletion(BaseModel):
    """An approver of a change request approves it, or rejects it with a comment (the order
    then stays as it was)."""

    kind: Literal["approve_change"]
    outcome: Literal["approve", "reject"]
    comment: str = ""


class ConfirmRefundCompletion(BaseModel):
    """Finance paid money received back: at most what is left of it to refund."""

    kind: Literal["confirm_refund"]
    outcome: Literal["refunded"]
    amount: Decimal = Field(default=Decimal("0"), max_digits=16, decimal_places=2)
    paid_on: date | None = None
    method: str = Field(default="", max_length=30)
    reference: str = Field(default="", max_length=100)


class IssueCreditNoteCompletion(BaseModel):
    """Finance issue the credit note (red-letter invoice) of an issued invoice; its number is
    unique among invoice and credit note numbers."""

    kind: Literal["issue_credit_note"]
    outcome: Literal["issued"]
    credit_note_number: str = Field(default="", max_length=50)


class ApproveReturnCompletion(BaseModel):
    """The owner's department manager approves a return, or rejects it with a comment (the
    goods then stay with the customer)."""

    kind: Literal["approve_return"]
    outcome: Literal["approve", "reject"]
    comment: str = ""


class ReceiveReturnCompletion(BaseModel):
    """The warehouse received (part of) an approved return: per line the quantity and its
    condition, `restock` (back on hand) or `scrap`; a line in both conditions is given twice.
    What is not received yet is expected later, unless `close_rest` closes it (`close_reason`
    says why)."""

    kind: Literal["receive_return"]
    outcome: Literal["received"]
    received: list[ReceivedLine] | None = None
    close_rest: bool = False
    close_reason: str = Field(default="", max_length=2000)


TodoCompletionIn = Annotated[
    EstimateCostCompletion
    | ApproveCompletion
    | ReviseCompletion
    | PlanShipmentCompletion
    | ReplanShipmentCompletion
    | ConfirmDispatchCompletion
    | ConfirmMilestoneCompletion
    | ConfirmArrivalCompletion
    | ConfirmAcceptanceCompletion
    | HandleExceptionCompletion
    | ConfirmPaymentCompletion
    | CollectCompletion
    | IssueInvoiceCompletion
    | RecordActualCostsCompletion
    | ApproveActualCostsCompletion
    | ReviewVarianceCompletion
    | ApproveVarianceCompletion
    | ApproveCancellationCompletion
    | ConfirmRefundCompletion
    | IssueCreditNoteCompletion
    | ApproveChangeCompletion
    | ApproveReturnCompletion
    | ReceiveReturnCompletion,
    Field(discriminator="kind"),
]
# kind -> its completion model
COMPLETIONS: dict[str, type[BaseModel]] = {
    get_args(model.model_fields["kind"].annotation)[0]: model
    for model in get_args(get_args(TodoCompletionIn)[0])
}


def _json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("The body must be a JSON object.")
    return value


# The body of POST /api/v1/todos/{id}/complete as OpenAPI shows it (TodoCompletionIn). It is
# read as a plain object so that a body without `kind` (which clients sent before the union
# existed) still works: the route takes the kind from the to-do and then validates.
CompletionBody = Annotated[
    dict[str, Any], PlainValidator(_json_object, json_schema_input_type=TodoCompletionIn)
]
