"""Actual costs, the expected-vs-actual comparison (variance) and closing."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from models.domain.core import Actor, Refusal, StepResult


class CostCategory(StrEnum):
    goods = "goods"
    freight = "freight"
    installation = "installation"
    customs = "customs"
    other = "other"
    # Carrying goods a customer sent back: nothing is expected for it, and the comparison
    # shows it only on an order where some was spent (RETURN_CATEGORIES).
    return_freight = "return_freight"


# Categories the cost comparison shows only when something was spent in them.
RETURN_CATEGORIES = frozenset({CostCategory.return_freight})


class CostItem(BaseModel):
    """One actual cost: what it was for, how much, and the supplier payment that ties it to
    the order."""

    category: CostCategory
    amount: Decimal = Field(max_digits=16, decimal_places=2)
    supplier_payment_reference: str = Field(max_length=100)

    @property
    def key(self) -> str:
        """What makes a cost recorded once: the same supplier payment is not recorded twice for
        one category."""
        return f"{self.category.value}|{self.supplier_payment_reference.strip().casefold()}"


class CostRecording(BaseModel):
    """Ops record a batch of actual costs (finance approve it); `final` says no more follow."""

    actor: Actor
    todo_key: str
    items: list[CostItem] = Field(default_factory=list)
    final: bool = False

    def problems(self, recorded: Collection[str] = frozenset()) -> list[Refusal]:
        """What is wrong with the batch, item by item; `recorded` holds the keys of the order's
        items not rejected."""
        if not self.items:
            return [] if self.final else [Refusal("Give at least one cost item.")]
        problems = []
        seen: set[str] = set()
        for number, item in enumerate(self.items, start=1):
            reference = item.supplier_payment_reference.strip()
            if item.amount <= 0:
                problems.append(
                    Refusal("Item %(number)s: the amount must be more than zero.", number=number)
                )
            if not reference:
                problems.append(
                    Refusal("Item %(number)s: give the supplier payment reference.", number=number)
                )
                continue
            if item.key in recorded:
                problems.append(
                    Refusal(
                        "Item %(number)s: supplier payment %(reference)s is already recorded as "
                        "%(category)s for this order.",
                        number=number,
                        reference=reference,
                        category=item.category.value,
                    )
                )
            elif item.key in seen:
                problems.append(
                    Refusal(
                        "Item %(number)s: supplier payment %(reference)s is given twice.",
                        number=number,
                        reference=reference,
                    )
                )
            seen.add(item.key)
        return problems

    def refusal(self, recorded: Collection[str] = frozenset()) -> Refusal | None:
        return next(iter(self.problems(recorded)), None)


# Finance reject a batch of actual costs, or the operations manager a variance, without saying
# why (both decide with a `Decision`).
COSTS_REJECTED_WITHOUT_REASON = "Say why the costs are rejected."
VARIANCE_REJECTED_WITHOUT_REASON = "Say why the variance is not approved."


class VarianceReview(BaseModel):
    """Ops review the expected-vs-actual comparison; above the policy's threshold they explain
    the variance."""

    actor: Actor
    todo_key: str
    explanation: str = ""

    def refusal(self, *, above_threshold: bool, threshold: str) -> Refusal | None:
        if above_threshold and not self.explanation.strip():
            return Refusal(
                "Explain the variance: it is above the threshold of %(threshold)s.",
                threshold=threshold,
            )
        return None


class VariancePolicy(BaseModel):
    """When a cost variance needs an explanation and the operations manager's approval: above
    `threshold_percent` of the expected cost, or above `threshold_amount` when one is set."""

    version: int = 1
    threshold_percent: Decimal = Field(default=Decimal("5"), ge=0, le=100, decimal_places=3)
    threshold_amount: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)


class CategoryVariance(BaseModel):
    category: CostCategory
    expected: Decimal
    actual: Decimal
    difference: Decimal  # actual less expected: more than expected is positive
    percent: Decimal | None  # of expected; None when nothing was expected


class VarianceFigures(BaseModel):
    """Expected against actual cost, per category and in all, and whether it is above the
    policy's threshold."""

    categories: list[CategoryVariance]
    expected: Decimal
    actual: Decimal
    difference: Decimal
    percent: Decimal | None
    above_threshold: bool
    policy: VariancePolicy


class CostStep(BaseModel):
    """One step of actual costs, variance review or closing: what the activity records."""

    order_id: int
    workflow_id: str
    step_key: str
    actor_id: int | None = None
    todo_key: str | None = None  # the to-do the step closes
    batch: int = 0
    items: list[CostItem] = Field(default_factory=list)
    final: bool = False
    outcome: str = ""
    comment: str = ""
    explanation: str = ""
    # What the step opens: ops' next record_actual_costs to-do, and the review_variance to-do
    # when the costs are complete and the order is ready for the comparison.
    record_todo_key: str | None = None
    review_todo_key: str | None = None
    close: bool = False  # the step closes the order


class CostStepResult(StepResult):
    figures: VarianceFigures | None = None  # when the step opened a review_variance to-do
    closed: bool = False
