"""Pricing a draft (line and order discounts, a target total) and its expected cost and margin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from models.domain import CostEstimate, OrderFacts, Refusal
from workflows.rules.money import HUNDRED, money


class PricingError(Refusal):
    """A draft whose prices cannot be computed; the message says why, for the person."""


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = Decimal("0")


@dataclass(frozen=True)
class PricedOrder:
    line_amounts: list[Decimal]
    total: Decimal
    before_order_discount: Decimal


def line_net(line: LineInput) -> Decimal:
    return money(line.quantity * line.unit_price * (HUNDRED - line.discount_percent) / HUNDRED)


def price_order(
    lines: Sequence[LineInput],
    *,
    order_discount_percent: Decimal | None = None,
    target_total: Decimal | None = None,
) -> PricedOrder:
    """Line amounts after the per-line discount and then either a whole-order discount or a
    target total spread over the lines in proportion to their amounts. Each line is rounded half
    up; with a target the rounding remainder goes to the largest line, so the lines sum exactly to
    the target."""
    if not lines:
        raise PricingError("An order needs at least one line.")
    for n, line in enumerate(lines, start=1):
        if line.quantity <= 0:
            raise PricingError("Line %(n)s: the quantity must be greater than zero.", n=n)
        if line.unit_price <= 0:
            raise PricingError("Line %(n)s: the unit price must be greater than zero.", n=n)
        if not Decimal("0") <= line.discount_percent <= HUNDRED:
            raise PricingError("Line %(n)s: the discount must be between 0 and 100 %%.", n=n)
    if order_discount_percent is not None and target_total is not None:
        raise PricingError("Give either a whole-order discount or a target total, not both.")

    nets = [line_net(line) for line in lines]
    subtotal = sum(nets, Decimal("0"))

    if order_discount_percent is not None:
        if not Decimal("0") <= order_discount_percent <= HUNDRED:
            raise PricingError("The whole-order discount must be between 0 and 100 %%.")
        factor = (HUNDRED - order_discount_percent) / HUNDRED
        amounts = [money(net * factor) for net in nets]
    elif target_total is not None:
        if target_total <= 0:
            raise PricingError("The target total must be greater than zero.")
        if money(target_total) != target_total:
            raise PricingError("The target total can have at most two decimals.")
        if target_total > subtotal:
            raise PricingError(
                "The target total %(target)s is above the order's total before the order "
                "discount (%(subtotal)s).",
                target=target_total,
                subtotal=subtotal,
            )
        amounts = spread(target_total, nets)
    else:
        amounts = nets
    return PricedOrder(
        line_amounts=amounts, total=sum(amounts, Decimal("0")), before_order_discount=subtotal
    )


def spread(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split total over the weights, each part rounded half up, the remainder on the largest."""
    weight_sum = sum(weights, Decimal("0"))
    if weight_sum == 0:
        raise PricingError("Nothing to spread the target total over.")
    parts = [money(total * w / weight_sum) for w in weights]
    remainder = total - sum(parts, Decimal("0"))
    # When many small parts were all rounded up, the remainder can be more than the largest
    # part holds; what it cannot take comes off the next largest, so no part turns negative.
    for i in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        parts[i] += remainder
        if parts[i] >= 0:
            break
        remainder, parts[i] = parts[i], Decimal("0.00")
    return parts


def discount_percent_vs_list(amount: Decimal, quantity: Decimal, list_price: Decimal) -> Decimal:
    """How far below the list price a line was sold, in percent (0 when at or above list)."""
    gross = quantity * list_price
    if gross <= 0:
        return Decimal("0")
    return max(Decimal("0"), money((gross - amount) / gross * HUNDRED))


@dataclass(frozen=True)
class CostFigures:
    expected_cost: Decimal
    expected_margin: Decimal
    margin_percent: Decimal | None


def expected_cost(facts: OrderFacts, estimate: CostEstimate) -> CostFigures:
    """The cost baseline: each line's quantity at its estimated unit cost, plus freight,
    installation and other expected costs; the margin is what is left of the order total."""
    unit_costs = {line.line_id: line.unit_cost for line in estimate.lines}
    goods = sum(
        (money(line.quantity * unit_costs[line.line_id]) for line in facts.lines), Decimal("0")
    )
    cost = goods + money(estimate.freight) + money(estimate.installation) + money(estimate.other)
    margin = facts.total - cost
    percent = money(margin / facts.total * HUNDRED) if facts.total else None
    return CostFigures(expected_cost=cost, expected_margin=margin, margin_percent=percent)


def estimate_problems(facts: OrderFacts, estimate: CostEstimate) -> list[str]:
    """What is wrong with a cost estimate for this order (empty when it is complete)."""
    expected = {line.line_id for line in facts.lines}
    given = [line.line_id for line in estimate.lines]
    problems = []
    if len(given) != len(set(given)):
        problems.append("A line is estimated twice.")
    if missing := expected - set(given):
        problems.append(f"Lines without a unit cost: {sorted(missing)}.")
    if unknown := set(given) - expected:
        problems.append(f"Lines not on this order: {sorted(unknown)}.")
    return problems


def needs_new_estimate(facts: OrderFacts) -> bool:
    """A revision needs pricing again when it changed what is sold: a line whose product or
    quantity changed has lost its unit cost."""
    return any(line.unit_cost is None for line in facts.lines)
