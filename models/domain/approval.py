"""Approval: the policy, routes and rounds, decisions, and the steps that record them."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from models.domain.core import Actor, Assignee, FieldChange, OpenTodo, Role, StepResult, TodoKind

# An approver's rejection without a comment.
REJECTED_WITHOUT_REASON = "A rejection needs a comment saying why."


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
    # A confirmed order's cancellation is approved by the owner's department manager and, for
    # an order whose total is above this amount, then by the director (None: never).
    cancellation_director_above: Decimal | None = None
    # A return is approved by the owner's department manager and, when the value of the goods
    # asked back is above this amount, then by the director (None: never).
    return_director_above: Decimal | None = None


class RouteRequirement(BaseModel):
    """A requirement of one stage of one round, with the assignee it resolved to."""

    code: str
    assignee: Assignee
    sla_days: int = 1
    reason: str = ""  # why it applies, in words ("order total >= 500,000.00")
    rerouted: bool = False  # it would have landed on the owner and went to their manager
    # More people who see the to-do besides the assignee (a return's director step routed
    # around a director who asked: the other directors by name).
    also: list[Assignee] = Field(default_factory=list)


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
    # A change request's round: what the change would make of the order (field, before, after).
    changes: list[FieldChange] = Field(default_factory=list)


# Defined before the round input that carries it: the workflow sandbox cannot complete a
# model whose field types come later.
class ConfirmOrder(BaseModel):
    order_id: int
    step_key: str
    notify: list[Assignee] = Field(default_factory=list)  # besides the owner


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
    # What the round decides: the order (approve) or a change request (approve_change, whose
    # rejection ends the request, not the order's approval). Its requester may not approve it.
    todo_kind: TodoKind = TodoKind.approve
    requester_id: int | None = None
    # A change request's round: the number it is listed under among the order's rounds, given
    # by the order's workflow so the order's own rounds never take it (None: the next free).
    listed_as: int | None = None


class ApprovalOutcome(BaseModel):
    approved: bool
    revise_todo: OpenTodo | None = None
    confirmed: bool = False  # the last approval's step confirmed the order too
    withdrawn: bool = False  # the order is being cancelled: the round ended undecided
    # A change request's round: who rejected it and why; who approved it (told what changed).
    rejected_by: int | None = None
    comment: str = ""
    approver_ids: list[int] = Field(default_factory=list)


class RouteAgain(BaseModel):
    """Admin asks an order that could not be routed to try again (after fixing the policy,
    a department's manager or a user)."""

    actor: Actor


class Escalated(StepResult):
    """The assignees an escalation added, per to-do key."""

    added: dict[str, list[Assignee]] = Field(default_factory=dict)


# Activity inputs of the approval's steps.


class OpenRound(BaseModel):
    """Route approval round N and open its first stage in the same step."""

    round_number: int
    workflow_id: str  # the round's child workflow
    order_workflow_id: str
    unroutable_key: str


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
    todo_kind: TodoKind = TodoKind.approve
    requested_by_id: int | None = None  # who asked (a change request's requester); else owner
    listed_as: int | None = None  # a change request's round: its number among the order's


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
