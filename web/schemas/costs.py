"""An order's actual costs and its cost variance as the API returns them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from web.schemas.core import Model, UserRef


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
