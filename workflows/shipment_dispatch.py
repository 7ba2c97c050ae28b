"""ShipmentWorkflow's dispatch: the warehouse confirms each round with carrier and tracking."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    HELD_FOR_CANCELLATION,
    DispatchConfirmation,
    MilestoneCode,
    MilestoneState,
    PaymentTrigger,
    Stage,
    TodoDone,
    TriggerEvent,
)
from workflows.activity_refs import ShipmentSteps
from workflows.refusals import INVALID, NOT_OPEN, refuse_if
from workflows.shipment_state import DISPATCH_TO_ORDER, ShipmentState


class ShipmentDispatch(ShipmentState):
    """The warehouse dispatches a round (the first, or goods sent again after an exception)."""

    @workflow.update
    async def confirm_dispatch(self, dispatch: DispatchConfirmation) -> TodoDone:
        todo = self.todos.take(dispatch.todo_key, dispatch.actor)
        round_ = self.dispatched + 1
        today = workflow.now().date()
        done = [
            MilestoneState(code=code, planned_date=today, actual_date=today)
            for code in (MilestoneCode.picking, MilestoneCode.dispatch)
            if code in self.milestones
        ]
        result = await self._run(
            ShipmentSteps.dispatch,
            f"dispatch/{round_}",
            todo_key=dispatch.todo_key,
            actor_id=dispatch.actor.user_id,
            carrier=dispatch.carrier.strip(),
            tracking_number=dispatch.tracking_number.strip(),
            dispatch_round=round_,
            actual_date=today,
            milestones=done,
        )
        if result.problem:
            self.todos.add([todo])  # nothing changed: the to-do stays open
            raise ApplicationError(result.problem, type=INVALID)
        self.dispatched = round_
        self._done(done)
        if round_ == 1:  # installments may fall due on dispatch
            await self._tell_order(
                "trigger_happened",
                TriggerEvent(trigger=PaymentTrigger.dispatch, on=today),
                patch=DISPATCH_TO_ORDER,
            )
        return TodoDone(todo_key=dispatch.todo_key, stage=Stage.fulfilment)

    @confirm_dispatch.validator
    def validate_confirm_dispatch(self, dispatch: DispatchConfirmation) -> None:
        self.todos.check(dispatch.todo_key, dispatch.actor)
        if self.held_for_cancellation:  # set by ShipmentCancellation's signal
            raise ApplicationError(HELD_FOR_CANCELLATION, type=NOT_OPEN)
        refuse_if(dispatch.refusal())
