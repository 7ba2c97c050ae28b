"""Collection: payment plans, installments, payments, invoices and their steps."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from models.domain.core import Actor, OpenTodo, Refusal, RejectionSaysWhy, Role, StepResult


class PaymentTrigger(StrEnum):
    confirmation = "confirmation"
    dispatch = "dispatch"
    acceptance = "acceptance"
    fixed_date = "fixed_date"


class PaymentPlanItem(BaseModel):
    percent: Decimal = Field(gt=0, le=100, max_digits=7, decimal_places=3)
    trigger: PaymentTrigger
    offset_days: int = Field(default=0, ge=0, le=3650)
    fixed_date: date | None = None


class NamedPlan(BaseModel):
    """A payment plan the policy offers by name ("30/60/10")."""

    name: str = Field(min_length=1, max_length=40)
    items: list[PaymentPlanItem]


class CollectionPolicy(BaseModel):
    """How money is collected: when the owner is reminded before a due date, when an overdue
    installment is escalated, the plans sales may pick by name, and whether dispatch waits for
    the deposit (the installments due on confirmation)."""

    version: int = 1
    reminder_days_before: int = Field(default=3, ge=0, le=60)
    manager_after_days: int = Field(default=15, ge=1, le=365)
    director_after_days: int = Field(default=30, ge=1, le=730)
    hold_dispatch_for_deposit: bool = False
    plans: list[NamedPlan] = Field(default_factory=list)


class InstallmentState(BaseModel):
    """An installment as the collection workflow keeps it."""

    position: int
    trigger: PaymentTrigger
    offset_days: int = 0
    amount: Decimal
    paid: Decimal = Decimal("0")
    due_date: date | None = None
    reminded_for: date | None = None  # the due date the owner was reminded of
    overdue_for: date | None = None  # the due date it went overdue on
    alerted: list[str] = Field(default_factory=list)  # "manager", "director" (for overdue_for)

    @property
    def open(self) -> Decimal:
        return self.amount - self.paid


class PendingPayment(BaseModel):
    """A registered payment finance has not decided yet."""

    number: int
    amount: Decimal
    todo_key: str
    reference: str = ""  # casefolded; free again if finance reject the payment


class CollectionInput(BaseModel):
    order_id: int
    order_number: str
    owner_id: int
    total: Decimal
    hold_for_deposit: bool = False
    # Carried over continue-as-new (empty on the first run: the first step loads them).
    started: bool = False
    installments: list[InstallmentState] = Field(default_factory=list)
    pending: list[PendingPayment] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)  # of payments not rejected
    payments: int = 0  # registered so far (numbers them)
    policy: CollectionPolicy | None = None
    open_todos: list[OpenTodo] = Field(default_factory=list)
    events: dict[PaymentTrigger, date] = Field(default_factory=dict)
    deposit_told: bool = False
    # Tests force continue-as-new with a small history; None: when Temporal suggests it.
    history_limit: int | None = None


class CollectionResult(BaseModel):
    paid_on: date
    stopped: bool = False  # the order was cancelled: nothing more is collected


class TriggerEvent(BaseModel):
    """Something an installment's due date hangs on happened (the order workflow says so)."""

    trigger: PaymentTrigger
    on: date


# Who may apply for an invoice besides the order's owner.
INVOICE_ROLES = frozenset({Role.finance})
# How a customer pays.
PAYMENT_METHODS = ("bank_transfer", "bank_acceptance_bill", "cash", "cheque", "other")


class PaymentRegistration(BaseModel):
    """The owner says the customer paid: how much, when, how and under which reference."""

    actor: Actor
    amount: Decimal = Field(max_digits=16, decimal_places=2)
    received_on: date
    method: str = Field(max_length=30)
    reference: str = Field(max_length=100)

    def refusal(self) -> Refusal | None:
        if self.amount <= 0:
            return Refusal("The amount must be more than zero.")
        if not self.reference.strip():
            return Refusal("Give the payment's reference.")
        if self.method.strip() not in PAYMENT_METHODS:
            allowed = ", ".join(PAYMENT_METHODS)
            return Refusal("The method must be one of: %(allowed)s.", allowed=allowed)
        return None

    def reference_refusal(self, references: Collection[str]) -> Refusal | None:
        """Refused when `references` (of the order's payments not rejected, casefolded) holds
        its reference."""
        reference = self.reference.strip()
        if reference.casefold() not in references:
            return None
        return Refusal(
            "A payment with the reference %(reference)s is already registered for this order.",
            reference=reference,
        )

    def payable_refusal(self, payable: Decimal) -> Refusal | None:
        """Refused above `payable`: the outstanding amount less payments waiting for finance."""
        if self.amount <= payable:
            return None
        return Refusal(
            "The amount is more than is left to pay: %(payable)s (outstanding less payments "
            "waiting for finance).",
            payable=f"{payable:,.2f}",
        )


class PaymentDecision(RejectionSaysWhy):
    """Finance confirm that a registered payment arrived, or reject it saying why."""

    outcome: Literal["confirm", "reject"]

    def refusal(self) -> Refusal | None:
        return self.rejection_refusal("Say why the payment is rejected.")


class Allocation(BaseModel):
    position: int  # the installment's
    amount: Decimal


class CollectionStep(BaseModel):
    """One step of collection: what the activity records, keyed for idempotency."""

    order_id: int
    workflow_id: str
    step_key: str
    actor_id: int | None = None
    todo_key: str | None = None
    payment_number: int = 0
    amount: Decimal = Decimal("0")
    received_on: date | None = None
    method: str = ""
    reference: str = ""
    comment: str = ""
    allocations: list[Allocation] = Field(default_factory=list)
    installments: list[InstallmentState] = Field(default_factory=list)  # the ones it is about
    level: str = ""  # an escalation's: manager, director
    overdue: bool = False  # the order is overdue after this step
    status: str = ""  # the order's collection status after this step
    # The first confirmed payment asks ops to record the order's actual costs: the to-do is
    # the order workflow's.
    costs_todo_key: str | None = None
    order_workflow_id: str | None = None


class CollectionStepResult(StepResult):
    installments: list[InstallmentState] = Field(default_factory=list)
    policy: CollectionPolicy | None = None


class CollectionStatus(BaseModel):
    """What the order workflow shows in its search attributes, and the record_actual_costs
    to-do the first confirmed payment opened (the order completes it)."""

    outstanding: Decimal
    overdue: bool
    costs_todo: OpenTodo | None = None


class InvoiceRequest(BaseModel):
    """The owner or finance apply for an invoice: its amount, and whom it is made out and
    mailed to."""

    actor: Actor
    amount: Decimal = Field(max_digits=16, decimal_places=2)
    title: str = Field(max_length=200)
    tax_number: str = Field(max_length=50)
    address: str = Field(max_length=500)

    def refusal(self) -> Refusal | None:
        if self.amount <= 0:
            return Refusal("The amount must be more than zero.")
        for value, missing in (
            (self.title, "Give the invoice title."),
            (self.tax_number, "Give the customer's tax number."),
            (self.address, "Give the address the invoice is mailed to."),
        ):
            if not value.strip():
                return Refusal(missing)
        return None

    def room_refusal(self, room: Decimal) -> Refusal | None:
        """Refused above `room`: the total less what is invoiced and applied for."""
        if self.amount <= room:
            return None
        return Refusal(
            "The amount is more than can still be invoiced: %(room)s (total less invoiced and "
            "applied for).",
            room=f"{room:,.2f}",
        )


class InvoiceDecision(RejectionSaysWhy):
    """Finance issue an applied-for invoice under its number, or reject it saying why."""

    outcome: Literal["issued", "reject"]
    invoice_number: str = Field(default="", max_length=50)

    def refusal(self) -> Refusal | None:
        if self.outcome == "issued" and not self.invoice_number.strip():
            return Refusal("Give the invoice number.")
        return self.rejection_refusal("Say why the invoice is not issued.")


class InvoiceStep(BaseModel):
    order_id: int
    workflow_id: str
    step_key: str
    actor_id: int
    request_number: int = 0
    todo_key: str | None = None
    amount: Decimal = Decimal("0")
    title: str = ""
    tax_number: str = ""
    address: str = ""
    outcome: str = ""
    invoice_number: str = ""
    comment: str = ""


class InvoiceStepResult(StepResult):
    problem: str | None = None  # refused, nothing changed (a duplicate invoice number)
