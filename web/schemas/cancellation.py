"""An order's cancellation, refunds and credit notes as the API returns them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from web.schemas.core import Model, UserRef


class CancellationOut(Model):
    """Why the order is (being) cancelled, who asked, who decided. Status: requested (waiting
    for the owner's manager), rejected, refunding (approved; refunds or credit notes pending),
    cancelled."""

    reason_code: str
    reason: str
    status: str
    requested_by: UserRef | None
    requested_at: datetime
    decided_by: UserRef | None
    decided_at: datetime | None
    comment: str | None
    cancelled_at: datetime | None


class RefundOut(Model):
    """Money received paid back after a cancellation: `amount` is what is due until finance
    refund it (status pending), then what they refunded (status refunded)."""

    id: int
    amount: Decimal
    status: str
    paid_on: date | None = None
    method: str | None = None
    reference: str | None = None


class CreditNoteOut(Model):
    """The credit note (red-letter invoice) of an issued invoice: requested, then issued under
    its number."""

    id: int
    amount: Decimal
    status: str
    number: str | None


class CancellationActionOut(BaseModel):
    """What a cancellation answers: the order's stage now (cancelled at once before
    confirmation) and, after confirmation, the approval to-do it opened."""

    number: str
    stage: str
    todo_key: str
