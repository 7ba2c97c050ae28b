"""Orders as the API takes them (a draft) and returns them (a summary, the whole order)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import AliasPath, BaseModel, Field

from models.domain import PaymentPlanItem, ShippingMode
from models.drafts import DraftLine, DraftOrder
from web.schemas.approval import FACTS_COST_FIELDS, ApprovalRoundOut
from web.schemas.cancellation import CancellationOut, CreditNoteOut, RefundOut
from web.schemas.changes import ChangeRequestOut, RevisionOut
from web.schemas.collection import InstallmentOut, InvoiceOut, PaymentOut
from web.schemas.core import CustomerRef, DepartmentRef, Id, Model, UserRef
from web.schemas.costs import CategoryVarianceOut, CostBatchOut
from web.schemas.fulfilment import DispatchOut, MilestoneOut, ShipmentExceptionOut
from web.schemas.returns import ReturnOut
from web.schemas.todos import TodoOut


class DraftLineIn(DraftLine):
    product_id: Id


class DraftOrderIn(DraftOrder):
    """The body of POST /api/v1/orders: models.drafts' DraftOrder with its ids bounded. The
    route hands it on through DraftOrder's own validation, which stays the authority on what a
    draft may hold."""

    customer_id: Id
    # Narrowing a field in a subclass is how pydantic models bound it; mypy sees list's
    # invariance (DraftOrder.lines is list[DraftLine] in models.drafts).
    lines: list[DraftLineIn]  # type: ignore[assignment]


def _documented_without_null(schema: dict[str, Any]) -> None:
    """An optional field's schema without its null: `X | None` validates as X or null (a union
    with pydantic's SkipJsonSchema[None] would name its branch in every problem's location)."""
    (kept,) = [branch for branch in schema.pop("anyOf") if branch != {"type": "null"}]
    schema.update(kept)


class DraftPatchIn(BaseModel):
    """The body of PATCH /api/v1/orders/{number}: any of a draft's fields, read as JSON merge
    patch (RFC 7396) reads a body. An absent field keeps its value; `lines` and `payment_plan`,
    when given, replace the whole list; `null` clears an optional field (`payment_plan`: back to
    the default, all on confirmation). `customer_id`, `shipping_mode` and `lines` cannot be
    cleared. The order as changed must pass every check a new order passes."""

    # The fields every order has are documented without null; a null sent anyway passes here
    # and the command refuses it by name. The merged draft is validated as models.drafts'
    # DraftOrder, the authority on what a draft may hold (these bounds repeat it for the
    # document).
    customer_id: Id | None = Field(default=None, json_schema_extra=_documented_without_null)
    shipping_mode: ShippingMode | None = Field(
        default=None, json_schema_extra=_documented_without_null
    )
    requested_delivery_date: date | None = None
    lines: list[DraftLineIn] | None = Field(
        default=None, json_schema_extra=_documented_without_null
    )
    order_discount_percent: Decimal | None = Field(default=None, max_digits=7, decimal_places=3)
    target_total: Decimal | None = Field(default=None, max_digits=16, decimal_places=2)
    payment_plan: list[PaymentPlanItem] | None = None
    payment_plan_name: str | None = Field(default=None, max_length=40)

    def changes(self) -> dict[str, Any]:
        """The fields the body gave, a `null` among them as None."""
        return self.model_dump(exclude_unset=True)


class LineOut(Model):
    id: int
    position: int
    product_id: int
    product_code: str = Field(validation_alias=AliasPath("product", "code"))
    product_name: str = Field(validation_alias=AliasPath("product", "name"))
    unit: str = Field(validation_alias=AliasPath("product", "unit"))
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal
    list_price: Decimal = Field(validation_alias=AliasPath("product", "list_price"))
    standard_cost: Decimal | None = Field(
        default=None, validation_alias=AliasPath("product", "standard_cost")
    )
    unit_cost: Decimal | None = None


class TimelineEntry(Model):
    at: datetime
    kind: str
    actor: UserRef | None
    details: dict[str, str]


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
    requested_delivery_date: date | None = Field(validation_alias="requested_delivery_on")
    order_discount_percent: Decimal | None
    target_total: Decimal | None
    list_total: Decimal
    # The lines after their own discounts, before the whole-order discount or target total
    # (equal to the total when neither applies).
    before_order_discount: Decimal = Decimal("0.00")
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
    # Once closed: the net revenue (total less returned, less the credit notes that credit no
    # return), the actual margin on it and the variance against the expected cost, per category.
    revenue: Decimal | None = None
    actual_margin: Decimal | None = None
    variance: Decimal | None = None
    variance_percent: Decimal | None = None
    variance_explanation: str | None = None
    closed_at: datetime | None = None
    cost_batches: list[CostBatchOut] = Field(default_factory=list)
    cost_variances: list[CategoryVarianceOut] = Field(default_factory=list)
    lines: list[LineOut]
    approvals: list[ApprovalRoundOut]
    # 1 as entered; each approved change request is the next revision, with its diff.
    revision: int = 1
    revisions: list[RevisionOut] = Field(default_factory=list)
    change_requests: list[ChangeRequestOut] = Field(default_factory=list)
    # Its cancellation (the latest request), the refunds of money received and the credit
    # notes of issued invoices it asked finance for, and how much is refunded.
    cancellation: CancellationOut | None = None
    refunds: list[RefundOut] = Field(default_factory=list)
    credit_notes: list[CreditNoteOut] = Field(default_factory=list)
    refunded: Decimal = Decimal("0.00")
    # Goods that came back: each return with its lines, the value of what came back
    # (`returned`, at each line's net unit price) and the total less it (`net_total`).
    returns: list[ReturnOut] = Field(default_factory=list)
    returned: Decimal = Decimal("0.00")
    net_total: Decimal
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
