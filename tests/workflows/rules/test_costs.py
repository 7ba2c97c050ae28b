"""The variance rules alone: expected cost per category, the threshold in percent and amount at
its boundaries, either way, with nothing expected; and the checks of a batch of cost items."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.domain import CostCategory, CostItem, VariancePolicy
from workflows import rules

D = Decimal
GOODS, FREIGHT, CUSTOMS = CostCategory.goods, CostCategory.freight, CostCategory.customs


def expected(goods="1000", freight="0") -> dict[CostCategory, Decimal]:
    return rules.expected_by_category(
        expected_cost=D(goods) + D(freight), freight=D(freight), installation=None, other=None
    )


def test_expected_goods_are_the_expected_cost_less_the_other_categories():
    baseline = rules.expected_by_category(
        expected_cost=D("2300"), freight=D("200"), installation=D("50"), other=D("50")
    )
    assert baseline == {
        GOODS: D("2000"),
        FREIGHT: D("200"),
        CostCategory.installation: D("50"),
        CUSTOMS: D("0"),
        CostCategory.other: D("50"),
    }


@pytest.mark.parametrize(
    ("actual", "above"),
    [
        ("1050.00", False),  # exactly 5 %: not above
        ("1050.01", True),
        ("950.00", False),  # 5 % under
        ("949.99", True),  # under by more than 5 % is as much a variance
        ("1000.00", False),
    ],
)
def test_the_threshold_is_five_percent_of_expected_cost_either_way(actual, above):
    figures = rules.variance(expected(), {GOODS: D(actual)}, rules.DEFAULT_VARIANCE_POLICY)
    assert figures.above_threshold is above
    assert figures.difference == D(actual) - D("1000")


def test_an_absolute_amount_makes_a_small_percentage_a_large_variance():
    policy = VariancePolicy(threshold_percent=D("5"), threshold_amount=D("30"))
    assert rules.variance(expected(), {GOODS: D("1030")}, policy).above_threshold is False
    assert rules.variance(expected(), {GOODS: D("1030.01")}, policy).above_threshold is True


def test_figures_per_category_with_percentages_and_totals():
    figures = rules.variance(
        expected(goods="1000", freight="200"),
        {GOODS: D("1100"), FREIGHT: D("150"), CUSTOMS: D("40")},
        rules.DEFAULT_VARIANCE_POLICY,
    )
    rows = {c.category: (c.expected, c.actual, c.difference, c.percent) for c in figures.categories}
    assert rows[GOODS] == (D("1000"), D("1100"), D("100"), D("10.00"))
    assert rows[FREIGHT] == (D("200"), D("150"), D("-50"), D("-25.00"))
    assert rows[CUSTOMS] == (D("0"), D("40"), D("40"), None)  # nothing was expected
    assert (figures.expected, figures.actual, figures.difference) == (
        D("1200.00"),
        D("1290.00"),
        D("90.00"),
    )
    assert figures.percent == D("7.50") and figures.above_threshold is True


def test_with_nothing_expected_any_cost_is_above_the_threshold():
    nothing = expected(goods="0")
    assert rules.variance(nothing, {}, rules.DEFAULT_VARIANCE_POLICY).above_threshold is False
    spent = rules.variance(nothing, {GOODS: D("0.01")}, rules.DEFAULT_VARIANCE_POLICY)
    assert spent.above_threshold is True and spent.percent is None


def test_the_threshold_in_words():
    assert rules.describe_threshold(rules.DEFAULT_VARIANCE_POLICY) == "5 % of the expected cost"
    policy = VariancePolicy(threshold_percent=D("2.5"), threshold_amount=D("10000"))
    assert rules.describe_threshold(policy) == "2.5 % of the expected cost or 10,000.00"


def item(category: str, amount: str, reference: str) -> CostItem:
    return CostItem(
        category=CostCategory(category), amount=D(amount), supplier_payment_reference=reference
    )
