"""Activities of an approval round: open a stage's to-dos, record each decision."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from temporalio import activity

from activities.orders import REVISE_SLA, OrderActivities
from models.domain import (
    Assignee,
    OpenStage,
    RecordDecision,
    Stage,
    StepResult,
    TodoKind,
)
from models.tables import ApprovalRound, ApprovalStep, Department, Todo, User

APPROVAL_SLA_HOURS = 24


class ApprovalActivities(OrderActivities):
    @activity.defn
    async def open_stage(self, step: OpenStage) -> StepResult:
        """Every requirement of the stage gets its approve to-do at once."""
        async with self.session_factory() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            approval_round = await session.scalar(
                select(ApprovalRound).where(
                    ApprovalRound.order_id == order.id,
                    ApprovalRound.number == step.round_number,
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
            for requirement in step.stage.requirements:
                key = f"{step.workflow_id}/{step.stage.position}/{requirement.code}"
                todo = await rec.open_todo(
                    key=key,
                    order=order,
                    workflow_id=step.workflow_id,
                    kind=TodoKind.approve,
                    assignees=[requirement.assignee],
                    due_in=timedelta(hours=APPROVAL_SLA_HOURS),
                    requested_by_id=order.owner_id,
                )
                known = await session.scalar(
                    select(ApprovalStep.id).where(ApprovalStep.todo_id == todo.id)
                )
                if known is None:
                    session.add(
                        ApprovalStep(
                            round_id=approval_round.id,
                            stage=step.stage.position,
                            code=requirement.code,
                            todo_id=todo.id,
                            assignee_label=await self._label(session, requirement.assignee),
                            opened_at=rec.now,
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
                )
            await session.commit()
            return StepResult(opened=rec.opened, mail_ids=rec.mail_ids, stage=Stage.approval)

    @activity.defn
    async def record_decision(self, step: RecordDecision) -> StepResult:
        """An approver decided. A rejection ends the round: the round's other to-dos are
        cancelled and the owner gets a revise to-do."""
        async with self.session_factory() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            todo = await rec.close_todo(
                step.todo_key,
                outcome=step.outcome,
                by_user_id=step.actor_id,
                comment=step.comment,
            )
            approval_step = await session.scalar(
                select(ApprovalStep).where(ApprovalStep.todo_id == todo.id)
            )
            approval_step.decision = step.outcome
            approval_step.decided_by_id = step.actor_id
            approval_step.decided_at = approval_step.decided_at or rec.now
            approval_step.comment = step.comment or None
            approval_round = await session.get(ApprovalRound, approval_step.round_id)
            await rec.add_event(
                key=f"{step.todo_key}/done",
                order=order,
                kind="approved" if step.outcome == "approve" else "rejected",
                actor_id=step.actor_id,
                round=step.round_number,
                comment=step.comment or None,
            )
            if step.outcome == "reject":
                approval_round.status = "rejected"
                approval_round.ended_at = approval_round.ended_at or rec.now
                round_todos = await session.scalars(
                    select(Todo)
                    .join(ApprovalStep, ApprovalStep.todo_id == Todo.id)
                    .where(ApprovalStep.round_id == approval_round.id)
                )
                await rec.cancel_todos(list(round_todos))
                rec.set_stage(order, Stage.revising)
                rec.opened.clear()
                await rec.open_todo(
                    key=step.revise_todo_key,
                    order=order,
                    workflow_id=step.order_workflow_id,
                    kind=TodoKind.revise,
                    assignees=[Assignee(user_id=order.owner_id)],
                    due_in=REVISE_SLA,
                    requested_by_id=step.actor_id,
                )
            elif step.round_approved:
                approval_round.status = "approved"
                approval_round.ended_at = approval_round.ended_at or rec.now
            await session.commit()
            return StepResult(opened=rec.opened, mail_ids=rec.mail_ids, stage=Stage(order.stage))

    async def _label(self, session, assignee: Assignee) -> str:  # noqa: ANN001
        """Who a requirement waits on, in words for the order page."""
        if assignee.user_id is not None:
            user = await session.get(User, assignee.user_id)
            return user.full_name
        if assignee.department_id is not None:
            department = await session.get(Department, assignee.department_id)
            manager = (
                await session.get(User, department.manager_id) if department.manager_id else None
            )
            return manager.full_name if manager else department.name
        return str(assignee.role)
