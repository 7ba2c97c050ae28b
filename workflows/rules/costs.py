"""Actual costs: checks of a batch of cost items and their variance from the expected cost."""

from __future__ import annotations

from decimal import Decimal

from models.domain import CategoryVariance, CostCategory, VarianceFigures, VariancePolicy
from models.domain.costs import RETURN_CATEGORIES
from workflows.rules.money import HUNDRED, ZERO, money, percent_of

DEFAULT_VARIANCE_POLICY = VariancePolicy()


def expected_by_category(
    *,
    expected_cost: Decimal,
    freight: Decimal | None,
    installation: Decimal | None,
    other: Decimal | None,
) -> dict[CostCategory, Decimal]:
    """The cost baseline pricing set, per category: goods is what the lines cost (the expected
    cost less freight, installation and other); nothing is expected for customs."""
    freight, installation, other = freight or ZERO, installation or ZERO, other or ZERO
    return {
        CostCategory.goods: expected_cost - freight - installation - other,
        CostCategory.freight: freight,
        CostCategory.installation: installation,
        CostCategory.customs: ZERO,
        CostCategory.other: other,
    }


def variance(
    expected: dict[CostCategory, Decimal],
    actual: dict[CostCategory, Decimal],
    policy: VariancePolicy,
) -> VarianceFigures:
    """Expected against actual cost per category and in all. The variance is above the threshold
    when it is (either way) more than the policy's percentage of the expected cost, or more than
    its absolute amount when it sets one; with nothing expected, any actual cost is above.
    Return freight is compared only on an order where some was spent (or expected)."""
    categories = []
    for category in CostCategory:
        planned = money(expected.get(category, ZERO))
        spent = money(actual.get(category, ZERO))
        if category in RETURN_CATEGORIES and planned == ZERO and spent == ZERO:
            continue
        categories.append(
            CategoryVariance(
                category=category,
                expected=planned,
                actual=spent,
                difference=spent - planned,
                percent=percent_of(spent - planned, planned),
            )
        )
    total_expected = sum((c.expected for c in categories), Decimal("0.00"))
    total_actual = sum((c.actual for c in categories), Decimal("0.00"))
    difference = total_actual - total_expected
    size = abs(difference)
    if total_expected == ZERO:
        above = size > ZERO
    else:
        above = size > total_expected * policy.threshold_percent / HUNDRED
    if policy.threshold_amount is not None and size > policy.threshold_amount:
        above = True
    return VarianceFigures(
        categories=categories,
        expected=total_expected,
        actual=total_actual,
        difference=difference,
        percent=percent_of(difference, total_expected),
        above_threshold=above,
        policy=policy,
    )


def describe_threshold(policy: VariancePolicy) -> str:
    """The threshold in words, for a refusal."""
    percent = f"{policy.threshold_percent.normalize():f} % of the expected cost"
    if policy.threshold_amount is None:
        return percent
    return f"{percent} or {policy.threshold_amount:,.2f}"
