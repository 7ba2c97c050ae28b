"""An order's installments, payments and invoices as the API returns them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from web.schemas.core import Model, UserRef


class InstallmentOut(Model):
    position: int
    percent: Decimal
    trigger: str
    offset_days: int
    fixed_date: date | None = Field(validation_alias="fixed_on")
    amount: Decimal
    # Once confirmed: its due date (when the event it hangs on has happened), what is paid.
    due_date: date | None = Field(default=None, validation_alias="due_on")
    paid: Decimal = Decimal("0.00")
    status: str = "not_due"  # not_due, due, overdue, paid
    overdue_days: int = 0
    # When the open money is due, as the page says it: overdue, due_today, due_soon (within the
    # collection policy's reminder days), not_yet_due (a later date, or none yet), paid.
    due_state: str = "not_yet_due"


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


class MoneyActionOut(BaseModel):
    """What a payment registration, an invoice application or a batch of actual costs answers:
    the to-do it opened for finance."""

    number: str
    todo_key: str
    stage: str
