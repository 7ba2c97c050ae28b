"""Approval routing: which requirements apply, who decides them, the policies, working days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from models.domain import (
    THRESHOLD_CONDITIONS,
    ApprovalPolicy,
    Assignee,
    Condition,
    ConditionKind,
    Decider,
    DecisionFacts,
    DepartmentLink,
    OrderFacts,
    PolicyRequirement,
    PolicyStage,
    Role,
    RouteRequirement,
    RouteStage,
    ShippingMode,
)
from workflows.rules.money import HUNDRED

# The policy's amount above which a cancellation also needs the director, and its refusal.
CANCELLATION_DIRECTOR_ABOVE = "cancellation_director_above"
CANCELLATION_AMOUNT_NEGATIVE = (
    "The amount above which the director also approves a cancellation cannot be negative "
    "(leave it blank if the director need never approve one)."
)
# The same for a return, on the value of the goods asked back.
RETURN_DIRECTOR_ABOVE = "return_director_above"
RETURN_AMOUNT_NEGATIVE = (
    "The amount above which the director also approves a return cannot be negative "
    "(leave it blank if the director need never approve one)."
)


def approver_department(
    chain: Sequence[DepartmentLink], owner_id: int, requester_id: int | None = None
) -> int | None:
    """The nearest department, from the owner's up the tree, whose manager is neither the owner
    nor whoever asked for the decision (a change's requester): nobody approves their own order
    or their own request. None when there is nobody."""
    for link in chain:
        if link.manager_id is not None and link.manager_id not in (owner_id, requester_id):
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


def _owner_manager(facts: OrderFacts, code: str, requester_id: int | None = None) -> Assignee:
    department_id = approver_department(facts.department_chain, facts.owner_id, requester_id)
    if department_id is None:
        raise UnroutableError(f"No manager above the owner can decide '{code}'.")
    return Assignee(department_id=department_id)


def resolve(
    decider: Decider, facts: OrderFacts, code: str, requester_id: int | None = None
) -> tuple[Assignee, bool]:
    """Who decides, and whether it was rerouted because it would have been the owner (or the
    change's requester, when there is one): nobody approves their own order or request, so
    that goes to the manager above them instead. A role is left to the role: whoever else
    holds it decides (the requester is refused as self-approval)."""
    if decider.kind == "department_manager":
        first_manager = next(
            (link.manager_id for link in facts.department_chain if link.manager_id is not None),
            None,
        )
        avoided = (facts.owner_id, requester_id)
        return _owner_manager(facts, code, requester_id), first_manager in avoided
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
    if decider.user_id in (facts.owner_id, requester_id):
        return _owner_manager(facts, code, requester_id), True
    if facts.active_deciders is not None and decider.user_id not in facts.active_deciders:
        raise UnroutableError(
            f"The person named to decide '{code}' (user {decider.user_id}) is not active."
        )
    return Assignee(user_id=decider.user_id), False


def approval_route(
    policy: ApprovalPolicy, facts: OrderFacts, *, requester_id: int | None = None
) -> list[RouteStage]:
    """The stages of an approval round for this order under this policy, in order: each stage
    with the requirements that apply, each resolved to its assignee. Stages where nothing
    applies are left out. A change request's round routes around its requester as around the
    owner."""
    stages: list[RouteStage] = []
    for stage in sorted(policy.stages, key=lambda s: s.position):
        requirements = []
        for requirement in stage.requirements:
            reason = applies(requirement, facts)
            if reason is None:
                continue
            assignee, rerouted = resolve(requirement.decider, facts, requirement.code, requester_id)
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
    problems += _director_amount_problems(policy)
    for i, decider in enumerate(policy.notify):
        if decider.kind == "role" and decider.role is None:
            problems.append((f"notify[{i}].role", "Name the role to notify."))
        if decider.kind == "user" and decider.user_id is None:
            problems.append((f"notify[{i}].user_id", "Name the person to notify."))
    return problems


def _director_amount_problems(policy: ApprovalPolicy) -> list[tuple[str, str]]:
    """The amounts above which a cancellation or a return also goes to the director cannot be
    negative."""
    amounts = (
        (
            CANCELLATION_DIRECTOR_ABOVE,
            policy.cancellation_director_above,
            CANCELLATION_AMOUNT_NEGATIVE,
        ),
        (RETURN_DIRECTOR_ABOVE, policy.return_director_above, RETURN_AMOUNT_NEGATIVE),
    )
    return [
        (name, negative) for name, above, negative in amounts if above is not None and above < 0
    ]


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
