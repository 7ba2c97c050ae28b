"""Domain types shared by the web layer, activities and workflows: pydantic only, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class Refusal(ValueError):
    """Something refused, for a person to read: an English message template with %(name)s
    fields, so the page can translate the template and then fill in the values."""

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template % params)
        self.template = template
        self.params = params

    def translated(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.template) % self.params


class Role(StrEnum):
    sales = "sales"
    sales_manager = "sales_manager"
    director = "director"
    pricing = "pricing"
    ops = "ops"
    ops_manager = "ops_manager"
    warehouse = "warehouse"
    service = "service"
    finance = "finance"
    follower = "follower"
    admin = "admin"


# Who sees cost, margin and variance figures (a field-level permission).
COST_VIEWERS = frozenset(
    {Role.pricing, Role.ops, Role.ops_manager, Role.finance, Role.director, Role.sales_manager}
)
# Who may enter orders.
ORDER_ENTRY_ROLES = frozenset({Role.sales, Role.sales_manager, Role.follower})


class Stage(StrEnum):
    draft = "draft"
    costing = "costing"
    approval = "approval"
    revising = "revising"
    confirmed = "confirmed"
    fulfilment = "fulfilment"
    acceptance = "acceptance"
    collection = "collection"
    cost_review = "cost_review"
    closed = "closed"
    cancelled = "cancelled"


class ShippingMode(StrEnum):
    domestic = "domestic"
    export = "export"


class PaymentTrigger(StrEnum):
    confirmation = "confirmation"
    dispatch = "dispatch"
    acceptance = "acceptance"
    fixed_date = "fixed_date"


class TodoKind(StrEnum):
    estimate_cost = "estimate_cost"
    approve = "approve"
    revise = "revise"
    plan_shipment = "plan_shipment"
    confirm_dispatch = "confirm_dispatch"
    confirm_milestone = "confirm_milestone"
    confirm_arrival = "confirm_arrival"
    confirm_acceptance = "confirm_acceptance"
    handle_exception = "handle_exception"
    confirm_payment = "confirm_payment"
    collect = "collect"
    issue_invoice = "issue_invoice"
    record_actual_costs = "record_actual_costs"
    approve_actual_costs = "approve_actual_costs"
    review_variance = "review_variance"
    approve_variance = "approve_variance"


class MilestoneCode(StrEnum):
    picking = "picking"
    dispatch = "dispatch"
    port_departure = "port_departure"
    customs_declaration = "customs_declaration"
    commodity_inspection = "commodity_inspection"
    arrival = "arrival"


class ExceptionKind(StrEnum):
    damaged = "damaged"
    missing_parts = "missing_parts"
    replacement = "replacement"
    reshipment = "reshipment"
    defect = "defect"  # found by service at installation and acceptance, not raised by hand


# What people raise after dispatch (a defect comes from the acceptance to-do).
RAISABLE_EXCEPTIONS = (
    ExceptionKind.damaged,
    ExceptionKind.missing_parts,
    ExceptionKind.replacement,
    ExceptionKind.reshipment,
)


class TodoStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class Actor(BaseModel):
    """The person acting, as the web layer vouches for them after checking role and scope."""

    user_id: int
    role: Role
    managed_department_ids: list[int] = Field(default_factory=list)


class Assignee(BaseModel):
    """One way a to-do reaches people: a named person, everyone in a role, or a department's
    manager. A to-do has one or more; every person they name sees it."""

    user_id: int | None = None
    role: Role | None = None
    department_id: int | None = None

    def includes(self, actor: Actor) -> bool:
        return (
            (self.user_id is not None and self.user_id == actor.user_id)
            or (self.role is not None and self.role == actor.role)
            or (
                self.department_id is not None
                and self.department_id in actor.managed_department_ids
            )
        )


class OpenTodo(BaseModel):
    """A to-do as its workflow remembers it, to validate who may complete it."""

    key: str
    kind: TodoKind
    assignees: list[Assignee]


class LineFacts(BaseModel):
    line_id: int
    product_id: int
    quantity: Decimal
    amount: Decimal
    standard_cost: Decimal
    unit_cost: Decimal | None = None
    product_code: str = ""
    # The product's stock on hand less what is reserved, when the step loaded it.
    available: Decimal | None = None


class DepartmentLink(BaseModel):
    """A department on the way from the owner's department up to the root, and its manager."""

    department_id: int
    manager_id: int | None


class OrderFacts(BaseModel):
    """What the order workflow needs to know of its order, loaded by an activity."""

    order_id: int
    number: str
    owner_id: int
    department_id: int
    customer_id: int
    total: Decimal
    max_discount_percent: Decimal
    shipping_mode: ShippingMode
    lines: list[LineFacts]
    department_chain: list[DepartmentLink]
    # What approval routing weighs besides the order itself; None where an older step did not
    # load it (such a condition then does not apply).
    owner_role: Role | None = None
    expected_margin: Decimal | None = None
    expected_margin_percent: Decimal | None = None
    credit_limit: Decimal | None = None
    exposure: Decimal | None = None
    # Roles with at least one active person, and the active people among the policy's named
    # deciders; None when not loaded (then everyone is assumed to be there).
    staffed_roles: list[Role] | None = None
    active_deciders: list[int] | None = None
    # What fulfilment needs: installation (then service confirms acceptance) and whether
    # dispatch waits for the deposit (policy, when installments fall due on confirmation).
    needs_installation: bool = False
    hold_for_deposit: bool = False


class LineCost(BaseModel):
    line_id: int
    unit_cost: Decimal = Field(ge=0)


class CostEstimate(BaseModel):
    lines: list[LineCost]
    freight: Decimal = Field(default=Decimal("0"), ge=0)
    installation: Decimal = Field(default=Decimal("0"), ge=0)
    other: Decimal = Field(default=Decimal("0"), ge=0)


class OrderWorkflowInput(BaseModel):
    order_number: str
    submitted_by: int


class OrderResult(BaseModel):
    order_number: str
    stage: Stage


class EstimateCompletion(BaseModel):
    todo_key: str
    actor: Actor
    estimate: CostEstimate


class Decision(BaseModel):
    todo_key: str
    actor: Actor
    outcome: Literal["approve", "reject"]
    comment: str = ""


class RevisionOutcome(BaseModel):
    todo_key: str
    actor: Actor
    outcome: Literal["resubmit", "withdraw"]
    comment: str = ""


class TodoDone(BaseModel):
    """What an update returns: the to-do it closed and the stage the order is in now."""

    todo_key: str
    stage: Stage


class Decider(BaseModel):
    """Who decides a requirement of the approval policy: the owner's department manager,
    everyone with a role, or a named person."""

    kind: Literal["department_manager", "role", "user"]
    role: Role | None = None
    user_id: int | None = None


class ConditionKind(StrEnum):
    total_at_least = "total_at_least"
    discount_at_least = "discount_at_least"
    margin_below = "margin_below"
    over_credit_limit = "over_credit_limit"
    over_stock = "over_stock"
    export = "export"


# The conditions that compare with a figure (the others are facts of the order).
THRESHOLD_CONDITIONS = frozenset(
    {ConditionKind.total_at_least, ConditionKind.discount_at_least, ConditionKind.margin_below}
)


class Condition(BaseModel):
    """When a requirement applies: order total >= value, any discount >= value %, expected
    margin < value %, the customer's exposure over its credit limit, a line above available
    stock, or export shipping."""

    kind: ConditionKind
    value: Decimal | None = None


class PolicyRequirement(BaseModel):
    code: str
    decider: Decider
    # The requirement applies when any condition holds; with none it always applies.
    when: list[Condition] = Field(default_factory=list)
    sla_days: int = 1  # working days until the reminder; escalation at twice this


class PolicyStage(BaseModel):
    position: int
    requirements: list[PolicyRequirement]


class ApprovalPolicy(BaseModel):
    version: int
    stages: list[PolicyStage]
    # Told when an order passes its last stage, besides its owner.
    notify: list[Decider] = Field(default_factory=list)


class RouteRequirement(BaseModel):
    """A requirement of one stage of one round, with the assignee it resolved to."""

    code: str
    assignee: Assignee
    sla_days: int = 1
    reason: str = ""  # why it applies, in words ("order total >= 500,000.00")
    rerouted: bool = False  # it would have landed on the owner and went to their manager


class RouteStage(BaseModel):
    position: int
    requirements: list[RouteRequirement]


class DecisionFacts(BaseModel):
    """What decides an approval, shown beside the approve to-do in the inbox."""

    total: Decimal
    max_discount_percent: Decimal
    expected_margin: Decimal | None = None
    expected_margin_percent: Decimal | None = None
    exposure: Decimal | None = None
    credit_limit: Decimal | None = None
    short_lines: list[str] = Field(default_factory=list)  # "PUMP-10: 12 ordered, 5 available"


class ApprovalRoundInput(BaseModel):
    order_id: int
    order_number: str
    owner_id: int
    round_number: int
    policy_version: int
    stages: list[RouteStage]
    facts: DecisionFacts | None = None
    # The first stage's to-dos, when the step that started the round opened them.
    first_stage_opened: list[OpenTodo] | None = None
    # How the last approval confirms the order, in the same step; None: the order does it.
    confirm: ConfirmOrder | None = None


class ApprovalOutcome(BaseModel):
    approved: bool
    revise_todo: OpenTodo | None = None
    confirmed: bool = False  # the last approval's step confirmed the order too


class RouteAgain(BaseModel):
    """Admin asks an order that could not be routed to try again (after fixing the policy,
    a department's manager or a user)."""

    actor: Actor


class StepResult(BaseModel):
    """What a step's activity reports: the to-dos it opened and the mails it queued."""

    opened: list[OpenTodo] = Field(default_factory=list)
    mail_ids: list[int] = Field(default_factory=list)
    stage: Stage | None = None


class CostingStarted(StepResult):
    facts: OrderFacts
    policy: ApprovalPolicy
    round_number: int


class Resubmitted(StepResult):
    facts: OrderFacts
    needs_estimate: bool
    round_number: int
    policy: ApprovalPolicy | None = None


class RoundFacts(StepResult):
    """What the next approval round is routed on: the order's facts, loaded fresh, and the
    approval policy in force. Empty from steps recorded before routing used them. A step that
    also routed the round returns the route and the first stage's to-dos, or why no one can
    decide it."""

    facts: OrderFacts | None = None
    policy: ApprovalPolicy | None = None
    route: list[RouteStage] | None = None
    round_opened: list[OpenTodo] = Field(default_factory=list)
    unroutable: str | None = None


class Escalated(StepResult):
    """The assignees an escalation added, per to-do key."""

    added: dict[str, list[Assignee]] = Field(default_factory=dict)


class PaymentPlanItem(BaseModel):
    percent: Decimal = Field(gt=0, le=100, max_digits=7, decimal_places=3)
    trigger: PaymentTrigger
    offset_days: int = Field(default=0, ge=0, le=3650)
    fixed_date: date | None = None


class NamedPlan(BaseModel):
    """A payment plan the policy offers by name ("30/60/10")."""

    name: str = Field(min_length=1, max_length=40)
    items: list[PaymentPlanItem]


class CollectionPolicy(BaseModel):
    """How money is collected: when the owner is reminded before a due date, when an overdue
    installment is escalated, the plans sales may pick by name, and whether dispatch waits for
    the deposit (the installments due on confirmation)."""

    version: int = 1
    reminder_days_before: int = Field(default=3, ge=0, le=60)
    manager_after_days: int = Field(default=15, ge=1, le=365)
    director_after_days: int = Field(default=30, ge=1, le=730)
    hold_dispatch_for_deposit: bool = False
    plans: list[NamedPlan] = Field(default_factory=list)


class InstallmentState(BaseModel):
    """An installment as the collection workflow keeps it."""

    position: int
    trigger: PaymentTrigger
    offset_days: int = 0
    amount: Decimal
    paid: Decimal = Decimal("0")
    due_date: date | None = None
    reminded_for: date | None = None  # the due date the owner was reminded of
    overdue_for: date | None = None  # the due date it went overdue on
    alerted: list[str] = Field(default_factory=list)  # "manager", "director" (for overdue_for)

    @property
    def open(self) -> Decimal:
        return self.amount - self.paid


class PendingPayment(BaseModel):
    """A registered payment finance has not decided yet."""

    number: int
    amount: Decimal
    todo_key: str
    reference: str = ""  # casefolded; free again if finance reject the payment


class CollectionInput(BaseModel):
    order_id: int
    order_number: str
    owner_id: int
    total: Decimal
    hold_for_deposit: bool = False
    # Carried over continue-as-new (empty on the first run: the first step loads them).
    started: bool = False
    installments: list[InstallmentState] = Field(default_factory=list)
    pending: list[PendingPayment] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)  # of payments not rejected
    payments: int = 0  # registered so far (numbers them)
    policy: CollectionPolicy | None = None
    open_todos: list[OpenTodo] = Field(default_factory=list)
    events: dict[PaymentTrigger, date] = Field(default_factory=dict)
    deposit_told: bool = False
    # Tests force continue-as-new with a small history; None: when Temporal suggests it.
    history_limit: int | None = None


class CollectionResult(BaseModel):
    paid_on: date


class TriggerEvent(BaseModel):
    """Something an installment's due date hangs on happened (the order workflow says so)."""

    trigger: PaymentTrigger
    on: date


class PaymentRegistration(BaseModel):
    actor: Actor
    amount: Decimal = Field(max_digits=16, decimal_places=2)
    received_on: date
    method: str = Field(max_length=30)
    reference: str = Field(max_length=100)


class PaymentDecision(BaseModel):
    actor: Actor
    todo_key: str
    outcome: Literal["confirm", "reject"]
    comment: str = ""


class Allocation(BaseModel):
    position: int  # the installment's
    amount: Decimal


class CollectionStep(BaseModel):
    """One step of collection: what the activity records, keyed for idempotency."""

    order_id: int
    workflow_id: str
    step_key: str
    actor_id: int | None = None
    todo_key: str | None = None
    payment_number: int = 0
    amount: Decimal = Decimal("0")
    received_on: date | None = None
    method: str = ""
    reference: str = ""
    comment: str = ""
    allocations: list[Allocation] = Field(default_factory=list)
    installments: list[InstallmentState] = Field(default_factory=list)  # the ones it is about
    level: str = ""  # an escalation's: manager, director
    overdue: bool = False  # the order is overdue after this step
    status: str = ""  # the order's collection status after this step
    # The first confirmed payment asks ops to record the order's actual costs: the to-do is
    # the order workflow's.
    costs_todo_key: str | None = None
    order_workflow_id: str | None = None


class CollectionStepResult(StepResult):
    installments: list[InstallmentState] = Field(default_factory=list)
    policy: CollectionPolicy | None = None


class CollectionStatus(BaseModel):
    """What the order workflow shows in its search attributes, and the record_actual_costs
    to-do the first confirmed payment opened (the order completes it)."""

    outstanding: Decimal
    overdue: bool
    costs_todo: OpenTodo | None = None


class InvoiceRequest(BaseModel):
    actor: Actor
    amount: Decimal = Field(max_digits=16, decimal_places=2)
    title: str = Field(max_length=200)
    tax_number: str = Field(max_length=50)
    address: str = Field(max_length=500)


class InvoiceDecision(BaseModel):
    actor: Actor
    todo_key: str
    outcome: Literal["issued", "reject"]
    invoice_number: str = Field(default="", max_length=50)
    comment: str = ""


class InvoiceStep(BaseModel):
    order_id: int
    workflow_id: str
    step_key: str
    actor_id: int
    request_number: int = 0
    todo_key: str | None = None
    amount: Decimal = Decimal("0")
    title: str = ""
    tax_number: str = ""
    address: str = ""
    outcome: str = ""
    invoice_number: str = ""
    comment: str = ""


class InvoiceStepResult(StepResult):
    problem: str | None = None  # refused, nothing changed (a duplicate invoice number)


# Activity inputs: what a workflow step hands its activity.


class StartCosting(BaseModel):
    order_number: str
    workflow_id: str
    submitted_by: int
    todo_key: str


class OpenRound(BaseModel):
    """Route approval round N and open its first stage in the same step."""

    round_number: int
    workflow_id: str  # the round's child workflow
    order_workflow_id: str
    unroutable_key: str


class RecordEstimate(BaseModel):
    order_id: int
    todo_key: str
    actor_id: int
    estimate: CostEstimate
    expected_cost: Decimal
    expected_margin: Decimal
    open_round: OpenRound | None = None


class Resubmit(BaseModel):
    order_id: int
    workflow_id: str
    todo_key: str
    actor_id: int
    estimate_todo_key: str


class Withdraw(BaseModel):
    order_id: int
    todo_key: str
    actor_id: int
    comment: str = ""


class ConfirmOrder(BaseModel):
    order_id: int
    step_key: str
    notify: list[Assignee] = Field(default_factory=list)  # besides the owner


class RecordUnroutable(BaseModel):
    order_id: int
    step_key: str
    reason: str


class PrepareRerouting(BaseModel):
    order_id: int
    step_key: str
    actor_id: int


class TodoReminder(BaseModel):
    """Remind (or, escalating, widen) the approve to-dos past their SLA."""

    order_id: int
    todo_keys: list[str]
    owner_id: int
    sla_days: dict[str, int] = Field(default_factory=dict)


class OpenStage(BaseModel):
    order_id: int
    workflow_id: str
    order_workflow_id: str
    round_number: int
    policy_version: int
    stage: RouteStage
    facts: DecisionFacts | None = None


class RecordDecision(BaseModel):
    order_id: int
    round_number: int
    todo_key: str
    actor_id: int
    outcome: Literal["approve", "reject"]
    comment: str = ""
    round_approved: bool
    revise_todo_key: str
    order_workflow_id: str
    open_next: OpenStage | None = None  # the stage passed: open the next in the same step
    confirm: ConfirmOrder | None = None  # the round passed: confirm the order in the same step


class SendMail(BaseModel):
    mail_ids: list[int]


# -- fulfilment and acceptance -------------------------------------------------------------------

# The milestones of each shipping mode, in the order they happen.
MILESTONES: dict[ShippingMode, tuple[MilestoneCode, ...]] = {
    ShippingMode.domestic: (MilestoneCode.picking, MilestoneCode.dispatch, MilestoneCode.arrival),
    ShippingMode.export: (
        MilestoneCode.picking,
        MilestoneCode.dispatch,
        MilestoneCode.port_departure,
        MilestoneCode.customs_declaration,
        MilestoneCode.commodity_inspection,
        MilestoneCode.arrival,
    ),
}


class PlannedMilestone(BaseModel):
    code: MilestoneCode
    planned_date: date


class MilestoneState(BaseModel):
    """A milestone as the shipment workflow keeps it: planned, done, or late."""

    code: MilestoneCode
    planned_date: date
    actual_date: date | None = None
    late: bool = False


class ShipmentInput(BaseModel):
    order_id: int
    order_number: str
    owner_id: int
    shipping_mode: ShippingMode
    needs_installation: bool
    hold_for_deposit: bool = False
    # The time of day (UTC) by which a milestone must be done on its planned date; None: by
    # the end of that day.
    due_time: time | None = None


class ShipmentResult(BaseModel):
    accepted_on: date | None = None


class PlanShipment(BaseModel):
    todo_key: str
    actor: Actor
    milestones: list[PlannedMilestone]


class DispatchConfirmation(BaseModel):
    todo_key: str
    actor: Actor
    carrier: str
    tracking_number: str


class MilestoneConfirmation(BaseModel):
    actor: Actor
    code: MilestoneCode
    actual_date: date
    todo_key: str | None = None  # the late milestone's to-do, when it is completed that way


class MilestoneReplan(BaseModel):
    actor: Actor
    code: MilestoneCode
    planned_date: date
    reason: str


class ArrivalConfirmation(BaseModel):
    """Ops confirm arrival (their to-do), or the customer's contact through the dispatch mail."""

    actual_date: date
    actor: Actor | None = None
    contact_id: int | None = None
    todo_key: str | None = None


class AcceptanceOutcome(BaseModel):
    todo_key: str
    actor: Actor
    outcome: Literal["accepted", "defect"]
    accepted_on: date | None = None
    signed_by: str = ""
    comment: str = ""


class ExceptionReport(BaseModel):
    actor: Actor
    kind: ExceptionKind
    description: str


class ExceptionResolution(BaseModel):
    todo_key: str
    actor: Actor
    resolution: str
    reship: bool = False


class HoldRelease(BaseModel):
    actor: Actor
    reason: str


# Activity inputs of the shipment's steps.


class ShipmentStep(BaseModel):
    """One step of the shipment: what the activity records, keyed for idempotency."""

    order_id: int
    workflow_id: str
    step_key: str
    actor_id: int | None = None
    contact_id: int | None = None
    todo_key: str | None = None  # the to-do the step closes
    milestones: list[MilestoneState] = Field(default_factory=list)
    carrier: str = ""
    tracking_number: str = ""
    dispatch_round: int = 0
    code: MilestoneCode | None = None
    actual_date: date | None = None
    planned_date: date | None = None
    reason: str = ""
    outcome: str = ""
    signed_by: str = ""
    exception_kind: ExceptionKind | None = None
    number: int = 0  # the exception's number within the order
    reship: bool = False
    # What the step opens next (keys; the activity opens them in the same transaction).
    open_plan: bool = False
    open_dispatch: bool = False
    open_arrival: bool = False
    open_acceptance: bool = False
    open_exception: bool = False
    held: bool = False


class ShipmentStepResult(StepResult):
    delayed: bool | None = None
    exception_number: int | None = None
    problem: str | None = None  # the step was refused and changed nothing (e.g. stock short)


# Actual costs, the expected-vs-actual comparison and closing.


class CostCategory(StrEnum):
    goods = "goods"
    freight = "freight"
    installation = "installation"
    customs = "customs"
    other = "other"


class CostItem(BaseModel):
    """One actual cost: what it was for, how much, and the supplier payment that ties it to
    the order."""

    category: CostCategory
    amount: Decimal = Field(max_digits=16, decimal_places=2)
    supplier_payment_reference: str = Field(max_length=100)


class CostRecording(BaseModel):
    """Ops record a batch of actual costs (finance approve it); `final` says no more follow."""

    actor: Actor
    todo_key: str
    items: list[CostItem] = Field(default_factory=list)
    final: bool = False


class CostsDecision(BaseModel):
    actor: Actor
    todo_key: str
    outcome: Literal["approve", "reject"]
    comment: str = ""


class VarianceReview(BaseModel):
    actor: Actor
    todo_key: str
    explanation: str = ""


class VarianceDecision(BaseModel):
    actor: Actor
    todo_key: str
    outcome: Literal["approve", "reject"]
    comment: str = ""


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
