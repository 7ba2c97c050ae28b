"""Pricing: money rounding, line and whole-order discounts, a target total, the discount against
the list price, and the cost estimate with its expected cost and margin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.domain import (
    CostEstimate,
    DepartmentLink,
    LineCost,
    LineFacts,
    OrderFacts,
    ShippingMode,
)
from workflows import rules
from workflows.rules import LineInput, PricingError, price_order, spread

D = Decimal

# The demo company's tree: East China office (managed by the sales manager, user 2) under
# Sales (managed by the director, user 1). User 4 is a sales rep in the East China office.
DIRECTOR, SALES_MANAGER, SALES_REP = 1, 2, 4
EAST, SALES = 20, 10
CHAIN = [
    DepartmentLink(department_id=EAST, manager_id=SALES_MANAGER),
    DepartmentLink(department_id=SALES, manager_id=DIRECTOR),
]


def line(quantity: str, unit_price: str, discount: str = "0") -> LineInput:
    return LineInput(quantity=D(quantity), unit_price=D(unit_price), discount_percent=D(discount))


def facts(
    *,
    owner_id: int = SALES_REP,
    chain: list[DepartmentLink] = CHAIN,
    total: str = "17000.00",
    lines: list[LineFacts] | None = None,
) -> OrderFacts:
    return OrderFacts(
        order_id=1,
        number="SO-2026-00001",
        owner_id=owner_id,
        department_id=chain[0].department_id if chain else EAST,
        customer_id=1,
        total=D(total),
        max_discount_percent=D("0"),
        shipping_mode=ShippingMode.domestic,
        lines=lines
        if lines is not None
        else [
            LineFacts(
                line_id=11,
                product_id=3,
                quantity=D("2"),
                amount=D("17000.00"),
                standard_cost=D("5100.00"),
            )
        ],
        department_chain=chain,
    )


def two_line_facts(unit_costs: tuple[str | None, str | None] = (None, None)) -> OrderFacts:
    return facts(
        total="1000.00",
        lines=[
            LineFacts(
                line_id=11,
                product_id=3,
                quantity=D("3"),
                amount=D("600.00"),
                standard_cost=D("100"),
                unit_cost=D(unit_costs[0]) if unit_costs[0] else None,
            ),
            LineFacts(
                line_id=12,
                product_id=4,
                quantity=D("2.5"),
                amount=D("400.00"),
                standard_cost=D("80"),
                unit_cost=D(unit_costs[1]) if unit_costs[1] else None,
            ),
        ],
    )


# --- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        ("0.125", "0.13"),
        ("0.135", "0.14"),
        ("2.345", "2.35"),
        ("2.344999", "2.34"),
        ("-0.125", "-0.13"),
        ("10", "10.00"),
    ],
)
def test_money_rounds_half_up_to_the_cent_never_to_even(value, rounded):
    assert rules.money(D(value)) == D(rounded)
    assert str(rules.money(D(value))) == rounded


# --- price_order: per-line and whole-order discounts -------------------------------------------


def test_line_amount_is_quantity_times_price_less_its_discount():
    priced = price_order([line("3", "10.00", "10")])
    assert priced.line_amounts == [D("27.00")]
    assert priced.total == D("27.00")
    assert priced.before_order_discount == D("27.00")


def test_line_amount_is_rounded_half_up_per_line():
    # 10.05 at 50 % is 5.025: half up gives 5.03 (banker's rounding would give 5.02).
    priced = price_order([line("1", "10.05", "50"), line("1", "10.05", "50")])
    assert priced.line_amounts == [D("5.03"), D("5.03")]
    assert priced.total == D("10.06")


def test_fractional_quantities_are_priced_exactly():
    priced = price_order([line("2.5", "95.00")])
    assert priced.line_amounts == [D("237.50")]


def test_no_discount_and_no_target_leaves_line_amounts_as_they_are():
    priced = price_order([line("2", "8500"), line("10", "450", "5")])
    assert priced.line_amounts == [D("17000.00"), D("4275.00")]
    assert priced.total == D("21275.00") == priced.before_order_discount


def test_whole_order_discount_applies_to_every_line_after_its_own_discount():
    priced = price_order([line("1", "100", "10"), line("1", "50")], order_discount_percent=D("10"))
    assert priced.line_amounts == [D("81.00"), D("45.00")]
    assert priced.total == D("126.00")
    assert priced.before_order_discount == D("140.00")


def test_whole_order_discount_is_rounded_half_up_per_line():
    # 0.05 at 50 % is 0.025 on each line, rounded up to 0.03 each.
    priced = price_order([line("1", "0.05"), line("1", "0.05")], order_discount_percent=D("50"))
    assert priced.line_amounts == [D("0.03"), D("0.03")]
    assert priced.total == D("0.06")


def test_whole_order_discount_of_zero_changes_nothing():
    priced = price_order([line("2", "8500")], order_discount_percent=D("0"))
    assert priced.total == D("17000.00")


def test_whole_order_discount_of_a_hundred_percent_gives_the_order_away():
    priced = price_order([line("2", "8500")], order_discount_percent=D("100"))
    assert priced.line_amounts == [D("0.00")]
    assert priced.total == D("0.00")


def test_line_discount_of_a_hundred_percent_is_allowed():
    priced = price_order([line("1", "100", "100"), line("1", "50")])
    assert priced.line_amounts == [D("0.00"), D("50.00")]


# --- price_order: target total --------------------------------------------------------------


def test_target_total_is_spread_in_proportion_to_line_amounts():
    priced = price_order([line("1", "100"), line("1", "200")], target_total=D("150"))
    assert priced.line_amounts == [D("50.00"), D("100.00")]
    assert priced.total == D("150")
    assert priced.before_order_discount == D("300.00")


def test_target_total_remainder_goes_to_largest_line():
    # 1.00 over 1:1:1:4 is 0.1428… three times (0.14 each) and 0.5714… (0.57): 0.99 in all;
    # the missing cent goes to the largest line.
    priced = price_order(
        [line("1", "1"), line("1", "1"), line("1", "1"), line("1", "4")], target_total=D("1.00")
    )
    assert priced.line_amounts == [D("0.14"), D("0.14"), D("0.14"), D("0.58")]
    assert priced.total == D("1.00")


def test_target_total_excess_cent_comes_off_the_largest_line():
    # 1.00 over 1:1:1:3 is 0.1666… (0.17) three times and 0.50: 1.01 in all.
    priced = price_order(
        [line("1", "1"), line("1", "1"), line("1", "1"), line("1", "3")], target_total=D("1.00")
    )
    assert priced.line_amounts == [D("0.17"), D("0.17"), D("0.17"), D("0.49")]


def test_target_total_remainder_goes_to_the_first_of_equally_large_lines():
    priced = price_order([line("1", "100")] * 3, target_total=D("100"))
    assert priced.line_amounts == [D("33.34"), D("33.33"), D("33.33")]


def test_target_total_lines_sum_exactly_to_the_target():
    priced = price_order(
        [line("3", "19.99", "12.5"), line("7", "3.33"), line("1", "0.01")], target_total=D("50")
    )
    assert sum(priced.line_amounts) == D("50.00") == priced.total
    assert all(amount == rules.money(amount) for amount in priced.line_amounts)


def test_target_total_equal_to_the_subtotal_keeps_the_line_amounts():
    priced = price_order([line("1", "100", "10"), line("2", "25")], target_total=D("140.00"))
    assert priced.line_amounts == [D("90.00"), D("50.00")]
    assert priced.total == D("140.00")


def test_tiny_target_over_many_equal_lines_gives_no_line_a_negative_amount():
    # Each of six lines would get 0.005, rounded up to 0.01: 0.06 against a target of 0.03.
    priced = price_order([line("1", "1")] * 6, target_total=D("0.03"))
    assert all(amount >= 0 for amount in priced.line_amounts)
    assert sum(priced.line_amounts) == D("0.03")


# --- price_order: refusals ----------------------------------------------------------------


def test_an_order_without_lines_is_refused():
    with pytest.raises(PricingError, match="at least one line"):
        price_order([])


@pytest.mark.parametrize("quantity", ["0", "-1", "-0.001"])
def test_a_line_without_a_positive_quantity_is_refused(quantity):
    with pytest.raises(PricingError, match="Line 2: the quantity"):
        price_order([line("1", "10"), line(quantity, "10")])


@pytest.mark.parametrize("unit_price", ["0", "-5", "-0.01"])
def test_a_line_without_a_positive_unit_price_is_refused(unit_price):
    with pytest.raises(PricingError, match="Line 1: the unit price"):
        price_order([line("1", unit_price)])


@pytest.mark.parametrize("discount", ["-0.001", "-5", "100.01", "150"])
def test_a_line_discount_outside_zero_to_a_hundred_percent_is_refused(discount):
    with pytest.raises(PricingError, match="Line 1: the discount"):
        price_order([line("1", "10", discount)])


@pytest.mark.parametrize("discount", ["-1", "100.5", "200"])
def test_a_whole_order_discount_outside_zero_to_a_hundred_percent_is_refused(discount):
    with pytest.raises(PricingError, match="whole-order discount must be between"):
        price_order([line("1", "10")], order_discount_percent=D(discount))


def test_a_whole_order_discount_and_a_target_total_together_are_refused():
    with pytest.raises(PricingError, match="not both"):
        price_order([line("1", "10")], order_discount_percent=D("5"), target_total=D("9"))


def test_a_target_total_above_the_subtotal_is_refused():
    with pytest.raises(PricingError, match="above the order's total"):
        price_order([line("1", "100")], target_total=D("100.01"))


@pytest.mark.parametrize("target", ["0", "0.00", "-1"])
def test_a_target_total_of_zero_or_less_is_refused(target):
    with pytest.raises(PricingError, match="greater than zero"):
        price_order([line("1", "100")], target_total=D(target))


def test_a_target_total_with_fractions_of_a_cent_is_refused():
    with pytest.raises(PricingError, match="two decimals"):
        price_order([line("1", "100")], target_total=D("50.005"))


def test_a_target_total_cannot_be_spread_over_lines_that_are_all_free():
    with pytest.raises(PricingError):
        price_order([line("1", "100", "100")], target_total=D("1"))


# --- spread (property) ----------------------------------------------------------------------

# Small totals over many similar lines are where rounding bites: every part rounds the same way.
cents = st.one_of(st.integers(1, 200), st.integers(1, 10**9)).map(lambda n: D(n).scaleb(-2))
amounts = st.one_of(st.integers(0, 300), st.integers(0, 10**9)).map(lambda n: D(n).scaleb(-2))
weights = st.one_of(
    st.lists(amounts, min_size=1, max_size=40),
    st.tuples(amounts, st.integers(1, 40)).map(lambda pair: [pair[0]] * pair[1]),
).filter(lambda ws: sum(ws) > 0)


@given(total=cents, weights=weights)
def test_spread_sums_exactly_to_the_total_and_never_gives_a_negative_part(total, weights):
    parts = spread(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts, D("0")) == total
    assert all(part >= 0 for part in parts)
    assert all(part == rules.money(part) for part in parts)


@given(total=cents, weights=weights)
def test_spread_gives_a_line_without_weight_nothing_unless_it_is_the_largest(total, weights):
    parts = spread(total, weights)
    largest = max(range(len(weights)), key=lambda i: (weights[i], -i))
    for i, weight in enumerate(weights):
        if weight == 0 and i != largest:
            assert parts[i] == 0


@given(
    lines=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=1000),
            st.integers(min_value=1, max_value=10**7),
            st.integers(min_value=0, max_value=99),
        ),
        min_size=1,
        max_size=20,
    ),
    share=st.integers(min_value=1, max_value=100),
)
def test_any_reachable_target_total_is_met_to_the_cent(lines, share):
    inputs = [LineInput(D(q), D(p).scaleb(-2), D(d)) for q, p, d in lines]
    subtotal = price_order(inputs).total
    target = rules.money(subtotal * share / 100)
    if target <= 0:
        return
    priced = price_order(inputs, target_total=target)
    assert priced.total == target
    assert all(amount >= 0 for amount in priced.line_amounts)


# --- discount vs list price ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "quantity", "list_price", "percent"),
    [
        ("6800", "1", "8500", "20.00"),
        ("17000", "2", "8500", "0"),
        ("18000", "2", "8500", "0"),  # sold above list: no discount, never negative
        ("2", "3", "1", "33.33"),
        ("0", "1", "100", "100.00"),
        ("100", "1", "0", "0"),  # a product without a list price
    ],
)
def test_discount_vs_list_price(amount, quantity, list_price, percent):
    assert rules.discount_percent_vs_list(D(amount), D(quantity), D(list_price)) == D(percent)


# --- expected cost and margin ---------------------------------------------------------------


def test_expected_cost_is_lines_at_estimated_unit_cost_plus_freight_installation_other():
    estimate = CostEstimate(
        lines=[LineCost(line_id=11, unit_cost=D("5000"))],
        freight=D("300"),
        installation=D("150.50"),
        other=D("49.50"),
    )
    figures = rules.expected_cost(facts(), estimate)
    assert figures.expected_cost == D("10500.00")
    assert figures.expected_margin == D("6500.00")
    assert figures.margin_percent == D("38.24")


def test_expected_cost_rounds_each_line_half_up():
    estimate = CostEstimate(
        lines=[
            LineCost(line_id=11, unit_cost=D("33.335")),  # 3 × 33.335 = 100.005 -> 100.01
            LineCost(line_id=12, unit_cost=D("0.01")),  # 2.5 × 0.01 = 0.025 -> 0.03
        ]
    )
    figures = rules.expected_cost(two_line_facts(), estimate)
    assert figures.expected_cost == D("100.04")
    assert figures.expected_margin == D("899.96")


def test_expected_margin_can_be_negative_when_cost_exceeds_the_total():
    estimate = CostEstimate(lines=[LineCost(line_id=11, unit_cost=D("9000"))])
    figures = rules.expected_cost(facts(), estimate)
    assert figures.expected_margin == D("-1000.00")
    assert figures.margin_percent == D("-5.88")


def test_a_free_order_has_no_margin_percent():
    estimate = CostEstimate(lines=[LineCost(line_id=11, unit_cost=D("1"))])
    figures = rules.expected_cost(facts(total="0"), estimate)
    assert figures.margin_percent is None
    assert figures.expected_margin == D("-2.00")


# --- estimate problems ----------------------------------------------------------------------


def test_a_complete_estimate_has_no_problems():
    estimate = CostEstimate(
        lines=[LineCost(line_id=11, unit_cost=D("1")), LineCost(line_id=12, unit_cost=D("0"))]
    )
    assert rules.estimate_problems(two_line_facts(), estimate) == []


def test_an_estimate_missing_a_line_names_it():
    estimate = CostEstimate(lines=[LineCost(line_id=12, unit_cost=D("1"))])
    assert rules.estimate_problems(two_line_facts(), estimate) == [
        "Lines without a unit cost: [11]."
    ]


def test_an_estimate_for_a_line_of_another_order_names_it():
    estimate = CostEstimate(
        lines=[
            LineCost(line_id=11, unit_cost=D("1")),
            LineCost(line_id=12, unit_cost=D("1")),
            LineCost(line_id=99, unit_cost=D("1")),
        ]
    )
    assert rules.estimate_problems(two_line_facts(), estimate) == ["Lines not on this order: [99]."]


def test_an_estimate_giving_a_line_twice_is_refused():
    estimate = CostEstimate(
        lines=[
            LineCost(line_id=11, unit_cost=D("1")),
            LineCost(line_id=11, unit_cost=D("2")),
            LineCost(line_id=12, unit_cost=D("1")),
        ]
    )
    assert rules.estimate_problems(two_line_facts(), estimate) == ["A line is estimated twice."]


def test_an_empty_estimate_lists_every_line_as_missing():
    problems = rules.estimate_problems(two_line_facts(), CostEstimate(lines=[]))
    assert problems == ["Lines without a unit cost: [11, 12]."]


def test_an_estimate_can_have_several_problems_at_once():
    estimate = CostEstimate(
        lines=[LineCost(line_id=99, unit_cost=D("1")), LineCost(line_id=99, unit_cost=D("1"))]
    )
    assert rules.estimate_problems(two_line_facts(), estimate) == [
        "A line is estimated twice.",
        "Lines without a unit cost: [11, 12].",
        "Lines not on this order: [99].",
    ]


# --- needs a new estimate -----------------------------------------------------------------


def test_a_revision_keeping_every_unit_cost_needs_no_new_estimate():
    assert not rules.needs_new_estimate(two_line_facts(("10", "20")))


def test_a_revision_that_changed_what_is_sold_needs_a_new_estimate():
    assert rules.needs_new_estimate(two_line_facts(("10", None)))
    assert rules.needs_new_estimate(two_line_facts())


def test_a_zero_unit_cost_counts_as_estimated():
    assert not rules.needs_new_estimate(two_line_facts(("0", "0")))
