"""ShipmentWorkflow after an approved change to its order: before dispatch ops re-plan the
timetable (a replan_shipment to-do, the same form as the first plan; the milestone timers move
to the new dates), and what the change adds after the goods left goes in a new dispatch round
for the warehouse."""

from __future__ import annotations

from temporalio import workflow

from models.domain import (
    MILESTONES,
    MilestoneState,
    PlanShipment,
    ShipmentChange,
    Stage,
    TodoDone,
)
from workflows.activity_refs import ShipmentSteps
from workflows.refusals import refuse_if
from workflows.shipment_state import ShipmentState


class ShipmentChanges(ShipmentState):
    """The order's change_applied signal and ops' replan_shipment update."""

    @workflow.signal
    async def change_applied(self, change: ShipmentChange) -> None:
        """The order's change was applied: re-plan the timetable (when it was planned and
        nothing left yet: not planned, the plan_shipment to-do still covers it; one re-plan
        to-do at a time), and dispatch what it adds beyond what left in a round of its own."""
        if self.withdrawn:
            return
        if change.replan and self.planned and self.dispatched == 0 and self.replan_todo is None:
            key = f"{self._wid}/replan/{change.revision}"
            self.replan_todo = key
            await self._run(
                ShipmentSteps.open_replan,
                f"replan/{change.revision}/opened",
                todo_key=key,
                revision=change.revision,
            )
        if change.extra_dispatch and self.dispatched > 0:
            self.dispatch_asked += 1
            round_ = self.dispatch_asked
            self.extra_rounds.append(round_)
            await self._run(
                ShipmentSteps.extra_dispatch,
                f"extra-dispatch/{change.revision}",
                revision=change.revision,
                dispatch_round=round_,
                quantities=dict(change.extra_dispatch),
            )

    @workflow.update
    async def replan_shipment(self, plan: PlanShipment) -> TodoDone:
        self.todos.take(plan.todo_key, plan.actor)
        result = await self._run(
            ShipmentSteps.replan_shipment,
            f"replanned/{plan.todo_key.rsplit('/', 1)[1]}",
            todo_key=plan.todo_key,
            actor_id=plan.actor.user_id,
            milestones=[
                MilestoneState(code=m.code, planned_date=m.planned_date) for m in plan.milestones
            ],
        )
        for planned in plan.milestones:
            milestone = self.milestones.get(planned.code)
            if milestone is None:
                self.milestones[planned.code] = MilestoneState(
                    code=planned.code, planned_date=planned.planned_date
                )
            elif milestone.actual_date is None and milestone.planned_date != planned.planned_date:
                milestone.planned_date = planned.planned_date
                milestone.late = False
        if self.replan_todo == plan.todo_key:
            self.replan_todo = None
        self.changes += 1  # the lateness watcher looks again, at the new dates
        await self._set_delayed(result.delayed)
        return TodoDone(todo_key=plan.todo_key, stage=Stage.fulfilment)

    @replan_shipment.validator
    def validate_replan_shipment(self, plan: PlanShipment) -> None:
        self.todos.check(plan.todo_key, plan.actor)
        expected = MILESTONES[self.input.shipping_mode]
        refuse_if(plan.refusal(expected=expected, today=workflow.now().date()))

    def _extra_waiting(self) -> bool:
        """A round a change added has not arrived yet: the shipment is not done."""
        return any(round_ > self.arrived for round_ in self.extra_rounds)
