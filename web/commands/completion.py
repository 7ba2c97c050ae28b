"""A person's completion of a to-do as they send it (the body of POST
/api/v1/todos/{id}/complete and the inbox's forms), and what a kind's declaration reads it with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from models.domain import Actor, CostCategory, CostItem, DispatchLine, LineCost, ReceivedLine
from models.tables import Order, Todo
from web.commands.actions import Refused
from web.commands.fulfilment import MilestoneDate

COST_CATEGORIES = ", ".join(c.value for c in CostCategory)


class CostItemIn(BaseModel):
    """One actual cost as a person gives it; every field is checked with a message that names
    the item."""

    category: str = ""
    amount: Decimal | None = Field(default=None, max_digits=16, decimal_places=2)
    supplier_payment_reference: str = Field(default="", max_length=100)


class TodoCompletion(BaseModel):
    """The body of POST /api/v1/todos/{id}/complete: the outcome plus the kind's fields."""

    outcome: str
    comment: str = ""
    lines: list[LineCost] | None = None
    freight: Decimal = Field(default=Decimal("0"), ge=0)
    installation: Decimal = Field(default=Decimal("0"), ge=0)
    other: Decimal = Field(default=Decimal("0"), ge=0)
    # plan_shipment
    milestones: list[MilestoneDate] | None = None
    # confirm_dispatch: the day the goods left, and per line what left when only part did
    carrier: str = ""
    tracking_number: str = ""
    dispatched_on: date | None = None
    dispatch_lines: list[DispatchLine] | None = None
    # confirm_milestone, confirm_arrival
    code: str = ""
    actual_date: date | None = None
    # confirm_acceptance
    accepted_on: date | None = None
    signed_by: str = ""
    # handle_exception
    resolution: str = ""
    reship: bool = False
    # issue_invoice
    invoice_number: str = Field(default="", max_length=50)
    # record_actual_costs (`final`: no more costs follow), review_variance
    items: list[CostItemIn] | None = None
    final: bool = False
    explanation: str = Field(default="", max_length=2000)
    # confirm_refund
    amount: Decimal = Field(default=Decimal("0"), max_digits=16, decimal_places=2)
    paid_on: date | None = None
    method: str = Field(default="", max_length=30)
    reference: str = Field(default="", max_length=100)
    # issue_credit_note
    credit_note_number: str = Field(default="", max_length=50)
    # receive_return: per line the quantity received in a condition (restock or scrap), and
    # whether the rest of the return is closed (with why)
    received: list[ReceivedLine] | None = None
    close_rest: bool = False
    close_reason: str = Field(default="", max_length=2000)


@dataclass(frozen=True)
class Completing:
    """A person completing a to-do: what a declaration builds the update's input from."""

    todo: Todo
    order: Order
    actor: Actor
    given: TodoCompletion

    @property
    def comment(self) -> str:
        return self.given.comment.strip()


def cost_items(given: list[CostItemIn] | None) -> list[CostItem]:
    """The items as the workflow takes them, once each names a category and an amount (422
    naming the item); the rest is CostRecording's own check."""
    items = []
    for number, item in enumerate(given or [], start=1):
        try:
            category = CostCategory(item.category.strip())
        except ValueError as error:
            raise Refused(
                422,
                "Item %(number)s: the category must be one of: %(allowed)s.",
                number=number,
                allowed=COST_CATEGORIES,
            ) from error
        if item.amount is None:
            raise Refused(422, "Item %(number)s: the amount must be more than zero.", number=number)
        reference = item.supplier_payment_reference.strip()
        items.append(
            CostItem(category=category, amount=item.amount, supplier_payment_reference=reference)
        )
    return items
