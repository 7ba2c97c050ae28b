"""The order itself: its facts, cost estimate, workflow input and result, and its steps."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from models.domain.approval import ApprovalPolicy, OpenRound, RouteStage
from models.domain.core import Actor, OpenTodo, Role, ShippingMode, Stage, StepResult


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


class RevisionOutcome(BaseModel):
    todo_key: str
    actor: Actor
    outcome: Literal["resubmit", "withdraw"]
    comment: str = ""


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


# Activity inputs: what a workflow step hands its activity.


class StartCosting(BaseModel):
    order_number: str
    workflow_id: str
    submitted_by: int
    todo_key: str


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
