"""Change requests: what a person asks to change on a submitted order, and the revision it
becomes once approved (its diff: field, before, after)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from models.domain.collection import PaymentPlanItem
from models.domain.core import Actor, Refusal


class LineChange(BaseModel):
    """A line as the change wants it: an existing line by `line_id`, a new one by
    `product_id`. A line of the order left out of the change is removed."""

    line_id: int | None = None
    product_id: int | None = None
    quantity: Decimal = Field(max_digits=15, decimal_places=3)
    unit_price: Decimal | None = Field(default=None, max_digits=16, decimal_places=2)
    discount_percent: Decimal = Field(default=Decimal("0"), max_digits=7, decimal_places=3)

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
        if not Decimal("0") <= self.discount_percent < Decimal("100"):
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


class FieldChange(BaseModel):
    """One line of a revision's diff: what changed, from what, to what (as text)."""

    field: str
    before: str
    after: str
