"""Pure business rules: pricing, cost and margin, approval routing, payment plans, allocation,
aging, and the expected-vs-actual cost variance. No I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from models.domain import (
    THRESHOLD_CONDITIONS,
    Allocation,
    ApprovalPolicy,
    Assignee,
    CategoryVariance,
    CollectionPolicy,
    Condition,
    ConditionKind,
    CostCategory,
    CostEstimate,
    CostItem,
    Decider,
    DecisionFacts,
    DepartmentLink,
    InstallmentState,
    NamedPlan,
    OrderFacts,
    PaymentPlanItem,
    PaymentTrigger,
    PolicyRequirement,
    PolicyStage,
    Refusal,
    Role,
    RouteRequirement,
    RouteStage,
    ShippingMode,
    VarianceFigures,
    VariancePolicy,
)

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def money(value: Decimal) -> Decimal:
    """Round to the cent, half up (never banker's rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


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


def approver_department(chain: Sequence[DepartmentLink], owner_id: int) -> int | None:
    """The nearest department, from the owner's up the tree, whose manager is not the owner:
    nobody approves their own order. None when there is nobody."""
    for link in chain:
        if link.manager_id is not None and link.manager_id != owner_id:
            return link.department_id
    return None


class UnroutableError(ValueError):
    """No one can decide a requirement of the approval route."""


def _grouped(value: Decimal) -> str:
    return f"{value:,}"


def applies(requirement: PolicyRequirement, facts: OrderFacts) -> str | None:
    """Why the requirement applies to this order, in words, or None when it does not. With no
    condition it always applies; otherwise every condition that holds is a reason."""
    if not requirement.when:
        return "always"
    reasons = [reason for c in requirement.when if (reason := _holds(c, facts))]
    return "; ".join(reasons) or None


def _holds(condition: Condition, facts: OrderFacts) -> str | None:
    kind, value = condition.kind, condition.value
    if kind == ConditionKind.total_at_least and value is not None and facts.total >= value:
        return f"order total >= {_grouped(value)}"
    if (
        kind == ConditionKind.discount_at_least
        and value is not None
        and facts.max_discount_percent >= value
    ):
        return f"discount {facts.max_discount_percent} % >= {value} %"
    if (
        kind == ConditionKind.margin_below
        and value is not None
        and facts.expected_margin_percent is not None
        and facts.expected_margin_percent < value
    ):
        return f"expected margin {facts.expected_margin_percent} % < {value} %"
    if (
        kind == ConditionKind.over_credit_limit
        and facts.exposure is not None
        and facts.credit_limit is not None
        and facts.exposure > facts.credit_limit
    ):
        return (
            f"customer exposure {_grouped(facts.exposure)} over credit limit "
            f"{_grouped(facts.credit_limit)}"
        )
    if kind == ConditionKind.over_stock and (short := short_lines(facts)):
        return "above available stock: " + "; ".join(short)
    if kind == ConditionKind.export and facts.shipping_mode == ShippingMode.export:
        return "export shipping"
    return None


def short_lines(facts: OrderFacts) -> list[str]:
    """The products this order asks more of than is available (lines of one product summed)."""
    wanted: dict[int, Decimal] = {}
    available: dict[int, Decimal] = {}
    codes: dict[int, str] = {}
    for line in facts.lines:
        if line.available is None:
            continue
        wanted[line.product_id] = wanted.get(line.product_id, Decimal("0")) + line.quantity
        available[line.product_id] = line.available
        codes[line.product_id] = line.product_code or f"#{line.product_id}"
    return [
        f"{codes[p]}: {wanted[p].normalize():f} ordered, {available[p].normalize():f} available"
        for p in wanted
        if wanted[p] > available[p]
    ]


def _owner_manager(facts: OrderFacts, code: str) -> Assignee:
    department_id = approver_department(facts.department_chain, facts.owner_id)
    if department_id is None:
        raise UnroutableError(f"No manager above the owner can decide '{code}'.")
    return Assignee(department_id=department_id)


def resolve(decider: Decider, facts: OrderFacts, code: str) -> tuple[Assignee, bool]:
    """Who decides, and whether it was rerouted because it would have been the owner: nobody
    approves their own order, so that goes to the owner's manager instead."""
    if decider.kind == "department_manager":
        first_manager = next(
            (link.manager_id for link in facts.department_chain if link.manager_id is not None),
            None,
        )
        return _owner_manager(facts, code), first_manager == facts.owner_id
    if decider.kind == "role":
        if decider.role is None:
            raise UnroutableError(f"The requirement '{code}' names no role.")
        if facts.staffed_roles is not None and decider.role not in facts.staffed_roles:
            raise UnroutableError(
                f"Nobody active has the role '{decider.role}' to decide '{code}'."
            )
        if facts.owner_role == decider.role:
            return _owner_manager(facts, code), True
        return Assignee(role=decider.role), False
    if decider.user_id is None:
        raise UnroutableError(f"The requirement '{code}' names no person.")
    if decider.user_id == facts.owner_id:
        return _owner_manager(facts, code), True
    if facts.active_deciders is not None and decider.user_id not in facts.active_deciders:
        raise UnroutableError(
            f"The person named to decide '{code}' (user {decider.user_id}) is not active."
        )
    return Assignee(user_id=decider.user_id), False


def approval_route(policy: ApprovalPolicy, facts: OrderFacts) -> list[RouteStage]:
    """The stages of an approval round for this order under this policy, in order: each stage
    with the requirements that apply, each resolved to its assignee. Stages where nothing
    applies are left out."""
    stages: list[RouteStage] = []
    for stage in sorted(policy.stages, key=lambda s: s.position):
        requirements = []
        for requirement in stage.requirements:
            reason = applies(requirement, facts)
            if reason is None:
                continue
            assignee, rerouted = resolve(requirement.decider, facts, requirement.code)
            requirements.append(
                RouteRequirement(
                    code=requirement.code,
                    assignee=assignee,
                    sla_days=requirement.sla_days,
                    reason=reason,
                    rerouted=rerouted,
                )
            )
        if requirements:
            stages.append(RouteStage(position=stage.position, requirements=requirements))
    return stages


def approval_todo_key(round_workflow_id: str, stage: int, code: str) -> str:
    """The key of a requirement's approve to-do in a round (its activities' idempotency key)."""
    return f"{round_workflow_id}/{stage}/{code}"


def notify_on_approval(policy: ApprovalPolicy, facts: OrderFacts) -> list[Assignee]:
    """Who the policy tells when an order passes its last stage (the owner is told anyway)."""
    told = []
    for decider in policy.notify:
        try:
            assignee, _ = resolve(decider, facts, "notify")
        except UnroutableError:
            continue  # a missing person to tell never holds an approved order back
        if assignee not in told:
            told.append(assignee)
    return told


def decision_facts(facts: OrderFacts) -> DecisionFacts:
    """The figures an approver weighs, as the inbox shows them beside the to-do."""
    return DecisionFacts(
        total=facts.total,
        max_discount_percent=facts.max_discount_percent,
        expected_margin=facts.expected_margin,
        expected_margin_percent=facts.expected_margin_percent,
        exposure=facts.exposure,
        credit_limit=facts.credit_limit,
        short_lines=short_lines(facts),
    )


def add_working_days(start: datetime, days: int) -> datetime:
    """The same time of day `days` working days (Monday to Friday) later; from a weekend the
    count starts on Monday."""
    moment = start
    while moment.weekday() >= 5:
        moment += timedelta(days=1)
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


def policy_problems(policy: ApprovalPolicy) -> list[tuple[str, str]]:
    """What is wrong with an approval policy, as (field, message) pairs; empty when it can be
    saved. Whether the named roles and people exist is for the caller, who can look."""
    problems: list[tuple[str, str]] = []
    if not policy.stages:
        problems.append(("stages", "The policy needs at least one stage."))
    seen: set[int] = set()
    for i, stage in enumerate(policy.stages):
        where = f"stages[{i}]"
        if stage.position < 1:
            problems.append((f"{where}.position", "A stage's order must be 1 or more."))
        if stage.position in seen:
            problems.append((f"{where}.position", f"Stage order {stage.position} is used twice."))
        seen.add(stage.position)
        if not stage.requirements:
            problems.append((f"{where}.requirements", "A stage needs at least one requirement."))
        codes: set[str] = set()
        for j, requirement in enumerate(stage.requirements):
            at = f"{where}.requirements[{j}]"
            if not requirement.code.strip():
                problems.append((f"{at}.code", "A requirement needs a name."))
            elif requirement.code in codes:
                problems.append((f"{at}.code", f"'{requirement.code}' is in this stage twice."))
            codes.add(requirement.code)
            decider = requirement.decider
            if decider.kind == "role" and decider.role is None:
                problems.append((f"{at}.decider.role", "Name the role that decides."))
            if decider.kind == "user" and decider.user_id is None:
                problems.append((f"{at}.decider.user_id", "Name the person who decides."))
            if requirement.sla_days < 1:
                problems.append((f"{at}.sla_days", "The SLA must be at least 1 working day."))
            for k, condition in enumerate(requirement.when):
                field = f"{at}.when[{k}].value"
                if condition.kind in THRESHOLD_CONDITIONS:
                    if condition.value is None:
                        problems.append((field, "This condition needs a number."))
                    elif condition.value < 0:
                        problems.append((field, "A threshold cannot be negative."))
                    elif condition.kind != ConditionKind.total_at_least and (
                        condition.value > HUNDRED
                    ):
                        problems.append((field, "A percentage cannot be above 100."))
    for i, decider in enumerate(policy.notify):
        if decider.kind == "role" and decider.role is None:
            problems.append((f"notify[{i}].role", "Name the role to notify."))
        if decider.kind == "user" and decider.user_id is None:
            problems.append((f"notify[{i}].user_id", "Name the person to notify."))
    return problems


def needs_new_estimate(facts: OrderFacts) -> bool:
    """A revision needs pricing again when it changed what is sold: a line whose product or
    quantity changed has lost its unit cost."""
    return any(line.unit_cost is None for line in facts.lines)


# The first policy (version 1): the owner's department manager alone. Orders submitted before
# routing read the policy still carry it.
DEFAULT_APPROVAL_POLICY = ApprovalPolicy(
    version=1,
    stages=[
        PolicyStage(
            position=1,
            requirements=[
                PolicyRequirement(code="sales_manager", decider=Decider(kind="department_manager"))
            ],
        )
    ],
)


def standard_policy(version: int) -> ApprovalPolicy:
    """DESIGN.md's default chain: the sales manager of the owner's department always; then, in
    parallel, the director for a large, deep-discount or low-margin order, finance when the
    customer's exposure exceeds its credit limit, the warehouse when a line exceeds stock."""
    return ApprovalPolicy(
        version=version,
        stages=[
            PolicyStage(
                position=1,
                requirements=[
                    PolicyRequirement(
                        code="sales_manager", decider=Decider(kind="department_manager")
                    )
                ],
            ),
            PolicyStage(
                position=2,
                requirements=[
                    PolicyRequirement(
                        code="director",
                        decider=Decider(kind="role", role=Role.director),
                        when=[
                            Condition(kind=ConditionKind.total_at_least, value=Decimal("500000")),
                            Condition(kind=ConditionKind.discount_at_least, value=Decimal("20")),
                            Condition(kind=ConditionKind.margin_below, value=Decimal("15")),
                        ],
                    ),
                    PolicyRequirement(
                        code="finance",
                        decider=Decider(kind="role", role=Role.finance),
                        when=[Condition(kind=ConditionKind.over_credit_limit)],
                    ),
                    PolicyRequirement(
                        code="warehouse",
                        decider=Decider(kind="role", role=Role.warehouse),
                        when=[Condition(kind=ConditionKind.over_stock)],
                    ),
                ],
            ),
        ],
        notify=[Decider(kind="department_manager")],
    )


def installment_amounts(total: Decimal, percents: Sequence[Decimal]) -> list[Decimal]:
    """Each installment's share of the order total, rounded half up on the running sum so that
    the amounts never go negative and sum exactly to the total (the last one takes what is
    left)."""
    amounts: list[Decimal] = []
    running_percent, paid_so_far = Decimal("0"), Decimal("0")
    for n, percent in enumerate(percents, start=1):
        running_percent += percent
        running = total if n == len(percents) else money(total * running_percent / HUNDRED)
        amounts.append(running - paid_so_far)
        paid_so_far = running
    return amounts


# Payment plans, allocation, reminders and aging -------------------------------------------------

PLAN_30_60_10 = NamedPlan(
    name="30/60/10",
    items=[
        PaymentPlanItem(percent=Decimal("30"), trigger=PaymentTrigger.confirmation),
        PaymentPlanItem(percent=Decimal("60"), trigger=PaymentTrigger.acceptance, offset_days=30),
        PaymentPlanItem(percent=Decimal("10"), trigger=PaymentTrigger.acceptance, offset_days=365),
    ],
)
DEFAULT_COLLECTION_POLICY = CollectionPolicy(
    plans=[
        NamedPlan(
            name="100 % on confirmation",
            items=[PaymentPlanItem(percent=HUNDRED, trigger=PaymentTrigger.confirmation)],
        ),
        PLAN_30_60_10,
        NamedPlan(
            name="50/50",
            items=[
                PaymentPlanItem(percent=Decimal("50"), trigger=PaymentTrigger.confirmation),
                PaymentPlanItem(percent=Decimal("50"), trigger=PaymentTrigger.dispatch),
            ],
        ),
    ]
)


def plan_problems(items: Sequence[PaymentPlanItem]) -> list[str]:
    """What is wrong with a payment plan, in words for the person entering it."""
    problems = []
    if items and sum((item.percent for item in items), Decimal("0")) != HUNDRED:
        problems.append("The payment plan's percentages must add up to exactly 100.")
    for n, item in enumerate(items, start=1):
        if item.offset_days < 0:
            problems.append(f"Installment {n}: the offset in days cannot be negative.")
        if item.trigger == PaymentTrigger.fixed_date and item.fixed_date is None:
            problems.append(f"Installment {n} is due on a fixed date but has no date.")
    return problems


def due_date(
    trigger: PaymentTrigger,
    offset_days: int,
    fixed_date: date | None,
    events: dict[PaymentTrigger, date],
) -> date | None:
    """When an installment is due: its event's date plus the offset, or its fixed date; None
    while the event has not happened."""
    if trigger == PaymentTrigger.fixed_date:
        return fixed_date + timedelta(days=offset_days) if fixed_date else None
    happened = events.get(trigger)
    return happened + timedelta(days=offset_days) if happened else None


class AllocationError(Refusal):
    """A payment that cannot be allocated (more than is outstanding)."""


def allocate(installments: Sequence[InstallmentState], amount: Decimal) -> list[Allocation]:
    """Spread a confirmed payment over the open installments, the oldest due first (those
    without a due date last, in plan order); never more than an installment's open amount.
    Raises AllocationError when the amount is not positive or above what is open."""
    if amount <= 0:
        raise AllocationError("A payment must be more than zero.")
    outstanding = sum((i.open for i in installments), Decimal("0"))
    if amount > outstanding:
        raise AllocationError(
            "The payment of %(amount)s is more than the %(outstanding)s outstanding.",
            amount=amount,
            outstanding=outstanding,
        )
    order = sorted(
        (i for i in installments if i.open > 0),
        key=lambda i: (i.due_date is None, i.due_date or date.min, i.position),
    )
    left, allocations = amount, []
    for installment in order:
        if left <= 0:
            break
        share = min(left, installment.open)
        allocations.append(Allocation(position=installment.position, amount=share))
        left -= share
    return allocations


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


@dataclass(frozen=True)
class CollectionMoments:
    """When an installment's timers fire (UTC)."""

    reminder: datetime
    overdue: datetime  # the day after the due date begins
    manager: datetime
    director: datetime


def collection_moments(due: date, policy: CollectionPolicy) -> CollectionMoments:
    overdue = day_start(due + timedelta(days=1))
    return CollectionMoments(
        reminder=day_start(due - timedelta(days=policy.reminder_days_before)),
        overdue=overdue,
        manager=overdue + timedelta(days=policy.manager_after_days),
        director=overdue + timedelta(days=policy.director_after_days),
    )


def collection_status(installments: Sequence[InstallmentState], today: date) -> str:
    """not_due, due (an installment is due today or has a due date and is open), overdue, or
    paid."""
    open_ = [i for i in installments if i.open > 0]
    if not open_:
        return "paid"
    if any(i.due_date is not None and i.due_date < today for i in open_):
        return "overdue"
    if any(i.due_date is not None for i in open_):
        return "due"
    return "not_due"


AGING_BUCKETS = ("not_due", "1-30", "31-60", "61-90", "over_90")


def aging_bucket(due: date | None, today: date) -> str:
    """The aging column of an open amount due on `due` (not yet due when it has no date)."""
    if due is None or due >= today:
        return "not_due"
    days = (today - due).days
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "over_90"


# -- actual costs and the variance -----------------------------------------------------------

DEFAULT_VARIANCE_POLICY = VariancePolicy()
ZERO = Decimal("0")


def cost_item_problems(items: Sequence[CostItem], recorded: set[str], *, final: bool) -> list[str]:
    """What is wrong with a batch of actual costs; `recorded` holds cost_key() of the order's
    items not rejected (the same supplier payment is not recorded twice for one category)."""
    if not items:
        return [] if final else ["Give at least one cost item."]
    problems = []
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        reference = item.supplier_payment_reference.strip()
        if item.amount <= ZERO:
            problems.append(f"Item {number}: the amount must be more than zero.")
        if not reference:
            problems.append(f"Item {number}: give the supplier payment reference.")
            continue
        key = cost_key(item)
        if key in recorded:
            problems.append(
                f"Item {number}: supplier payment {reference} is already recorded as "
                f"{item.category.value} for this order."
            )
        elif key in seen:
            problems.append(f"Item {number}: supplier payment {reference} is given twice.")
        seen.add(key)
    return problems


def cost_key(item: CostItem) -> str:
    return f"{item.category.value}|{item.supplier_payment_reference.strip().casefold()}"


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


def percent_of(difference: Decimal, base: Decimal | None) -> Decimal | None:
    """The difference as a percentage of the base, to the hundredth, half up; None with
    nothing for a base (the order page and the cost report show it the same way)."""
    if not base:
        return None
    return money(difference / base * HUNDRED)


def variance(
    expected: dict[CostCategory, Decimal],
    actual: dict[CostCategory, Decimal],
    policy: VariancePolicy,
) -> VarianceFigures:
    """Expected against actual cost per category and in all. The variance is above the threshold
    when it is (either way) more than the policy's percentage of the expected cost, or more than
    its absolute amount when it sets one; with nothing expected, any actual cost is above."""
    categories = []
    for category in CostCategory:
        planned = money(expected.get(category, ZERO))
        spent = money(actual.get(category, ZERO))
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
