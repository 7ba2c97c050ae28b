"""ShipmentWorkflow's milestones: a lateness timer on each, their confirmation and re-planning."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    MILESTONES,
    MilestoneConfirmation,
    MilestoneReplan,
    MilestoneState,
    Stage,
    TodoDone,
)
from workflows.activity_refs import ShipmentSteps
from workflows.refusals import INVALID, NOT_ASSIGNEE, NOT_OPEN, refuse_if
from workflows.shipment_state import OPS_ROLES, ZERO, ShipmentState


class ShipmentMilestones(ShipmentState):
    """Milestones watched by timers on their planned dates, confirmed and re-planned by ops."""

    async def _watch_milestones(self) -> None:
        """A timer on each pending milestone's due moment; a milestone not done by then turns
        the order delayed, once per planned date."""
        while True:
            pending = [m for m in self.milestones.values() if m.actual_date is None and not m.late]
            changed = self._changed_since(self.changes)
            if not pending:
                await workflow.wait_condition(changed)
                continue
            due = min(self._due(m) for m in pending)
            try:
                await workflow.wait_condition(changed, timeout=max(due - workflow.now(), ZERO))
                continue
            except TimeoutError:
                pass
            now = workflow.now()
            late = [m for m in pending if self._due(m) <= now and m.actual_date is None]
            if not late:
                continue
            for milestone in late:
                milestone.late = True
            await self._run(
                ShipmentSteps.mark_late,
                "late/" + "+".join(m.code.value for m in late),
                milestones=[m.model_copy() for m in late],
            )
            await self._set_delayed(True)

    def _changed_since(self, seen: int) -> Callable[[], bool]:
        return lambda: self.changes != seen

    def _due(self, milestone: MilestoneState) -> datetime:
        """The moment a milestone is late: its planned date's due time, or the day's end."""
        if self.input.due_time is not None:
            return datetime.combine(milestone.planned_date, self.input.due_time, UTC)
        return datetime.combine(milestone.planned_date + timedelta(days=1), time(0), UTC)

    # -- confirmed ---------------------------------------------------------------------------------

    @workflow.update
    async def confirm_milestone(self, confirmation: MilestoneConfirmation) -> TodoDone:
        if confirmation.todo_key is not None:
            self.todos.take(confirmation.todo_key, confirmation.actor)
        milestone = self.milestones[confirmation.code]
        done = MilestoneState(
            code=milestone.code,
            planned_date=milestone.planned_date,
            actual_date=confirmation.actual_date,
        )
        milestone.actual_date = confirmation.actual_date
        result = await self._run(
            ShipmentSteps.confirm_milestone,
            f"milestone/{confirmation.code.value}",
            actor_id=confirmation.actor.user_id,
            code=confirmation.code,
            actual_date=confirmation.actual_date,
            milestones=[done],
        )
        self.changes += 1
        await self._set_delayed(result.delayed)
        return TodoDone(todo_key=confirmation.todo_key or "", stage=Stage.fulfilment)

    @confirm_milestone.validator
    def validate_confirm_milestone(self, confirmation: MilestoneConfirmation) -> None:
        if confirmation.todo_key is not None:
            self.todos.check(confirmation.todo_key, confirmation.actor)
        elif confirmation.actor.role not in OPS_ROLES:
            raise ApplicationError(
                "Only business operations confirm milestones.", type=NOT_ASSIGNEE
            )
        milestone = self._planned(confirmation.code)
        refuse_if(confirmation.refusal())
        if milestone.actual_date is not None:
            raise ApplicationError(
                f"The {confirmation.code.value} milestone is already confirmed.", type=NOT_OPEN
            )
        if confirmation.actual_date > workflow.now().date():
            raise ApplicationError("The actual date cannot be in the future.", type=INVALID)
        refuse_if(self._out_of_turn(confirmation.code), type=NOT_OPEN)

    # -- re-planned --------------------------------------------------------------------------------

    @workflow.update
    async def replan_milestone(self, replan: MilestoneReplan) -> TodoDone:
        milestone = self.milestones[replan.code]
        result = await self._run(
            ShipmentSteps.replan_milestone,
            f"replan/{replan.code.value}/{replan.planned_date.isoformat()}",
            actor_id=replan.actor.user_id,
            code=replan.code,
            planned_date=replan.planned_date,
            reason=replan.reason.strip(),
        )
        milestone.planned_date = replan.planned_date
        milestone.late = False
        self.changes += 1  # the timer moves
        await self._set_delayed(result.delayed)
        return TodoDone(todo_key="", stage=Stage.fulfilment)

    @replan_milestone.validator
    def validate_replan_milestone(self, replan: MilestoneReplan) -> None:
        if replan.actor.role not in OPS_ROLES:
            raise ApplicationError(
                "Only business operations re-plan milestones.", type=NOT_ASSIGNEE
            )
        milestone = self._planned(replan.code)
        if milestone.actual_date is not None:
            raise ApplicationError(
                f"The {replan.code.value} milestone is already done.", type=NOT_OPEN
            )
        refuse_if(replan.refusal())
        if replan.planned_date < workflow.now().date():
            raise ApplicationError("The new date is in the past.", type=INVALID)
        self._refuse_out_of_order(replan)

    def _refuse_out_of_order(self, replan: MilestoneReplan) -> None:
        """A new date must not come before an earlier milestone's date (done or planned), nor
        after a later pending one's."""
        order = MILESTONES[self.input.shipping_mode]
        position = order.index(replan.code)
        for before in order[:position]:
            other = self.milestones[before]
            if (other.actual_date or other.planned_date) > replan.planned_date:
                raise ApplicationError(
                    f"The new date is before the {before.value} date.", type=INVALID
                )
        for after in order[position + 1 :]:
            other = self.milestones[after]
            if other.actual_date is None and other.planned_date < replan.planned_date:
                raise ApplicationError(
                    f"The new date is after the {after.value} date; re-plan that first.",
                    type=INVALID,
                )
