"""An order's approval rounds and what decides an approval, as the API returns them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from web.schemas.core import Model, UserRef


class ApprovalStepOut(Model):
    """One requirement of a stage: why it applies, who decides it, and how it stands."""

    stage: int
    requirement: str = Field(validation_alias="code")
    todo_id: int | None = None
    reason: str = ""
    assignee: str = Field(validation_alias="assignee_label")
    decision: str | None
    decided_by: UserRef | None
    decided_at: datetime | None
    comment: str | None
    # Set while it waits: undecided in a running round (a rejected round's others never are).
    pending_since: datetime | None
    due_at: datetime | None = None
    overdue: bool = False
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    escalated_to: str | None = None


class ApprovalStageOut(Model):
    stage: int
    steps: list[ApprovalStepOut]


class ApprovalRoundOut(Model):
    round: int = Field(validation_alias="number")
    status: str
    policy_version: int
    started_at: datetime
    ended_at: datetime | None
    stages: list[ApprovalStageOut]
    steps: list[ApprovalStepOut]  # the same steps, flat (older clients read this)


class DecisionFactsOut(Model):
    """What decides an approval. The margin is a cost figure: left out for roles that may not
    see costs."""

    total: Decimal
    max_discount_percent: Decimal
    expected_margin: Decimal | None = None
    expected_margin_percent: Decimal | None = None
    exposure: Decimal | None = None
    credit_limit: Decimal | None = None
    over_credit_limit: bool = False
    short_lines: list[str] = Field(default_factory=list)


# Omitted from an approval's facts for roles that may not see costs.
FACTS_COST_FIELDS = {"expected_margin", "expected_margin_percent"}
