"""Activities of a shipment's milestones: late, confirmed, or re-planned."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import select, update
from temporalio import activity

from activities.shipments.records import OPS, milestones_of, record_milestones, still_delayed
from activities.steps import Said, StepRecorder
from activities.store import StepStore
from i18n import N_, Formatter
from i18n.labels import MILESTONES
from models.domain import (
    MarkLate,
    MilestoneCode,
    MilestoneState,
    RecordMilestone,
    ReplanMilestone,
    ShipmentStepResult,
    TodoKind,
)
from models.tables import Milestone, Order, Todo

# Confirmed by the to-dos already open for them (the warehouse's dispatch, ops' arrival).
OWN_TODO = (MilestoneCode.dispatch, MilestoneCode.arrival)


class MilestoneActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def mark_late(self, step: MarkLate) -> ShipmentStepResult:
        """Milestones not done by their planned date: the order turns delayed, ops and the owner
        get one mail naming them all (once per milestone and planned date, however often the
        step is retried), and ops get a to-do to confirm each one that nobody else's to-do
        covers. Many orders fall due at once, so the step stays small."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            rows = await milestones_of(session, order)
            late = [
                m
                for m in step.milestones
                if (row := rows.get(m.code.value)) is not None and row.actual_on is None
            ]
            await session.execute(
                update(Milestone)
                .where(
                    Milestone.id.in_([rows[m.code.value].id for m in late]),
                    Milestone.late_since.is_(None),
                )
                .values(late_since=rec.now)
            )
            await _tell_late(rec, order, step.workflow_id, late)
            order.delayed = True
            order.updated_at = rec.now
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids, delayed=True)

    @activity.defn
    async def confirm_milestone(self, step: RecordMilestone) -> ShipmentStepResult:
        """Ops confirm a milestone with its actual date; the order is no longer delayed once no
        milestone is late."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await record_milestones(session, order, step.milestones, by_id=step.actor_id)
            await _close_late_todos(rec, step.workflow_id, step.code, by_user_id=step.actor_id)
            await rec.add_event(
                key=step.step_key, order=order, kind="milestone_done", actor_id=step.actor_id,
                milestone=step.code.value, actual=step.actual_date.isoformat(),
            )  # fmt: skip
            delayed = await still_delayed(session, order)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids, delayed=delayed)

    @activity.defn
    async def replan_milestone(self, step: ReplanMilestone) -> ShipmentStepResult:
        """Ops move a milestone's planned date, with a reason; a late one is late no more."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            row = await session.scalar(
                select(Milestone).where(
                    Milestone.order_id == order.id, Milestone.code == step.code.value
                )
            )
            assert row is not None  # plan_shipment recorded every milestone
            before = row.planned_on
            if before != step.planned_date:
                row.planned_on = step.planned_date
                row.late_since = None
            await _close_late_todos(rec, step.workflow_id, step.code, cancel=True)
            await rec.add_event(
                key=step.step_key, order=order, kind="milestone_replanned",
                actor_id=step.actor_id, milestone=step.code.value,
                planned=step.planned_date.isoformat(), before=before.isoformat(),
                reason=step.reason,
            )  # fmt: skip
            delayed = await still_delayed(session, order)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids, delayed=delayed)


def _late_key(workflow_id: str, late: Sequence[MilestoneState]) -> str:
    """The key of what a late step records: per milestone and planned date."""
    return f"{workflow_id}/late/" + "+".join(
        f"{m.code.value}/{m.planned_date.isoformat()}" for m in late
    )


async def _tell_late(
    rec: StepRecorder, order: Order, workflow_id: str, late: list[MilestoneState]
) -> None:
    """The timeline says which milestones are late, the owner and ops get one mail naming them
    all, and ops a to-do for each one that no other to-do covers."""
    for milestone in late:
        await rec.add_event(
            key=_late_key(workflow_id, [milestone]), order=order, kind="milestone_late",
            actor_id=None, milestone=milestone.code.value,
            planned=milestone.planned_date.isoformat(),
        )  # fmt: skip
    if late:
        await rec.notify(
            key=_late_key(workflow_id, late),
            users=[order.owner, *await rec.people(OPS)],
            order=order,
            event="milestone_late",
            comment=_planned_for(late),
        )
    for milestone in late:
        if milestone.code in OWN_TODO:
            continue  # the warehouse's or the arrival to-do is still open
        await rec.open_todo(
            key=_late_key(workflow_id, [milestone]),
            order=order,
            workflow_id=workflow_id,
            kind=TodoKind.confirm_milestone,
            assignees=OPS,
            due_in=None,
            facts={
                "code": milestone.code.value,
                "planned_date": milestone.planned_date.isoformat(),
            },
            mail=False,  # the mail above names the milestone
        )


async def ask_actual_dates(
    rec: StepRecorder,
    order: Order,
    workflow_id: str,
    left_open: Sequence[MilestoneState],
    *,
    arrived_on: date,
) -> None:
    """The goods arrived (by the customer's link) before these milestones were confirmed: ops
    get the to-do a late milestone gets, one per milestone, to fill in its actual date. It is
    that very to-do (the same key), so a milestone already late, or late later, has one."""
    for milestone in left_open:
        await rec.open_todo(
            key=_late_key(workflow_id, [milestone]),
            order=order,
            workflow_id=workflow_id,
            kind=TodoKind.confirm_milestone,
            assignees=OPS,
            due_in=None,
            facts={
                "code": milestone.code.value,
                "planned_date": milestone.planned_date.isoformat(),
                "arrived_on": arrived_on.isoformat(),
            },
        )


async def _close_late_todos(
    rec: StepRecorder,
    workflow_id: str,
    code: MilestoneCode,
    *,
    by_user_id: int | None = None,
    cancel: bool = False,
) -> None:
    """The milestone's late to-dos are done (it was confirmed) or cancelled (it moved)."""
    prefix = f"{workflow_id}/late/{code.value}/"
    todos = list(
        await rec.session.scalars(
            select(Todo).where(Todo.key.startswith(prefix, autoescape=True), Todo.status == "open")
        )
    )
    if cancel:
        await rec.cancel_todos(todos)
        return
    for todo in todos:
        await rec.close_todo(todo.key, outcome="done", by_user_id=by_user_id)


def _planned_for(late: Sequence[MilestoneState]) -> Said:
    """ "Picking was planned for Dec 4, 2026", in each recipient's language and date style."""

    def said(fmt: Formatter, gettext: Callable[[str], str]) -> str:
        return "; ".join(
            gettext(PLANNED_FOR)
            % {"milestone": gettext(MILESTONES[m.code.value]), "day": fmt.date(m.planned_date)}
            for m in late
        )

    return said


PLANNED_FOR = N_("%(milestone)s was planned for %(day)s")
