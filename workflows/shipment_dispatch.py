"""ShipmentWorkflow's dispatch: the warehouse confirms each round with carrier, tracking and the
day it happened, all that remains of the round or part of it (the rest in a later round)."""

from __future__ import annotations

from datetime import date

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
from workflows.shipment_state import DISPATCH_TO_ORDER, PARTIAL_DISPATCH, ShipmentState


class ShipmentDispatch(ShipmentState):
    """The warehouse dispatches a round (the first, goods sent again after an exception, what a
    change added, or the rest of a round that left in part)."""

    @workflow.update
    async def confirm_dispatch(self, dispatch: DispatchConfirmation) -> TodoDone:
        if workflow.patched(PARTIAL_DISPATCH):
            return await self._dispatch_in_parts(dispatch)
        todo = self.todos.take(dispatch.todo_key, dispatch.actor)
        round_ = self.dispatched + 1
        today = workflow.now().date()
        done = self._left_on(today)
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

    async def _dispatch_in_parts(self, dispatch: DispatchConfirmation) -> TodoDone:
        """The to-do's round leaves on the day given, whole or in part. In part, the rest is
        reserved in a new round with a new to-do for the warehouse, and the shipment stays
        before "dispatched": picking is done, the dispatch milestone (dated by the first part)
        and the arrival follow once everything has left. The order counts as dispatched from
        the first goods of its first round (installments due on dispatch, on that day)."""
        todo = self.todos.take(dispatch.todo_key, dispatch.actor)
        round_ = int(dispatch.todo_key.rsplit("/", 1)[1])
        first = self.rest_of.get(round_, round_)  # the round whose parts these are
        on = dispatch.dispatched_on or workflow.now().date()
        rest_round = 0
        if dispatch.lines is not None:  # perhaps in part: the rest's round is taken now
            self.dispatch_asked += 1
            rest_round = self.dispatch_asked
        done = self._left_on(self.first_left_on.get(first, on))
        result = await self._run(
            ShipmentSteps.dispatch,
            f"dispatch/{round_}",
            todo_key=dispatch.todo_key,
            actor_id=dispatch.actor.user_id,
            carrier=dispatch.carrier.strip(),
            tracking_number=dispatch.tracking_number.strip(),
            dispatch_round=round_,
            actual_date=on,
            milestones=done,
            lines=None
            if dispatch.lines is None
            else {ln.line_id: ln.quantity for ln in dispatch.lines},
            rest_round=rest_round,
        )
        if result.problem:
            self.todos.add([todo])  # nothing changed: the to-do stays open
            raise ApplicationError(result.problem, type=INVALID)
        if not result.partial and self.dispatch_asked == rest_round:
            self.dispatch_asked -= 1  # everything left: the rest's round was not needed
        first_goods = first not in self.first_left_on
        self.first_left_on.setdefault(first, on)
        if result.partial:
            self.rest_of[rest_round] = first
            self._done([m for m in done if m.code == MilestoneCode.picking])
        else:
            self.dispatched = max(self.dispatched, round_)
            self._done(done)
        if first == 1 and first_goods:  # installments may fall due on dispatch
            await self._tell_order(
                "trigger_happened",
                TriggerEvent(trigger=PaymentTrigger.dispatch, on=on),
                patch=DISPATCH_TO_ORDER,
            )
        return TodoDone(todo_key=dispatch.todo_key, stage=Stage.fulfilment)

    def _left_on(self, on: date) -> list[MilestoneState]:
        """Picking and dispatch (those the shipping mode has) done on that day."""
        return [
            MilestoneState(code=code, planned_date=on, actual_date=on)
            for code in (MilestoneCode.picking, MilestoneCode.dispatch)
            if code in self.milestones
        ]

    @confirm_dispatch.validator
    def validate_confirm_dispatch(self, dispatch: DispatchConfirmation) -> None:
        self.todos.check(dispatch.todo_key, dispatch.actor)
        if self.held_for_cancellation:  # set by ShipmentCancellation's signal
            raise ApplicationError(HELD_FOR_CANCELLATION, type=NOT_OPEN)
        refuse_if(dispatch.refusal())
        refuse_if(
            dispatch.date_refusal(
                today=workflow.now().date(),
                confirmed_on=workflow.info().workflow_start_time.date(),
            )
        )
