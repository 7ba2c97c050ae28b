"""What an approval round records: a stage opened, the order confirmed or unroutable."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activities.steps import StepRecorder
from models.domain import (
    SIDE_ROUND_KINDS,
    Assignee,
    ConfirmOrder,
    OpenRound,
    OpenStage,
    Role,
    RoundFacts,
    RouteRequirement,
    Stage,
)
from models.tables import ApprovalRound, ApprovalStep, Department, Order, Todo, User
from workflows import rules


async def open_approval_stage(rec: StepRecorder, order: Order, step: OpenStage) -> None:
    """Every requirement of the stage gets its approve to-do at once (idempotent by key)."""
    session = rec.session
    if step.todo_kind in SIDE_ROUND_KINDS:  # a change's or a return's round
        approval_round = await change_round(rec, order, step)
    else:
        approval_round = await order_round(rec, order, step)
    facts = step.facts.model_dump(mode="json") if step.facts else None
    for requirement in step.stage.requirements:
        key = rules.approval_todo_key(step.workflow_id, step.stage.position, requirement.code)
        todo = await rec.open_todo(
            key=key,
            order=order,
            workflow_id=step.workflow_id,
            kind=step.todo_kind,
            assignees=[requirement.assignee, *requirement.also],
            due_in=rules.add_working_days(rec.now, requirement.sla_days) - rec.now,
            requested_by_id=step.requested_by_id or order.owner_id,
            facts=facts,
        )
        known = await session.scalar(select(ApprovalStep.id).where(ApprovalStep.todo_id == todo.id))
        if known is None:
            session.add(
                ApprovalStep(
                    round_id=approval_round.id,
                    stage=step.stage.position,
                    code=requirement.code,
                    todo_id=todo.id,
                    assignee_label=await assignee_label(session, requirement.assignee),
                    opened_at=rec.now,
                    reason=reason_of(requirement)[:300],
                )
            )
        await rec.add_event(
            key=f"{key}/opened",
            order=order,
            kind="approval_requested",
            actor_id=None,
            round=step.round_number,
            stage=step.stage.position,
            requirement=requirement.code,
            reason=reason_of(requirement) or None,
        )


async def order_round(rec: StepRecorder, order: Order, step: OpenStage) -> ApprovalRound:
    """The order's approval round by its number (started by its first stage); the order is in
    approval, and on nobody's unroutable list."""
    session = rec.session
    approval_round = await session.scalar(
        select(ApprovalRound).where(
            ApprovalRound.order_id == order.id, ApprovalRound.number == step.round_number
        )
    )
    if approval_round is None:
        approval_round = ApprovalRound(
            order_id=order.id,
            number=step.round_number,
            policy_version=step.policy_version,
            status="running",
            started_at=rec.now,
        )
        session.add(approval_round)
        order.approval_round = step.round_number
        await session.flush()
    rec.set_stage(order, Stage.approval)
    order.unroutable_reason = None
    order.unroutable_at = None
    return approval_round


async def change_round(rec: StepRecorder, order: Order, step: OpenStage) -> ApprovalRound:
    """A change request's round: shown with the order's rounds under the number the order's
    workflow gave it (earlier rounds: the next free one), found again by its workflow's to-dos.
    The order's stage stays as it is."""
    session = rec.session
    known = await session.scalar(
        select(ApprovalStep.round_id)
        .join(Todo, Todo.id == ApprovalStep.todo_id)
        .where(Todo.workflow_id == step.workflow_id)
        .limit(1)
    )
    if known is not None:
        return await session.get_one(ApprovalRound, known)
    number = step.listed_as
    if number is None or await session.scalar(  # taken: a round asked for before it was given
        select(ApprovalRound.id).where(
            ApprovalRound.order_id == order.id, ApprovalRound.number == number
        )
    ):
        last = await session.scalar(
            select(func.max(ApprovalRound.number)).where(ApprovalRound.order_id == order.id)
        )
        number = (last or 0) + 1
    approval_round = ApprovalRound(
        order_id=order.id,
        number=number,
        policy_version=step.policy_version,
        status="running",
        started_at=rec.now,
    )
    session.add(approval_round)
    await session.flush()
    return approval_round


async def assignee_label(session: AsyncSession, assignee: Assignee) -> str:
    """Who a requirement waits on, in words for the order page."""
    if assignee.user_id is not None:
        user = await session.get_one(User, assignee.user_id)
        return user.full_name
    if assignee.department_id is not None:
        department = await session.get_one(Department, assignee.department_id)
        manager = await session.get(User, department.manager_id) if department.manager_id else None
        return manager.full_name if manager else department.name
    return str(assignee.role)


def reason_of(requirement: RouteRequirement) -> str:
    """Why the requirement applies, and that it went above the owner when it would have been
    theirs to decide."""
    if requirement.rerouted:
        return f"{requirement.reason}; the owner's own: decided by their manager"
    return requirement.reason


async def open_round(
    rec: StepRecorder, order: Order, routed: RoundFacts, round_: OpenRound
) -> None:
    """Route the round on the facts just loaded and open its first stage, in the step's
    own transaction; or, when no one can decide it, put the order on the unroutable list."""
    policy, facts = routed.policy, routed.facts
    assert policy is not None and facts is not None  # record_estimate loaded both
    try:
        routed.route = rules.approval_route(policy, facts)
    except rules.UnroutableError as unroutable:
        routed.unroutable = str(unroutable)
        await mark_unroutable(rec, order, round_.unroutable_key, routed.unroutable)
        return
    if not routed.route:
        return
    await open_approval_stage(
        rec,
        order,
        OpenStage(
            order_id=order.id,
            workflow_id=round_.workflow_id,
            order_workflow_id=round_.order_workflow_id,
            round_number=round_.round_number,
            policy_version=policy.version,
            stage=routed.route[0],
            facts=rules.decision_facts(facts),
        ),
    )
    # The round's to-dos belong to the round's workflow, not to the order's.
    routed.round_opened, rec.opened = rec.opened, []


async def confirm(rec: StepRecorder, order: Order, step: ConfirmOrder) -> None:
    """The order is confirmed; its owner and the people the policy names are told."""
    if order.stage != Stage.confirmed.value:
        rec.set_stage(order, Stage.confirmed)
        order.confirmed_at = rec.now
    await rec.add_event(key=step.step_key, order=order, kind="confirmed", actor_id=None)
    told = [order.owner] + [
        user for user in await rec.people(step.notify) if user.id != order.owner_id
    ]
    await rec.notify(key=step.step_key, users=told, order=order, event="confirmed")


async def mark_unroutable(rec: StepRecorder, order: Order, key: str, reason: str) -> None:
    """Nobody can decide the order's approval: it goes on the admin's unroutable list."""
    if order.unroutable_reason != reason:
        order.unroutable_reason = reason
        order.unroutable_at = rec.now
    await rec.add_event(key=key, order=order, kind="unroutable", actor_id=None, reason=reason)
    admins = await rec.people([Assignee(role=Role.admin)])
    await rec.notify(key=key, users=admins, order=order, event="unroutable", comment=reason)
