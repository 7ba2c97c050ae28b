"""Shared by every area: refusals, roles, stages, actors, to-dos and what a step reports."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Literal, Self

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
    approve_cancellation = "approve_cancellation"
    confirm_refund = "confirm_refund"
    issue_credit_note = "issue_credit_note"
    approve_change = "approve_change"
    replan_shipment = "replan_shipment"
    approve_return = "approve_return"
    receive_return = "receive_return"


# The kinds an approval round opens: an order's approval, a change request's or a return's.
# All are decided in the inbox or from an e-mail's decision link by ApprovalWorkflow.decide.
APPROVAL_KINDS = frozenset({TodoKind.approve, TodoKind.approve_change, TodoKind.approve_return})
# The rounds that decide something beside the order (a change, a return): a rejection ends
# that request, not the order's approval, and the order's stage stays as it is.
SIDE_ROUND_KINDS = frozenset({TodoKind.approve_change, TodoKind.approve_return})


class FieldChange(BaseModel):
    """One line of a revision's diff: what changed, from what, to what (as text)."""

    field: str
    before: str
    after: str


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


# Refusals of a to-do completion that the web layer and the workflows' validators both give.
TODO_NOT_OPEN = "This to-do is no longer open."
TODO_NOT_YOURS = "This to-do is not assigned to you."
OWN_ORDER = "Nobody approves their own order."


class RejectionSaysWhy(BaseModel):
    """A decision on a to-do that may be a rejection, which says why; only a rejection's
    comment is kept (`reason`)."""

    todo_key: str
    actor: Actor
    outcome: str
    comment: str = ""

    def rejection_refusal(self, reason_missing: str) -> Refusal | None:
        if self.outcome == "reject" and not self.comment.strip():
            return Refusal(reason_missing)
        return None

    @property
    def reason(self) -> str:
        """The comment a step records: a rejection's reason, nothing for any other outcome."""
        return self.comment.strip() if self.outcome == "reject" else ""


class Decision(RejectionSaysWhy):
    """A person approves or rejects what a to-do puts before them (an order's approval, a
    batch of actual costs, a cost variance); a rejection says why, in the words of
    `reason_missing`, the refusal its to-do kind gives."""

    outcome: Literal["approve", "reject"]

    def refusal(self, *, reason_missing: str) -> Refusal | None:
        return self.rejection_refusal(reason_missing)


class TodoDone(BaseModel):
    """What an update returns: the to-do it closed and the stage the order is in now."""

    todo_key: str
    stage: Stage


class StepResult(BaseModel):
    """What a step's activity reports: the to-dos it opened and the mails it queued."""

    opened: list[OpenTodo] = Field(default_factory=list)
    mail_ids: list[int] = Field(default_factory=list)
    stage: Stage | None = None


class RefusableStepResult(StepResult):
    """A step's report that may be a problem instead (refused, nothing written): its message,
    and its template and values, so the web can say it in the person's language."""

    problem: str | None = None
    problem_template: str = ""
    problem_params: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def refusing(cls, refusal: Refusal) -> Self:
        return cls(
            problem=str(refusal),
            problem_template=refusal.template,
            problem_params={k: str(v) for k, v in refusal.params.items()},
        )

    def refusal(self) -> Refusal | None:
        if self.problem is None:
            return None
        return Refusal(self.problem_template or self.problem, **self.problem_params)


class SendMail(BaseModel):
    mail_ids: list[int]
