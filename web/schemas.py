"""What the API takes and returns (money and quantities as decimal strings) and the pages
render."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    Field,
    PlainValidator,
    SerializerFunctionWrapHandler,
    field_serializer,
)

from models.drafts import DraftLine, DraftOrder
from web.operations import CostItemIn, MilestoneDate

# Every id the API or the pages take: the databases keep ids in signed 64-bit integers, so a
# larger number is bad input (422), never a query that overflows (500). The bound is 2^63 - 1024
# rather than 2^63 - 1: the largest integer below 2^63 that a double holds exactly, so that the
# OpenAPI document (whose bounds are doubles) states the very limit that is checked.
MAX_ID = 2**63 - 1024
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Pages of a list: far more than any list has, and small enough that the offset
# (page - 1) * per_page stays a 64-bit integer.
MAX_PAGE = 1_000_000
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]


class DraftLineIn(DraftLine):
    product_id: Id


class DraftOrderIn(DraftOrder):
    """The body of POST /api/v1/orders and PATCH /api/v1/orders/{number}: models.drafts'
    DraftOrder with its ids bounded. The routes hand it on through DraftOrder's own validation,
    which stays the authority on what a draft may hold."""

    customer_id: Id
    # Narrowing a field in a subclass is how pydantic models bound it; mypy sees list's
    # invariance (DraftOrder.lines is list[DraftLine] in models.drafts).
    lines: list[DraftLineIn]  # type: ignore[assignment]


class Model(BaseModel):
    # A wrap serializer, so that every other value keeps its own serialization, and with it
    # the exclusions of nested fields (for_viewer's cost fields of lines and to-do facts). It
    # has no return annotation on purpose: pydantic then documents each field by its own type
    # (a Decimal as a string) instead of as "any value". Datetimes are stored in UTC, but SQLite
    # hands them back without their zone; they go out with it, as RFC 3339 date-times.
    @field_serializer("*", mode="wrap", when_used="json")
    def _decimals_as_strings(  # type: ignore[no-untyped-def]  # unannotated on purpose, above
        self, value: Any, handler: SerializerFunctionWrapHandler
    ):
        if isinstance(value, Decimal):
            return f"{value:f}"
        if isinstance(value, datetime) and value.tzinfo is None:
            return handler(value.replace(tzinfo=UTC))
        return handler(value)


class ErrorOut(BaseModel):
    """Every error the API answers: one sentence a person can act on."""

    detail: str


ERROR_MEANINGS = {
    400: "The body could not be parsed (not well-formed JSON or form data).",
    401: "Not signed in or the token has expired (at sign-in: wrong username or password).",
    403: "The user's role, or their relation to the order, does not allow this.",
    404: "There is no such order or to-do within the user's scope.",
    409: "The order or to-do is not (or no longer) in a state that allows this.",
    413: "The request body is larger than the service accepts.",
    422: "A parameter or the body is not valid; the detail says which and why.",
    429: "Too many failed sign-ins; try again after the Retry-After header's seconds.",
    503: "The workflow engine is not reachable; try again shortly.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each answered as ErrorOut."""
    return {
        status: {"model": ErrorOut, "description": ERROR_MEANINGS[status]} for status in statuses
    }


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class DepartmentRef(Model):
    id: int
    name: str


class UserRef(Model):
    id: int
    username: str
    full_name: str


class Me(Model):
    id: int
    username: str
    full_name: str
    email: str
    role: str
    department: DepartmentRef
    locale: str | None
    sees_costs: bool


class ContactOut(Model):
    id: int
    name: str
    email: str
    phone: str


class CustomerOut(Model):
    id: int
    name: str
    level: str
    region: str
    industry: str
    credit_limit: Decimal
    tax_number: str
    invoice_title: str
    address: str
    contacts: list[ContactOut]


class ProductOut(Model):
    id: int
    code: str
    name: str
    category: str
    unit: str
    list_price: Decimal
    standard_cost: Decimal | None = None
    stock_on_hand: Decimal
    reserved: Decimal
    available: Decimal
    needs_installation: bool


class CustomerRef(Model):
    id: int
    name: str


class LineOut(Model):
    id: int
    position: int
    product_id: int
    product_code: str
    product_name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal
    list_price: Decimal
    standard_cost: Decimal | None = None
    unit_cost: Decimal | None = None


class InstallmentOut(Model):
    position: int
    percent: Decimal
    trigger: str
    offset_days: int
    fixed_date: date | None
    amount: Decimal
    # Once confirmed: its due date (when the event it hangs on has happened), what is paid.
    due_date: date | None = None
    paid: Decimal = Decimal("0.00")
    status: str = "not_due"  # not_due, due, overdue, paid
    overdue_days: int = 0


class PaymentOut(Model):
    number: int
    amount: Decimal
    received_on: date
    method: str
    reference: str
    status: str  # pending, confirmed, rejected
    registered_by: UserRef | None
    decided_by: UserRef | None
    decided_at: datetime | None
    comment: str | None


class InvoiceOut(Model):
    request_number: int
    amount: Decimal
    title: str
    tax_number: str
    address: str
    status: str  # requested, issued, rejected
    invoice_number: str | None
    requested_by: UserRef | None
    requested_at: datetime
    decided_at: datetime | None
    comment: str | None


class CostItemOut(Model):
    category: str
    amount: Decimal
    supplier_payment_reference: str


class CostBatchOut(Model):
    """A batch of actual costs ops recorded and how finance decided it."""

    number: int
    total: Decimal
    final: bool
    status: str  # pending, approved, rejected
    recorded_by: UserRef | None
    recorded_at: datetime
    decided_by: UserRef | None
    decided_at: datetime | None
    comment: str | None
    items: list[CostItemOut]


class CategoryVarianceOut(Model):
    """A closed order's expected and actual cost in one category; percent of expected."""

    category: str
    expected: Decimal
    actual: Decimal
    difference: Decimal
    percent: Decimal | None


class ApprovalStepOut(Model):
    """One requirement of a stage: why it applies, who decides it, and how it stands."""

    stage: int
    requirement: str
    todo_id: int | None = None
    reason: str = ""
    assignee: str
    decision: str | None
    decided_by: UserRef | None
    decided_at: datetime | None
    comment: str | None
    # Set while it waits: undecided in a running round (a rejected round's others never are).
    pending_since: datetime | None
    due_at: datetime | None = None
    overdue: bool = False
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    escalated_to: str | None = None


class ApprovalStageOut(Model):
    stage: int
    steps: list[ApprovalStepOut]


class ApprovalRoundOut(Model):
    round: int
    status: str
    policy_version: int
    started_at: datetime
    ended_at: datetime | None
    stages: list[ApprovalStageOut]
    steps: list[ApprovalStepOut]  # the same steps, flat (older clients read this)


class TimelineEntry(Model):
    at: datetime
    kind: str
    actor: UserRef | None
    details: dict[str, str]


class DecisionFactsOut(Model):
    """What decides an approval. The margin is a cost figure: left out for roles that may not
    see costs."""

    total: Decimal
    max_discount_percent: Decimal
    expected_margin: Decimal | None = None
    expected_margin_percent: Decimal | None = None
    exposure: Decimal | None = None
    credit_limit: Decimal | None = None
    over_credit_limit: bool = False
    short_lines: list[str] = Field(default_factory=list)


# Omitted from an approval's facts for roles that may not see costs.
FACTS_COST_FIELDS = {"expected_margin", "expected_margin_percent"}


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

    def for_viewer(self, sees_costs: bool) -> dict[str, Any]:
        """The JSON body for this viewer: the margin and cost figures left out unless they may
        see costs."""
        if sees_costs:
            return self.model_dump(mode="json")
        return self.model_dump(
            mode="json", exclude={"facts": FACTS_COST_FIELDS, "cost_facts": True}
        )


class UnroutableOrderOut(Model):
    """An order whose approval no one can decide, and why (the admin's list)."""

    number: str
    customer: CustomerRef
    owner: UserRef
    department: DepartmentRef
    stage: str
    since: datetime | None
    reason: str


class RoutedAgainOut(Model):
    number: str
    stage: str
    unroutable_reason: str | None


class OrderSummary(Model):
    number: str
    customer: CustomerRef
    owner: UserRef
    department: DepartmentRef
    stage: str
    health: str
    total: Decimal
    currency: str
    created_at: datetime
    submitted_at: datetime | None


class OrderPageOut(Model):
    items: list[OrderSummary]
    total: int
    page: int
    per_page: int


class MilestoneOut(Model):
    """A milestone planned vs actual. status: done_on_time (green), done_late, pending
    (yellow), late (red: not done and past its planned date)."""

    code: str
    planned_date: date
    actual_date: date | None
    status: str
    late_since: datetime | None = None


class DispatchOut(Model):
    round: int
    carrier: str
    tracking_number: str
    dispatched_on: date


class ShipmentExceptionOut(Model):
    number: int
    kind: str
    description: str
    raised_by: UserRef | None
    raised_at: datetime
    resolution: str | None
    reship: bool | None
    resolved_by: UserRef | None = None
    resolved_at: datetime | None


class QueueLineOut(Model):
    product_code: str
    product_name: str
    unit: str
    quantity: Decimal
    reserved: Decimal
    on_hand: Decimal


class ShipmentQueueItemOut(Model):
    """An order in the warehouse's "awaiting shipment" queue. A held one waits for its
    deposit and has no dispatch to-do yet."""

    number: str
    customer: str
    shipping_mode: str
    shipment_status: str
    held: bool
    waiting_for: str | None  # "deposit" while held
    planned_dispatch_date: date | None
    dispatch_todo_id: int | None
    lines: list[QueueLineOut]


class ShipmentActionOut(Model):
    """What an order-level shipment action answers: the order and the stage it is in now."""

    number: str
    stage: str


# Omitted from an order for roles that may not see costs (DESIGN: field-level permission).
COST_FIELDS = {
    "expected_cost",
    "expected_margin",
    "expected_margin_percent",
    "actual_cost",
    "actual_margin",
    "variance",
    "variance_percent",
    "variance_explanation",
    "cost_batches",
    "cost_variances",
    "freight_cost",
    "installation_cost",
    "other_cost",
}
LINE_COST_FIELDS = {"unit_cost", "standard_cost"}


class OrderDetail(OrderSummary):
    shipping_mode: str
    requested_delivery_date: date | None
    order_discount_percent: Decimal | None
    target_total: Decimal | None
    list_total: Decimal
    paid: Decimal
    outstanding: Decimal
    invoiced: Decimal
    collection_status: str
    repeated_from: str | None
    confirmed_at: datetime | None
    expected_cost: Decimal | None = None
    expected_margin: Decimal | None = None
    expected_margin_percent: Decimal | None = None
    freight_cost: Decimal | None = None
    installation_cost: Decimal | None = None
    other_cost: Decimal | None = None
    actual_cost: Decimal | None = None
    # Once closed: the actual margin and the variance against the expected cost, per category.
    actual_margin: Decimal | None = None
    variance: Decimal | None = None
    variance_percent: Decimal | None = None
    variance_explanation: str | None = None
    closed_at: datetime | None = None
    cost_batches: list[CostBatchOut] = Field(default_factory=list)
    cost_variances: list[CategoryVarianceOut] = Field(default_factory=list)
    lines: list[LineOut]
    approvals: list[ApprovalRoundOut]
    # Fulfilment: None before confirmation; planning, held, awaiting_dispatch, in_transit,
    # arrived, accepted.
    shipment_status: str | None = None
    delayed: bool = False
    milestones: list[MilestoneOut] = Field(default_factory=list)
    dispatches: list[DispatchOut] = Field(default_factory=list)
    exceptions: list[ShipmentExceptionOut] = Field(default_factory=list)
    accepted_on: date | None = None
    accepted_signed_by: str | None = None
    installments: list[InstallmentOut]
    payments: list[PaymentOut] = Field(default_factory=list)
    invoices: list[InvoiceOut] = Field(default_factory=list)
    pending_payments: Decimal = Decimal("0.00")  # registered, waiting for finance
    invoice_pending: Decimal = Decimal("0.00")  # applied for, not issued yet
    not_invoiced: Decimal = Decimal("0.00")
    timeline: list[TimelineEntry]
    open_todos: list[TodoOut]
    # Why no one can decide its approval, while that is so.
    unroutable_reason: str | None = None
    unroutable_at: datetime | None = None
    workflow_id: str | None
    temporal_url: str | None = None

    def for_viewer(self, sees_costs: bool) -> dict[str, Any]:
        """The JSON body for this viewer: cost fields left out unless they may see them."""
        if sees_costs:
            return self.model_dump(mode="json")
        return self.model_dump(
            mode="json",
            exclude={
                **{name: True for name in COST_FIELDS},
                "lines": {"__all__": LINE_COST_FIELDS},
                "open_todos": {"__all__": {"facts": FACTS_COST_FIELDS, "cost_facts": True}},
            },
        )


class DraftSavedOut(Model):
    """A draft created, edited or copied: its number, stage and total."""

    number: str
    stage: str
    total: Decimal


class SubmittedOut(Model):
    number: str
    workflow_id: str


class TodoCompletedOut(Model):
    """A completed to-do and the stage its order is in now."""

    id: int
    status: str
    stage: str


# -- to-do completions: one body per kind (DESIGN: to-do kinds and the outcomes that complete
# them). Fields a kind needs are checked by web.operations with messages that name what is
# missing, so they keep their defaults here; unknown fields are ignored. ----------------------


class LineCostIn(BaseModel):
    line_id: Id
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


class ConfirmDispatchCompletion(BaseModel):
    kind: Literal["confirm_dispatch"]
    outcome: Literal["dispatched"]
    carrier: str = ""
    tracking_number: str = ""


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


TodoCompletionIn = Annotated[
    EstimateCostCompletion
    | ApproveCompletion
    | ReviseCompletion
    | PlanShipmentCompletion
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
    | ApproveVarianceCompletion,
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
