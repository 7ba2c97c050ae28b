"""Approval routing: which requirements apply to an order, who decides them, who is told, policy
checks and working days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from models.domain import (
    Actor,
    ApprovalPolicy,
    Assignee,
    Condition,
    ConditionKind,
    Decider,
    DecisionFacts,
    DepartmentLink,
    LineFacts,
    OrderFacts,
    PolicyRequirement,
    PolicyStage,
    Role,
    RouteRequirement,
    RouteStage,
    ShippingMode,
)
from workflows import rules
from workflows.rules import UnroutableError

D = Decimal

# A company of three levels: the East China office (managed by the sales manager) under Sales
# (managed by the director) under the company (managed by the CEO). The rep works in East China.
CEO, DIRECTOR, SALES_MANAGER, SALES_REP, OTHER_REP = 7, 1, 2, 4, 5
EAST, SALES, COMPANY = 20, 10, 1
CHAIN = [
    DepartmentLink(department_id=EAST, manager_id=SALES_MANAGER),
    DepartmentLink(department_id=SALES, manager_id=DIRECTOR),
    DepartmentLink(department_id=COMPANY, manager_id=CEO),
]
STANDARD = rules.standard_policy(2)


def product_line(
    product_id: int = 3,
    quantity: str = "2",
    available: str | None = "100",
    *,
    line_id: int | None = None,
    code: str = "PUMP-10",
) -> LineFacts:
    return LineFacts(
        line_id=line_id if line_id is not None else product_id * 10,
        product_id=product_id,
        quantity=D(quantity),
        amount=D("1000.00"),
        standard_cost=D("300.00"),
        product_code=code,
        available=D(available) if available is not None else None,
    )


def order(
    *,
    owner_id: int = SALES_REP,
    owner_role: Role | None = Role.sales,
    chain: list[DepartmentLink] | None = None,
    total: str = "10000.00",
    discount: str = "0",
    margin: str | None = "30.00",
    exposure: str | None = "0.00",
    credit_limit: str | None = "100000.00",
    lines: list[LineFacts] | None = None,
    shipping_mode: ShippingMode = ShippingMode.domestic,
    staffed_roles: list[Role] | None = None,
    active_deciders: list[int] | None = None,
) -> OrderFacts:
    """An order comfortably inside every limit unless a figure says otherwise."""
    chain = CHAIN if chain is None else chain
    return OrderFacts(
        order_id=1,
        number="SO-2026-00001",
        owner_id=owner_id,
        department_id=chain[0].department_id if chain else EAST,
        customer_id=1,
        total=D(total),
        max_discount_percent=D(discount),
        shipping_mode=shipping_mode,
        lines=[product_line()] if lines is None else lines,
        department_chain=chain,
        owner_role=owner_role,
        expected_margin=None if margin is None else D(total) * D(margin) / 100,
        expected_margin_percent=None if margin is None else D(margin),
        credit_limit=None if credit_limit is None else D(credit_limit),
        exposure=None if exposure is None else D(exposure),
        staffed_roles=staffed_roles,
        active_deciders=active_deciders,
    )


def stage_two(facts: OrderFacts) -> dict[str, RouteRequirement]:
    """The standard policy's parallel stage for this order, by requirement code."""
    route = rules.approval_route(STANDARD, facts)
    return {r.code: r for stage in route if stage.position == 2 for r in stage.requirements}


def requirements(facts: OrderFacts, policy: ApprovalPolicy = STANDARD) -> dict[str, Assignee]:
    route = rules.approval_route(policy, facts)
    return {r.code: r.assignee for stage in route for r in stage.requirements}


def policy_of(*stages: PolicyStage, notify: list[Decider] | None = None) -> ApprovalPolicy:
    return ApprovalPolicy(version=9, stages=list(stages), notify=notify or [])


def stage(position: int, *reqs: PolicyRequirement) -> PolicyStage:
    return PolicyStage(position=position, requirements=list(reqs))


def needs(
    code: str,
    decider: Decider | None = None,
    *when: Condition,
    sla_days: int = 1,
) -> PolicyRequirement:
    return PolicyRequirement(
        code=code,
        decider=decider or Decider(kind="department_manager"),
        when=list(when),
        sla_days=sla_days,
    )


def role(r: Role) -> Decider:
    return Decider(kind="role", role=r)


def person(user_id: int) -> Decider:
    return Decider(kind="user", user_id=user_id)


def owner_as_actor(facts: OrderFacts) -> Actor:
    return Actor(
        user_id=facts.owner_id,
        role=facts.owner_role or Role.sales,
        managed_department_ids=[
            link.department_id
            for link in facts.department_chain
            if link.manager_id == facts.owner_id
        ],
    )


# The two-level tree: the East China office under Sales, whose manager (the director) has nobody
# above; routes and approver departments at the top of a tree.
TWO_LEVELS = [
    DepartmentLink(department_id=EAST, manager_id=SALES_MANAGER),
    DepartmentLink(department_id=SALES, manager_id=DIRECTOR),
]


def order_in_two_levels(
    *, owner_id: int = SALES_REP, chain: list[DepartmentLink] = TWO_LEVELS
) -> OrderFacts:
    """A one-line order of 17,000.00 whose figures bring no condition."""
    return OrderFacts(
        order_id=1,
        number="SO-2026-00001",
        owner_id=owner_id,
        department_id=chain[0].department_id if chain else EAST,
        customer_id=1,
        total=D("17000.00"),
        max_discount_percent=D("0"),
        shipping_mode=ShippingMode.domestic,
        lines=[
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


def requirement_for(code: str, kind: str, **decider) -> PolicyRequirement:
    return PolicyRequirement(code=code, decider=Decider(kind=kind, **decider))


# --- stage 1: the owner's department manager, always --------------------------------------


@pytest.mark.parametrize(
    "facts",
    [
        order(),
        order(total="0.01"),
        order(total="2000000.00", discount="40", margin="-5", exposure="900000.00"),
        order(margin=None, exposure=None, credit_limit=None),
        order(shipping_mode=ShippingMode.export),
    ],
    ids=["ordinary", "tiny", "over-every-limit", "figures-not-loaded", "export"],
)
def test_every_order_goes_first_to_the_owners_department_manager(facts: OrderFacts) -> None:
    route = rules.approval_route(STANDARD, facts)
    assert route[0] == RouteStage(
        position=1,
        requirements=[
            RouteRequirement(
                code="sales_manager",
                assignee=Assignee(department_id=EAST),
                reason="always",
                rerouted=False,
            )
        ],
    )


def test_an_order_inside_every_limit_needs_only_the_department_manager() -> None:
    route = rules.approval_route(STANDARD, order())
    assert [s.position for s in route] == [1]


def test_the_first_policy_version_asks_the_department_manager_alone_whatever_the_order() -> None:
    facts = order(total="900000.00", discount="50", margin="1", exposure="999999.00")
    route = rules.approval_route(rules.DEFAULT_APPROVAL_POLICY, facts)
    assert [(s.position, [r.code for r in s.requirements]) for s in route] == [
        (1, ["sales_manager"])
    ]


# --- stage 2: director ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "director"),
    [
        ("500000.00", True),
        ("500000", True),
        ("500000.01", True),
        ("12000000.00", True),
        ("499999.99", False),
        ("499999.999", False),
        ("10000.00", False),
        ("0.00", False),
    ],
)
def test_director_approves_orders_of_half_a_million_or_more(total: str, director: bool) -> None:
    assert ("director" in stage_two(order(total=total))) is director


@pytest.mark.parametrize(
    ("discount", "director"),
    [
        ("20", True),
        ("20.00", True),
        ("20.01", True),
        ("100", True),
        ("19.99", False),
        ("19.999", False),
        ("0", False),
    ],
)
def test_director_approves_a_discount_of_twenty_percent_or_more(
    discount: str, director: bool
) -> None:
    assert ("director" in stage_two(order(discount=discount))) is director


@pytest.mark.parametrize(
    ("margin", "director"),
    [
        ("15", False),
        ("15.00", False),
        ("15.01", False),
        ("60", False),
        ("14.99", True),
        ("14.999", True),
        ("0", True),
        ("-12.50", True),
        (None, False),
    ],
    ids=lambda v: str(v),
)
def test_director_approves_an_expected_margin_below_fifteen_percent(
    margin: str | None, director: bool
) -> None:
    assert ("director" in stage_two(order(margin=margin))) is director


@pytest.mark.parametrize(
    ("figures", "reason"),
    [
        ({"total": "500000.00"}, "order total >= 500,000"),
        ({"discount": "25"}, "discount 25 % >= 20 %"),
        ({"margin": "10.5"}, "expected margin 10.5 % < 15 %"),
        # several conditions hold: each is named, in the policy's order
        (
            {"total": "750000.00", "discount": "30", "margin": "2"},
            "order total >= 500,000; discount 30 % >= 20 %; expected margin 2 % < 15 %",
        ),
        ({"discount": "30", "margin": "2"}, "discount 30 % >= 20 %; expected margin 2 % < 15 %"),
        (
            {"total": "500000.00", "margin": "14.99"},
            "order total >= 500,000; expected margin 14.99 % < 15 %",
        ),
    ],
)
def test_director_requirement_says_which_figures_brought_it(
    figures: dict[str, str], reason: str
) -> None:
    director = stage_two(order(**figures))["director"]
    assert director.reason == reason
    assert director.assignee == Assignee(role=Role.director)
    assert not director.rerouted


# --- stage 2: finance -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exposure", "credit_limit", "finance"),
    [
        ("100000.00", "100000.00", False),
        ("100000.01", "100000.00", True),
        ("99999.99", "100000.00", False),
        ("250000.00", "100000.00", True),
        ("0.00", "0.00", False),
        ("0.01", "0.00", True),
        (None, "100000.00", False),
        ("250000.00", None, False),
        (None, None, False),
    ],
)
def test_finance_approves_when_the_customers_exposure_is_over_its_credit_limit(
    exposure: str | None, credit_limit: str | None, finance: bool
) -> None:
    facts = order(exposure=exposure, credit_limit=credit_limit)
    assert ("finance" in stage_two(facts)) is finance


def test_finance_requirement_names_the_exposure_and_the_limit() -> None:
    finance = stage_two(order(exposure="100000.01", credit_limit="100000.00"))["finance"]
    assert finance.reason == "customer exposure 100,000.01 over credit limit 100,000.00"
    assert finance.assignee == Assignee(role=Role.finance)


# --- stage 2: warehouse ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "available", "warehouse"),
    [
        ("5", "5", False),
        ("5.000", "5", False),
        ("5.001", "5", True),
        ("6", "5", True),
        ("4", "5", False),
        ("1", "0", True),
        ("1", "-3", True),
        ("1000", None, False),
    ],
)
def test_warehouse_approves_when_more_is_ordered_than_is_available(
    quantity: str, available: str | None, warehouse: bool
) -> None:
    facts = order(lines=[product_line(quantity=quantity, available=available)])
    assert ("warehouse" in stage_two(facts)) is warehouse


@pytest.mark.parametrize(
    ("quantities", "available", "warehouse"),
    [
        (("3", "3"), "6", False),
        (("3", "3"), "5", True),
        (("3", "3.01"), "6", True),
        (("1", "1", "1"), "2", True),
    ],
)
def test_lines_of_one_product_are_summed_against_its_stock(
    quantities: tuple[str, ...], available: str, warehouse: bool
) -> None:
    lines = [product_line(3, q, available, line_id=n) for n, q in enumerate(quantities, start=1)]
    assert ("warehouse" in stage_two(order(lines=lines))) is warehouse


def test_lines_of_different_products_are_each_within_their_own_stock() -> None:
    lines = [
        product_line(3, "5", "5", code="PUMP-10"),
        product_line(4, "5", "5", code="VALVE-2"),
    ]
    assert "warehouse" not in stage_two(order(lines=lines))
    assert rules.short_lines(order(lines=lines)) == []


def test_warehouse_requirement_names_each_short_product_with_summed_quantity() -> None:
    lines = [
        product_line(3, "7", "5", line_id=1, code="PUMP-10"),
        product_line(4, "1", "9", line_id=2, code="VALVE-2"),
        product_line(3, "5", "5", line_id=3, code="PUMP-10"),
        product_line(6, "2.50", "2.0", line_id=4, code="SEAL-7"),
    ]
    warehouse = stage_two(order(lines=lines))["warehouse"]
    assert warehouse.reason == (
        "above available stock: PUMP-10: 12 ordered, 5 available; SEAL-7: 2.5 ordered, 2 available"
    )
    assert warehouse.assignee == Assignee(role=Role.warehouse)


@pytest.mark.parametrize(
    ("quantity", "available", "text"),
    [
        ("12", "5", "PUMP-10: 12 ordered, 5 available"),
        ("12.000", "5.00", "PUMP-10: 12 ordered, 5 available"),
        ("100", "10", "PUMP-10: 100 ordered, 10 available"),
        ("2.5", "0", "PUMP-10: 2.5 ordered, 0 available"),
    ],
)
def test_short_lines_show_quantities_without_trailing_zeros_or_exponents(
    quantity: str, available: str, text: str
) -> None:
    assert rules.short_lines(order(lines=[product_line(3, quantity, available)])) == [text]


def test_a_short_product_without_a_code_is_named_by_its_id() -> None:
    facts = order(lines=[product_line(3, "9", "1", code="")])
    assert rules.short_lines(facts) == ["#3: 9 ordered, 1 available"]


# --- stage 2 as a whole ---------------------------------------------------------------------


def test_director_finance_and_warehouse_decide_in_parallel_in_one_second_stage() -> None:
    facts = order(
        total="600000.00",
        exposure="200000.00",
        lines=[product_line(quantity="50", available="10")],
    )
    route = rules.approval_route(STANDARD, facts)
    assert [s.position for s in route] == [1, 2]
    assert [(r.code, r.assignee) for r in route[1].requirements] == [
        ("director", Assignee(role=Role.director)),
        ("finance", Assignee(role=Role.finance)),
        ("warehouse", Assignee(role=Role.warehouse)),
    ]
    assert all(r.reason and not r.rerouted for r in route[1].requirements)


@pytest.mark.parametrize(
    ("figures", "codes"),
    [
        ({}, []),
        ({"total": "500000.00"}, ["director"]),
        ({"exposure": "100000.01"}, ["finance"]),
        ({"lines": [product_line(quantity="101")]}, ["warehouse"]),
        ({"discount": "20", "exposure": "100000.01"}, ["director", "finance"]),
        ({"margin": "14.99", "lines": [product_line(quantity="101")]}, ["director", "warehouse"]),
    ],
)
def test_only_the_requirements_whose_conditions_hold_are_in_stage_two(
    figures: dict[str, object], codes: list[str]
) -> None:
    assert list(stage_two(order(**figures))) == codes  # type: ignore[arg-type]


def test_an_order_whose_figures_were_not_loaded_needs_no_stage_two() -> None:
    facts = order(
        margin=None,
        exposure=None,
        credit_limit=None,
        lines=[product_line(quantity="1000", available=None)],
    )
    assert stage_two(facts) == {}


# --- conditions and stages of any policy ----------------------------------------------------


EXPORT_CHECK = needs("export_desk", role(Role.ops), Condition(kind=ConditionKind.export))


@pytest.mark.parametrize(
    ("mode", "applies"), [(ShippingMode.export, True), (ShippingMode.domestic, False)]
)
def test_export_condition_applies_to_export_shipping_only(
    mode: ShippingMode, applies: bool
) -> None:
    reason = rules.applies(EXPORT_CHECK, order(shipping_mode=mode))
    assert reason == ("export shipping" if applies else None)


@pytest.mark.parametrize(
    ("figures", "reason"),
    [
        (
            {"total": "1000.00", "shipping_mode": ShippingMode.export},
            "order total >= 1,000; export shipping",
        ),
        ({"total": "1000.00"}, "order total >= 1,000"),
        ({"total": "999.99", "shipping_mode": ShippingMode.export}, "export shipping"),
        ({"total": "999.99"}, None),
    ],
)
def test_conditions_of_a_requirement_are_alternatives(
    figures: dict[str, object], reason: str | None
) -> None:
    requirement = needs(
        "big_or_export",
        role(Role.ops_manager),
        Condition(kind=ConditionKind.total_at_least, value=D("1000")),
        Condition(kind=ConditionKind.export),
    )
    assert rules.applies(requirement, order(**figures)) == reason  # type: ignore[arg-type]


def test_a_requirement_without_conditions_always_applies() -> None:
    assert rules.applies(needs("manager"), order()) == "always"


@pytest.mark.parametrize(
    "kind",
    [ConditionKind.total_at_least, ConditionKind.discount_at_least, ConditionKind.margin_below],
)
def test_a_threshold_condition_without_a_number_never_applies(kind: ConditionKind) -> None:
    requirement = needs("odd", role(Role.director), Condition(kind=kind))
    facts = order(total="99999999.00", discount="100", margin="-100")
    assert rules.applies(requirement, facts) is None


def test_stages_where_nothing_applies_are_left_out_and_the_others_keep_their_position() -> None:
    policy = policy_of(
        stage(1, needs("manager")),
        stage(2, EXPORT_CHECK),
        stage(3, needs("finance", role(Role.finance))),
        stage(4, EXPORT_CHECK),
    )
    route = rules.approval_route(policy, order())
    assert [(s.position, [r.code for r in s.requirements]) for s in route] == [
        (1, ["manager"]),
        (3, ["finance"]),
    ]


def test_a_policy_where_nothing_applies_gives_an_empty_route() -> None:
    assert rules.approval_route(policy_of(stage(1, EXPORT_CHECK)), order()) == []


@pytest.mark.parametrize("positions", [[3, 1, 2], [2, 3, 1], [10, 5, 7], [1, 2, 3]])
def test_stages_come_in_the_order_of_their_position_not_of_the_list(
    positions: list[int],
) -> None:
    policy = policy_of(*(stage(p, needs(f"step_{p}", person(100 + p))) for p in positions))
    route = rules.approval_route(policy, order())
    assert [s.position for s in route] == sorted(positions)
    assert [s.requirements[0].code for s in route] == [f"step_{p}" for p in sorted(positions)]


def test_requirements_keep_the_policys_order_within_a_stage() -> None:
    policy = policy_of(
        stage(1, needs("c", role(Role.finance)), needs("a", role(Role.ops)), needs("b", person(42)))
    )
    [only] = rules.approval_route(policy, order())
    assert [r.code for r in only.requirements] == ["c", "a", "b"]


@pytest.mark.parametrize("sla_days", [1, 2, 5])
def test_a_route_requirement_carries_the_policys_sla(sla_days: int) -> None:
    policy = policy_of(stage(1, needs("manager", sla_days=sla_days)))
    [only] = rules.approval_route(policy, order())
    assert only.requirements[0].sla_days == sla_days


def test_role_and_named_deciders_resolve_to_the_role_and_the_person() -> None:
    policy = policy_of(stage(1, needs("ops", role(Role.ops)), needs("ceo", person(CEO))))
    assert requirements(order(), policy) == {
        "ops": Assignee(role=Role.ops),
        "ceo": Assignee(user_id=CEO),
    }


# --- routes in a two-level tree: the first policy, roles and named people -----------------


def test_default_policy_routes_to_the_owners_department_manager():
    route = rules.approval_route(rules.DEFAULT_APPROVAL_POLICY, order_in_two_levels())
    assert len(route) == 1
    assert route[0].position == 1
    [only] = route[0].requirements
    assert only.code == "sales_manager"
    assert only.assignee == Assignee(department_id=EAST)


def test_default_policy_routes_a_managers_own_order_to_the_department_above():
    route = rules.approval_route(
        rules.DEFAULT_APPROVAL_POLICY, order_in_two_levels(owner_id=SALES_MANAGER)
    )
    assert route[0].requirements[0].assignee == Assignee(department_id=SALES)


def test_route_resolves_role_and_named_user_deciders():
    policy = ApprovalPolicy(
        version=3,
        stages=[
            PolicyStage(
                position=1,
                requirements=[
                    requirement_for("finance", "role", role=Role.finance),
                    requirement_for("ceo", "user", user_id=42),
                ],
            )
        ],
    )
    [stage] = rules.approval_route(policy, order_in_two_levels())
    assert [(r.code, r.assignee) for r in stage.requirements] == [
        ("finance", Assignee(role=Role.finance)),
        ("ceo", Assignee(user_id=42)),
    ]


def test_route_stages_come_in_policy_order_and_empty_stages_are_left_out():
    policy = ApprovalPolicy(
        version=2,
        stages=[
            PolicyStage(
                position=3, requirements=[requirement_for("director", "role", role="director")]
            ),
            PolicyStage(position=2, requirements=[]),
            PolicyStage(
                position=1, requirements=[requirement_for("manager", "department_manager")]
            ),
        ],
    )
    route = rules.approval_route(policy, order_in_two_levels())
    assert [s.position for s in route] == [1, 3]
    assert route[0].requirements[0].assignee == Assignee(department_id=EAST)
    assert route[1].requirements[0].assignee == Assignee(role=Role.director)


def test_route_is_unroutable_when_nobody_above_the_owner_can_decide():
    with pytest.raises(UnroutableError, match="'sales_manager'"):
        rules.approval_route(
            rules.DEFAULT_APPROVAL_POLICY,
            order_in_two_levels(owner_id=DIRECTOR, chain=TWO_LEVELS[1:]),
        )


def test_route_without_a_department_manager_requirement_needs_no_manager():
    policy = ApprovalPolicy(
        version=1,
        stages=[
            PolicyStage(
                position=1, requirements=[requirement_for("finance", "role", role="finance")]
            )
        ],
    )
    [stage] = rules.approval_route(
        policy, order_in_two_levels(owner_id=DIRECTOR, chain=TWO_LEVELS[1:])
    )
    assert stage.requirements[0].assignee == Assignee(role=Role.finance)


def test_routed_assignee_reaches_the_manager_but_not_the_owner():
    [stage] = rules.approval_route(rules.DEFAULT_APPROVAL_POLICY, order_in_two_levels())
    assignee = stage.requirements[0].assignee
    manager = Actor(user_id=SALES_MANAGER, role=Role.sales_manager, managed_department_ids=[EAST])
    owner = Actor(user_id=SALES_REP, role=Role.sales)
    assert assignee.includes(manager)
    assert not assignee.includes(owner)


# --- nobody approves their own order --------------------------------------------------------


def test_a_reps_order_is_not_rerouted() -> None:
    [first] = rules.approval_route(STANDARD, order())[:1]
    assert first.requirements[0].assignee == Assignee(department_id=EAST)
    assert not first.requirements[0].rerouted


@pytest.mark.parametrize(
    ("owner_id", "chain", "department"),
    [
        (SALES_MANAGER, CHAIN, SALES),
        (DIRECTOR, CHAIN[1:], COMPANY),
        # the owner manages two levels: the order goes above both
        (
            SALES_MANAGER,
            [
                DepartmentLink(department_id=EAST, manager_id=SALES_MANAGER),
                DepartmentLink(department_id=SALES, manager_id=SALES_MANAGER),
                DepartmentLink(department_id=COMPANY, manager_id=CEO),
            ],
            COMPANY,
        ),
    ],
)
def test_a_managers_own_order_goes_to_the_manager_above(
    owner_id: int, chain: list[DepartmentLink], department: int
) -> None:
    facts = order(owner_id=owner_id, owner_role=Role.sales_manager, chain=chain)
    sales_manager = rules.approval_route(STANDARD, facts)[0].requirements[0]
    assert sales_manager.assignee == Assignee(department_id=department)
    assert not sales_manager.assignee.includes(owner_as_actor(facts))


def test_a_managers_own_order_is_marked_as_rerouted() -> None:
    facts = order(owner_id=SALES_MANAGER, owner_role=Role.sales_manager)
    sales_manager = rules.approval_route(STANDARD, facts)[0].requirements[0]
    assert sales_manager.assignee == Assignee(department_id=SALES)
    assert sales_manager.rerouted


def test_a_department_without_a_manager_passes_the_order_up_without_rerouting() -> None:
    chain = [DepartmentLink(department_id=EAST, manager_id=None), *CHAIN[1:]]
    sales_manager = rules.approval_route(STANDARD, order(chain=chain))[0].requirements[0]
    assert sales_manager.assignee == Assignee(department_id=SALES)
    assert not sales_manager.rerouted


@pytest.mark.parametrize(
    ("owner_id", "chain", "department"),
    [
        # a rep who also has the director's role: the director's requirement goes to their
        # department's manager
        (SALES_REP, CHAIN, EAST),
        # the director managing Sales: to the CEO
        (DIRECTOR, CHAIN[1:], COMPANY),
    ],
)
def test_a_directors_own_large_order_goes_to_the_directors_manager(
    owner_id: int, chain: list[DepartmentLink], department: int
) -> None:
    facts = order(owner_id=owner_id, owner_role=Role.director, chain=chain, total="800000.00")
    director = stage_two(facts)["director"]
    assert director.assignee == Assignee(department_id=department)
    assert director.rerouted
    assert director.reason == "order total >= 500,000"
    assert not director.assignee.includes(owner_as_actor(facts))


@pytest.mark.parametrize(
    ("owner_role", "figures", "code"),
    [
        (Role.finance, {"exposure": "100000.01"}, "finance"),
        (Role.warehouse, {"lines": [product_line(quantity="101")]}, "warehouse"),
    ],
)
def test_an_owner_with_the_deciding_role_has_the_requirement_go_to_their_manager(
    owner_role: Role, figures: dict[str, object], code: str
) -> None:
    facts = order(owner_role=owner_role, **figures)  # type: ignore[arg-type]
    requirement = stage_two(facts)[code]
    assert requirement.assignee == Assignee(department_id=EAST)
    assert requirement.rerouted


@pytest.mark.parametrize("owner_role", [Role.sales, Role.sales_manager, Role.finance, None])
def test_an_owner_without_the_directors_role_leaves_it_with_the_directors(
    owner_role: Role | None,
) -> None:
    director = stage_two(order(owner_role=owner_role, total="500000.00"))["director"]
    assert director.assignee == Assignee(role=Role.director)
    assert not director.rerouted


def test_a_requirement_naming_the_owner_goes_to_the_owners_manager() -> None:
    policy = policy_of(stage(1, needs("key_account", person(SALES_REP))))
    [only] = rules.approval_route(policy, order())
    assert only.requirements[0].assignee == Assignee(department_id=EAST)
    assert only.requirements[0].rerouted


def test_a_requirement_naming_someone_else_stays_with_them() -> None:
    policy = policy_of(stage(1, needs("key_account", person(OTHER_REP))))
    [only] = rules.approval_route(policy, order(active_deciders=[OTHER_REP]))
    assert only.requirements[0].assignee == Assignee(user_id=OTHER_REP)
    assert not only.requirements[0].rerouted


# --- unroutable -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner_id", "chain"),
    [
        (CEO, [DepartmentLink(department_id=COMPANY, manager_id=CEO)]),
        (DIRECTOR, [DepartmentLink(department_id=SALES, manager_id=DIRECTOR)]),
        (
            SALES_REP,
            [
                DepartmentLink(department_id=EAST, manager_id=None),
                DepartmentLink(department_id=COMPANY, manager_id=None),
            ],
        ),
        (
            SALES_MANAGER,
            [
                DepartmentLink(department_id=EAST, manager_id=SALES_MANAGER),
                DepartmentLink(department_id=COMPANY, manager_id=None),
            ],
        ),
        (SALES_REP, []),
    ],
    ids=["ceo", "top-director", "no-managers", "manager-under-empty-top", "no-chain"],
)
def test_an_order_with_no_manager_above_the_owner_is_unroutable(
    owner_id: int, chain: list[DepartmentLink]
) -> None:
    with pytest.raises(UnroutableError, match="No manager above the owner can decide "):
        rules.approval_route(STANDARD, order(owner_id=owner_id, chain=chain))


def test_an_unroutable_message_names_the_requirement_that_has_nobody() -> None:
    policy = policy_of(stage(1, needs("director", role(Role.director))))
    facts = order(
        owner_id=CEO,
        owner_role=Role.director,
        chain=[DepartmentLink(department_id=COMPANY, manager_id=CEO)],
    )
    with pytest.raises(UnroutableError, match="'director'"):
        rules.approval_route(policy, facts)


@pytest.mark.parametrize(
    ("figures", "staffed", "code"),
    [
        ({"total": "500000.00"}, [Role.finance, Role.warehouse], "director"),
        ({"exposure": "100000.01"}, [Role.director, Role.warehouse], "finance"),
        ({"lines": [product_line(quantity="101")]}, [Role.director], "warehouse"),
        ({"total": "500000.00"}, [], "director"),
    ],
)
def test_a_role_with_nobody_active_cannot_decide(
    figures: dict[str, object], staffed: list[Role], code: str
) -> None:
    facts = order(staffed_roles=staffed, **figures)  # type: ignore[arg-type]
    with pytest.raises(UnroutableError) as raised:
        rules.approval_route(STANDARD, facts)
    assert str(raised.value) == f"Nobody active has the role '{code}' to decide '{code}'."


def test_an_unstaffed_role_matters_only_when_its_requirement_applies() -> None:
    route = rules.approval_route(STANDARD, order(staffed_roles=[]))
    assert [s.position for s in route] == [1]


@pytest.mark.parametrize("staffed", [None, [Role.director], list(Role)])
def test_a_staffed_or_unknown_role_is_routed_to(staffed: list[Role] | None) -> None:
    facts = order(total="500000.00", staffed_roles=staffed)
    assert stage_two(facts)["director"].assignee == Assignee(role=Role.director)


@pytest.mark.parametrize("active", [[], [OTHER_REP], [CEO, DIRECTOR]])
def test_a_named_person_who_is_not_active_cannot_decide(active: list[int]) -> None:
    policy = policy_of(stage(1, needs("key_account", person(43))))
    with pytest.raises(UnroutableError) as raised:
        rules.approval_route(policy, order(active_deciders=active))
    message = str(raised.value)
    assert "'key_account'" in message
    assert "user 43" in message
    assert "not active" in message


@pytest.mark.parametrize("active", [None, [43], [1, 43, 99]])
def test_an_active_or_unknown_named_person_is_routed_to(active: list[int] | None) -> None:
    policy = policy_of(stage(1, needs("key_account", person(43))))
    assert requirements(order(active_deciders=active), policy) == {
        "key_account": Assignee(user_id=43)
    }


@pytest.mark.parametrize(
    ("decider", "message"),
    [
        (Decider(kind="role"), "The requirement 'odd' names no role."),
        (Decider(kind="user"), "The requirement 'odd' names no person."),
    ],
)
def test_a_decider_naming_nobody_is_unroutable(decider: Decider, message: str) -> None:
    with pytest.raises(UnroutableError) as raised:
        rules.resolve(decider, order(), "odd")
    assert str(raised.value) == message


def test_unroutable_is_a_value_error_for_callers_that_catch_those() -> None:
    assert issubclass(UnroutableError, ValueError)


# --- approver department --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("owner_id", "chain", "department"),
    [
        (SALES_REP, CHAIN, EAST),
        (SALES_MANAGER, CHAIN, SALES),
        (DIRECTOR, CHAIN[1:], COMPANY),
        (CEO, CHAIN[2:], None),
        (SALES_REP, [DepartmentLink(department_id=EAST, manager_id=None), *CHAIN[1:]], SALES),
        (SALES_REP, [], None),
    ],
)
def test_approver_department_is_the_nearest_one_whose_manager_is_not_the_owner(
    owner_id: int, chain: list[DepartmentLink], department: int | None
) -> None:
    assert rules.approver_department(chain, owner_id) == department


def test_a_sales_reps_order_is_approved_by_their_departments_manager():
    assert rules.approver_department(TWO_LEVELS, SALES_REP) == EAST


def test_a_managers_own_order_goes_up_the_tree():
    assert rules.approver_department(TWO_LEVELS, SALES_MANAGER) == SALES


def test_a_department_without_a_manager_is_skipped():
    chain = [DepartmentLink(department_id=EAST, manager_id=None), *TWO_LEVELS[1:]]
    assert rules.approver_department(chain, SALES_REP) == SALES


def test_nobody_approves_the_top_managers_own_order():
    # The director's own order belongs to the top department, which the director manages.
    assert rules.approver_department(TWO_LEVELS[1:], DIRECTOR) is None


def test_a_manager_of_every_department_up_the_tree_has_nobody_above():
    chain = [
        DepartmentLink(department_id=EAST, manager_id=DIRECTOR),
        DepartmentLink(department_id=SALES, manager_id=DIRECTOR),
    ]
    assert rules.approver_department(chain, DIRECTOR) is None


def test_an_empty_tree_has_no_approver():
    assert rules.approver_department([], SALES_REP) is None
    assert rules.approver_department([DepartmentLink(department_id=1, manager_id=None)], 4) is None


# --- who is told when an order is approved --------------------------------------------------


def test_the_standard_policy_tells_the_owners_department_manager() -> None:
    assert rules.notify_on_approval(STANDARD, order()) == [Assignee(department_id=EAST)]


def test_a_managers_own_approved_order_is_told_to_the_manager_above() -> None:
    facts = order(owner_id=SALES_MANAGER, owner_role=Role.sales_manager)
    assert rules.notify_on_approval(STANDARD, facts) == [Assignee(department_id=SALES)]


def test_nobody_to_tell_never_holds_an_approval_back() -> None:
    facts = order(owner_id=CEO, chain=[DepartmentLink(department_id=COMPANY, manager_id=CEO)])
    assert rules.notify_on_approval(STANDARD, facts) == []


def test_notify_skips_whoever_cannot_be_resolved() -> None:
    policy = policy_of(
        stage(1, needs("manager")),
        notify=[
            role(Role.finance),
            person(43),
            Decider(kind="role"),
            Decider(kind="user"),
            Decider(kind="department_manager"),
            role(Role.ops),
            person(OTHER_REP),
        ],
    )
    facts = order(staffed_roles=[Role.ops], active_deciders=[OTHER_REP])
    assert rules.notify_on_approval(policy, facts) == [
        Assignee(department_id=EAST),
        Assignee(role=Role.ops),
        Assignee(user_id=OTHER_REP),
    ]


def test_notify_tells_each_assignee_once_in_policy_order() -> None:
    policy = policy_of(
        stage(1, needs("manager")),
        notify=[
            role(Role.ops),
            person(OTHER_REP),
            role(Role.ops),
            Decider(kind="department_manager"),
            person(OTHER_REP),
            # the owner is told anyway; naming them reaches their manager, already told
            person(SALES_REP),
        ],
    )
    assert rules.notify_on_approval(policy, order()) == [
        Assignee(role=Role.ops),
        Assignee(user_id=OTHER_REP),
        Assignee(department_id=EAST),
    ]


def test_a_policy_telling_nobody_tells_nobody() -> None:
    assert rules.notify_on_approval(rules.DEFAULT_APPROVAL_POLICY, order()) == []


# --- what the approver sees -----------------------------------------------------------------


def test_decision_facts_show_the_figures_and_the_short_lines() -> None:
    facts = order(
        total="600000.00",
        discount="12.5",
        margin="14.00",
        exposure="120000.00",
        credit_limit="100000.00",
        lines=[
            product_line(3, "12", "5", line_id=1, code="PUMP-10"),
            product_line(4, "1", "9", line_id=2, code="VALVE-2"),
        ],
    )
    assert rules.decision_facts(facts) == DecisionFacts(
        total=D("600000.00"),
        max_discount_percent=D("12.5"),
        expected_margin=D("84000.0000"),
        expected_margin_percent=D("14.00"),
        exposure=D("120000.00"),
        credit_limit=D("100000.00"),
        short_lines=["PUMP-10: 12 ordered, 5 available"],
    )


def test_decision_facts_of_an_order_in_stock_list_no_short_lines() -> None:
    assert rules.decision_facts(order()).short_lines == []


def test_decision_facts_leave_figures_that_were_not_loaded_empty() -> None:
    shown = rules.decision_facts(order(margin=None, exposure=None, credit_limit=None))
    assert shown.expected_margin is None
    assert shown.expected_margin_percent is None
    assert shown.exposure is None
    assert shown.credit_limit is None


# --- working days ---------------------------------------------------------------------------

# 2026-11-23 is a Monday.
MON, TUE, WED, THU, FRI, SAT, SUN = (datetime(2026, 11, 23 + n, 14, 30) for n in range(7))
NEXT_MON, NEXT_TUE = datetime(2026, 11, 30, 14, 30), datetime(2026, 12, 1, 14, 30)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (MON, 1, TUE),
        (MON, 4, FRI),
        (MON, 5, NEXT_MON),
        (WED, 0, WED),
        (THU, 1, FRI),
        (THU, 2, NEXT_MON),
        (FRI, 1, NEXT_MON),
        (FRI, 2, NEXT_TUE),
        (FRI, 5, FRI + timedelta(days=7)),
        (MON, 10, MON + timedelta(days=14)),
        # from a weekend the count starts on Monday: Monday is the first whole working day
        (SAT, 0, NEXT_MON),
        (SAT, 1, NEXT_TUE),
        (SUN, 1, NEXT_TUE),
        (SUN, 5, NEXT_MON + timedelta(days=7)),
    ],
)
def test_working_days_skip_weekends(start: datetime, days: int, due: datetime) -> None:
    assert rules.add_working_days(start, days) == due


@pytest.mark.parametrize("tz", [UTC, timezone(timedelta(hours=8)), ZoneInfo("Asia/Shanghai"), None])
def test_working_days_keep_the_time_of_day_and_the_time_zone(tz: timezone | None) -> None:
    start = datetime(2026, 11, 27, 9, 15, 30, tzinfo=tz)  # a Friday
    due = rules.add_working_days(start, 1)
    assert due == datetime(2026, 11, 30, 9, 15, 30, tzinfo=tz)
    assert due.tzinfo is tz


def test_working_days_keep_the_wall_clock_time_across_a_daylight_saving_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 27, 9, 0, tzinfo=berlin)  # Friday; clocks go forward on Sunday
    due = rules.add_working_days(start, 1)
    assert (due.date().isoformat(), due.hour, due.minute) == ("2026-03-30", 9, 0)
    assert due.tzinfo is berlin


# --- policy checks --------------------------------------------------------------------------


def threshold(kind: ConditionKind, value: str | None) -> PolicyStage:
    condition = Condition(kind=kind, value=None if value is None else D(value))
    return stage(1, needs("director", role(Role.director), condition))


WHEN = "stages[0].requirements[0].when[0].value"


@pytest.mark.parametrize(
    ("policy", "field", "message"),
    [
        (policy_of(), "stages", "The policy needs at least one stage."),
        (
            policy_of(stage(1, needs("a")), stage(1, needs("b", role(Role.finance)))),
            "stages[1].position",
            "Stage order 1 is used twice.",
        ),
        (policy_of(stage(0, needs("a"))), "stages[0].position", "1 or more"),
        (policy_of(stage(-1, needs("a"))), "stages[0].position", "1 or more"),
        (policy_of(stage(1)), "stages[0].requirements", "at least one requirement"),
        (
            policy_of(threshold(ConditionKind.total_at_least, "-0.01")),
            WHEN,
            "A threshold cannot be negative.",
        ),
        (
            policy_of(threshold(ConditionKind.discount_at_least, "-1")),
            WHEN,
            "A threshold cannot be negative.",
        ),
        (
            policy_of(threshold(ConditionKind.margin_below, "-5")),
            WHEN,
            "A threshold cannot be negative.",
        ),
        (
            policy_of(threshold(ConditionKind.total_at_least, None)),
            WHEN,
            "This condition needs a number.",
        ),
        (
            policy_of(threshold(ConditionKind.discount_at_least, None)),
            WHEN,
            "This condition needs a number.",
        ),
        (
            policy_of(threshold(ConditionKind.margin_below, None)),
            WHEN,
            "This condition needs a number.",
        ),
        (
            policy_of(threshold(ConditionKind.discount_at_least, "100.01")),
            WHEN,
            "A percentage cannot be above 100.",
        ),
        (
            policy_of(threshold(ConditionKind.margin_below, "150")),
            WHEN,
            "A percentage cannot be above 100.",
        ),
        (
            policy_of(stage(1, needs("finance", Decider(kind="role")))),
            "stages[0].requirements[0].decider.role",
            "Name the role that decides.",
        ),
        (
            policy_of(stage(1, needs("ceo", Decider(kind="user")))),
            "stages[0].requirements[0].decider.user_id",
            "Name the person who decides.",
        ),
        (
            policy_of(stage(1, needs("a", sla_days=0))),
            "stages[0].requirements[0].sla_days",
            "The SLA must be at least 1 working day.",
        ),
        (
            policy_of(stage(1, needs("a", sla_days=-3))),
            "stages[0].requirements[0].sla_days",
            "The SLA must be at least 1 working day.",
        ),
        (
            policy_of(stage(1, needs("a"), needs("b", role(Role.ops)), needs("a", person(3)))),
            "stages[0].requirements[2].code",
            "'a' is in this stage twice.",
        ),
        (policy_of(stage(1, needs(""))), "stages[0].requirements[0].code", "needs a name"),
        (policy_of(stage(1, needs("  "))), "stages[0].requirements[0].code", "needs a name"),
        (
            policy_of(stage(1, needs("a")), notify=[Decider(kind="role")]),
            "notify[0].role",
            "Name the role to notify.",
        ),
        (
            policy_of(stage(1, needs("a")), notify=[role(Role.ops), Decider(kind="user")]),
            "notify[1].user_id",
            "Name the person to notify.",
        ),
    ],
    ids=[
        "no-stage",
        "duplicate-position",
        "position-zero",
        "position-negative",
        "stage-without-requirements",
        "negative-total",
        "negative-discount",
        "negative-margin",
        "total-without-number",
        "discount-without-number",
        "margin-without-number",
        "discount-over-100",
        "margin-over-100",
        "role-missing",
        "user-missing",
        "sla-zero",
        "sla-negative",
        "duplicate-code-in-stage",
        "empty-code",
        "blank-code",
        "notify-role-missing",
        "notify-user-missing",
    ],
)
def test_a_policy_problem_names_the_field_at_fault(
    policy: ApprovalPolicy, field: str, message: str
) -> None:
    problems = rules.policy_problems(policy)
    assert len(problems) == 1, problems
    [(got_field, got_message)] = problems
    assert got_field == field
    assert message in got_message


@pytest.mark.parametrize(
    "policy",
    [
        rules.standard_policy(2),
        rules.standard_policy(17),
        rules.DEFAULT_APPROVAL_POLICY,
        # a total threshold is money, not a percentage: above 100 is fine
        policy_of(threshold(ConditionKind.total_at_least, "1000000")),
        policy_of(threshold(ConditionKind.total_at_least, "0")),
        policy_of(threshold(ConditionKind.discount_at_least, "100")),
        policy_of(threshold(ConditionKind.margin_below, "0")),
        # conditions that are facts of the order need no number
        policy_of(
            stage(
                1,
                needs(
                    "checks",
                    role(Role.ops),
                    Condition(kind=ConditionKind.over_credit_limit),
                    Condition(kind=ConditionKind.over_stock),
                    Condition(kind=ConditionKind.export),
                ),
            )
        ),
        # one code in two stages is two separate requirements
        policy_of(stage(1, needs("a")), stage(2, needs("a", role(Role.finance)))),
        policy_of(stage(2, needs("a")), stage(1, needs("b", person(3)))),
    ],
    ids=[
        "standard-2",
        "standard-17",
        "default",
        "big-total",
        "zero-total",
        "hundred-percent",
        "zero-margin",
        "fact-conditions",
        "code-in-two-stages",
        "positions-out-of-order",
    ],
)
def test_a_sound_policy_has_no_problems(policy: ApprovalPolicy) -> None:
    assert rules.policy_problems(policy) == []


def test_every_problem_of_a_policy_is_reported_at_once() -> None:
    policy = policy_of(
        stage(1, needs("a", sla_days=0), needs("a", Decider(kind="role"))),
        stage(1),
        notify=[Decider(kind="user")],
    )
    assert [field for field, _ in rules.policy_problems(policy)] == [
        "stages[0].requirements[0].sla_days",
        "stages[0].requirements[1].code",
        "stages[0].requirements[1].decider.role",
        "stages[1].position",
        "stages[1].requirements",
        "notify[0].user_id",
    ]


@pytest.mark.parametrize("version", [1, 2, 5])
def test_the_standard_policy_carries_the_version_it_is_saved_as(version: int) -> None:
    policy = rules.standard_policy(version)
    assert policy.version == version
    assert [s.position for s in policy.stages] == [1, 2]
    assert [r.code for r in policy.stages[1].requirements] == ["director", "finance", "warehouse"]
    assert policy.notify == [Decider(kind="department_manager")]


# --- nobody approves a change they asked for ------------------------------------------------


def test_a_change_asked_by_the_owners_manager_goes_to_the_manager_above_them() -> None:
    [first] = rules.approval_route(STANDARD, order(), requester_id=SALES_MANAGER)[:1]
    assert first.requirements[0].assignee == Assignee(department_id=SALES)
    assert first.requirements[0].rerouted


def test_a_change_asked_by_a_manager_two_levels_up_stays_with_the_owners_manager() -> None:
    # the nearest manager who is neither the owner nor the requester, as for a cancellation
    [first] = rules.approval_route(STANDARD, order(), requester_id=DIRECTOR)[:1]
    assert first.requirements[0].assignee == Assignee(department_id=EAST)
    assert not first.requirements[0].rerouted


def test_a_change_asked_by_the_owner_routes_as_the_order_did() -> None:
    asked = rules.approval_route(STANDARD, order(), requester_id=SALES_REP)
    assert asked == rules.approval_route(STANDARD, order())
    assert not asked[0].requirements[0].rerouted


def test_a_change_asked_by_the_person_a_requirement_names_goes_to_a_manager_above_both() -> None:
    policy = policy_of(stage(1, needs("ceo", person(SALES_MANAGER))))
    [only] = rules.approval_route(policy, order(), requester_id=SALES_MANAGER)
    assert only.requirements[0].assignee == Assignee(department_id=SALES)
    assert only.requirements[0].rerouted


def test_a_managers_change_to_their_own_order_is_unroutable_when_nobody_is_above() -> None:
    # the top manager owns the order and asks: nobody else manages it
    facts = order_in_two_levels(owner_id=SALES_MANAGER)
    with pytest.raises(UnroutableError, match="'sales_manager'"):
        rules.approval_route(rules.DEFAULT_APPROVAL_POLICY, facts, requester_id=DIRECTOR)
    [stage_one] = rules.approval_route(
        rules.DEFAULT_APPROVAL_POLICY, order_in_two_levels(), requester_id=SALES_MANAGER
    )
    assert stage_one.requirements[0].assignee == Assignee(department_id=SALES)


def test_a_role_requirement_stays_with_the_role_whoever_asked() -> None:
    policy = policy_of(stage(1, needs("finance", role(Role.finance))))
    [only] = rules.approval_route(policy, order(), requester_id=SALES_MANAGER)
    assert only.requirements[0].assignee == Assignee(role=Role.finance)
