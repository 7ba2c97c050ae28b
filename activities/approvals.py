"""Activities of an approval round: open a stage's to-dos, record each decision."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.rounds import confirm, open_approval_stage
from activities.store import StepStore
from models.domain import (
    SIDE_ROUND_KINDS,
    Assignee,
    Escalated,
    OpenStage,
    RecordDecision,
    Stage,
    StepResult,
    TodoKind,
    TodoReminder,
    TodoStatus,
)
from models.tables import (
    ApprovalRound,
    ApprovalStep,
    Department,
    Todo,
    TodoAssignee,
    User,
)

REVISE_SLA = timedelta(days=3)


class ApprovalActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def open_stage(self, step: OpenStage) -> StepResult:
        """Every requirement of the stage gets its approve to-do at once."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await open_approval_stage(rec, order, step)
            await session.commit()
            return StepResult(opened=rec.opened, mail_ids=rec.mail_ids, stage=Stage.approval)

    @activity.defn
    async def record_decision(self, step: RecordDecision) -> StepResult:
        """An approver decided. A rejection ends the round: the round's other to-dos are
        cancelled and the owner gets a revise to-do (a change request's round: the order stays
        where it is, and the order's workflow closes the request)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            todo = await rec.close_todo(
                step.todo_key,
                outcome=step.outcome,
                by_user_id=step.actor_id,
                comment=step.comment,
            )
            approval_step = await session.scalar(
                select(ApprovalStep).where(ApprovalStep.todo_id == todo.id)
            )
            assert approval_step is not None  # every approve to-do has its step
            approval_step.decision = step.outcome
            approval_step.decided_by_id = step.actor_id
            approval_step.decided_at = approval_step.decided_at or rec.now
            approval_step.comment = step.comment or None
            approval_round = await session.get_one(ApprovalRound, approval_step.round_id)
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
                if todo.kind in SIDE_ROUND_KINDS:
                    # The change request (or return) ends (the order's own step says so); not
                    # the order.
                    await session.commit()
                    return StepResult(mail_ids=rec.mail_ids, stage=Stage(order.stage))
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
                if step.confirm is not None:  # the last approval confirms the order
                    await confirm(rec, order, step.confirm)
            elif step.open_next is not None:  # the stage passed: the next one opens at once
                await open_approval_stage(rec, order, step.open_next)
            await session.commit()
            return StepResult(opened=rec.opened, mail_ids=rec.mail_ids, stage=Stage(order.stage))

    @activity.defn
    async def remind_approvers(self, step: TodoReminder) -> StepResult:
        """The SLA of these approve to-dos passed: each person they reach gets a reminder."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            for todo, approval_step in await self._open_steps(session, step.todo_keys):
                approval_step.reminded_at = approval_step.reminded_at or rec.now
                await rec.add_event(
                    key=f"{todo.key}/reminded",
                    order=order,
                    kind="approval_reminded",
                    actor_id=None,
                    requirement=approval_step.code,
                )
                people = await rec.people([_assignee(a) for a in todo.assignees])
                await rec.mail_todo(
                    todo,
                    order=order,
                    users=[p for p in people if p.id != step.owner_id],
                    key_suffix="/reminder",
                    reminder=todo.created_at,
                )
            await session.commit()
            return StepResult(mail_ids=rec.mail_ids)

    @activity.defn
    async def escalate_approvals(self, step: TodoReminder) -> Escalated:
        """Twice the SLA passed: each to-do's assignees' manager becomes an assignee too and is
        told why. Never the order's owner, never someone already assigned."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            added: dict[str, list[Assignee]] = {}
            for todo, approval_step in await self._open_steps(session, step.todo_keys):
                # The route gave the to-do one assignee; later rows are escalations.
                routed = [_assignee(min(todo.assignees, key=lambda a: a.id))]
                routed_ids = {p.id for p in await rec.people(routed)}
                managers = [
                    m
                    for m in await self._managers_above(session, routed)
                    if m.id != step.owner_id and m.id not in routed_ids
                ]
                if approval_step.escalated_at is None:  # not on a retry of a committed attempt
                    approval_step.escalated_at = rec.now
                    approval_step.escalated_to = ", ".join(m.full_name for m in managers) or None
                    for manager in managers:
                        session.add(
                            TodoAssignee(
                                todo_id=todo.id,
                                user_id=manager.id,
                                status=TodoStatus.open.value,
                                created_at=todo.created_at,
                            )
                        )
                added[todo.key] = [Assignee(user_id=m.id) for m in managers]
                sla_days = step.sla_days.get(todo.key, 1)
                await rec.add_event(
                    key=f"{todo.key}/escalated",
                    order=order,
                    kind="approval_escalated" if managers else "approval_not_escalated",
                    actor_id=None,
                    requirement=approval_step.code,
                    to=approval_step.escalated_to,
                )
                await rec.mail_todo(
                    todo,
                    order=order,
                    users=managers,
                    key_suffix="/escalated",
                    escalated_from=approval_step.assignee_label,
                    sla_days=sla_days,
                )
            await session.commit()
            return Escalated(added=added, mail_ids=rec.mail_ids)

    async def _open_steps(
        self, session: AsyncSession, keys: list[str]
    ) -> list[tuple[Todo, ApprovalStep]]:
        rows = await session.execute(
            select(Todo, ApprovalStep)
            .join(ApprovalStep, ApprovalStep.todo_id == Todo.id)
            .where(Todo.key.in_(keys), Todo.status == TodoStatus.open.value)
            .order_by(Todo.id)
        )
        return [(todo, approval_step) for todo, approval_step in rows]

    async def _managers_above(self, session: AsyncSession, assignees: list[Assignee]) -> list[User]:
        """The nearest manager above each person an assignment reaches: above a named person or
        everyone in a role, the manager of their department (or the next one up when they
        manage it themselves); above a department's manager, the parent department's."""
        found: dict[int, User] = {}
        for assignee in assignees:
            starts: list[tuple[int | None, int | None]] = []  # (department, person to skip)
            if assignee.department_id is not None:
                department = await session.get_one(Department, assignee.department_id)
                starts.append((department.parent_id, department.manager_id))
            if assignee.user_id is not None:
                person = await session.get_one(User, assignee.user_id)
                starts.append((person.department_id, person.id))
            if assignee.role is not None:
                people = await session.scalars(
                    select(User).where(User.role == assignee.role.value, User.active.is_(True))
                )
                starts += [(p.department_id, p.id) for p in people]
            for department_id, skip in starts:
                manager = await self._nearest_manager(session, department_id, skip)
                if manager is not None:
                    found.setdefault(manager.id, manager)
        return sorted(found.values(), key=lambda u: u.id)

    async def _nearest_manager(
        self,
        session: AsyncSession,
        department_id: int | None,
        skip: int | None,
    ) -> User | None:
        hops = 0
        while department_id is not None and hops < 50:
            department = await session.get_one(Department, department_id)
            if department.manager_id is not None and department.manager_id != skip:
                manager = await session.get(User, department.manager_id)
                if manager is not None and manager.active:
                    return manager
            department_id = department.parent_id
            hops += 1
        return None


def _assignee(row: TodoAssignee) -> Assignee:
    return Assignee(user_id=row.user_id, role=row.role, department_id=row.department_id)
