"""ShipmentWorkflow's timetable and deposit hold: ops plan the milestones, the hold is released."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import MILESTONES, HoldRelease, MilestoneState, PlanShipment, Stage, TodoDone
from workflows.activity_refs import ShipmentSteps
from workflows.refusals import NOT_ASSIGNEE, NOT_OPEN, refuse_if
from workflows.shipment_state import OPS_ROLES, ShipmentState


class ShipmentPlanning(ShipmentState):
    """Ops plan the timetable; the dispatch waits for the deposit or for ops to release it."""

    # -- ops plan the timetable ------------------------------------------------------------------

    @workflow.update
    async def plan(self, plan: PlanShipment) -> TodoDone:
        self.todos.take(plan.todo_key, plan.actor)
        if not self.held:
            self.dispatch_asked = 1
        await self._run(
            ShipmentSteps.plan_shipment,
            "planned",
            todo_key=plan.todo_key,
            actor_id=plan.actor.user_id,
            milestones=[
                MilestoneState(code=m.code, planned_date=m.planned_date) for m in plan.milestones
            ],
            held=self.held,
        )
        self.milestones = {
            m.code: MilestoneState(code=m.code, planned_date=m.planned_date)
            for m in plan.milestones
        }
        self.planned = True
        self.changes += 1
        return TodoDone(todo_key=plan.todo_key, stage=Stage.fulfilment)

    @plan.validator
    def validate_plan(self, plan: PlanShipment) -> None:
        self.todos.check(plan.todo_key, plan.actor)
        expected = MILESTONES[self.input.shipping_mode]
        refuse_if(plan.refusal(expected=expected, today=workflow.now().date()))

    # -- the deposit hold ----------------------------------------------------------------------

    @workflow.signal
    def deposit_paid(self) -> None:
        """The collection side: the installments due on confirmation are paid."""
        self.held = False

    @workflow.update
    async def release_hold(self, release: HoldRelease) -> TodoDone:
        open_dispatch = self.planned and self.dispatch_asked == 0
        if open_dispatch:
            self.dispatch_asked = 1
        self.held = False
        await self._run(
            ShipmentSteps.release_hold,
            "hold-released",
            actor_id=release.actor.user_id,
            reason=release.reason.strip(),
            open_dispatch=open_dispatch,
        )
        return TodoDone(todo_key="", stage=Stage.fulfilment)

    @release_hold.validator
    def validate_release_hold(self, release: HoldRelease) -> None:
        if release.actor.role not in OPS_ROLES:
            raise ApplicationError("Only business operations release a hold.", type=NOT_ASSIGNEE)
        if not self.held:
            raise ApplicationError("This shipment is not held.", type=NOT_OPEN)
        refuse_if(release.refusal())
