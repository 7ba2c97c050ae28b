"""ShipmentWorkflow's arrival and the customer's acceptance (or a defect found at acceptance)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    AcceptanceOutcome,
    ArrivalConfirmation,
    ExceptionKind,
    MilestoneCode,
    MilestoneState,
    Stage,
    TodoDone,
)
from workflows.activity_refs import ShipmentSteps
from workflows.refusals import INVALID, NOT_ASSIGNEE, NOT_OPEN, refuse_if
from workflows.shipment_state import (
    BACKFILL_AFTER_ARRIVAL,
    DEFECT_KIND,
    STAGE_TO_ORDER,
    ShipmentState,
)


class ShipmentAcceptance(ShipmentState):
    """The goods arrive; where they need installing, service confirms the customer's acceptance."""

    @workflow.update
    async def confirm_arrival(self, arrival: ArrivalConfirmation) -> TodoDone:
        round_ = self.dispatched
        todo_key = f"{self._wid}/arrival/{round_}"
        if todo_key in self.todos:
            self.todos.discard(todo_key)
        self.arrived = round_
        needs_acceptance = self.input.needs_installation
        done = [
            MilestoneState(
                code=MilestoneCode.arrival,
                planned_date=arrival.actual_date,
                actual_date=arrival.actual_date,
            )
        ]
        backfill = self._left_open_at_arrival()
        result = await self._run(
            ShipmentSteps.confirm_arrival,
            f"arrival/{round_}",
            todo_key=todo_key,
            actor_id=arrival.actor.user_id if arrival.actor else None,
            contact_id=arrival.contact_id,
            actual_date=arrival.actual_date,
            dispatch_round=round_,
            milestones=done,
            open_acceptance=needs_acceptance,
            backfill=backfill,
        )
        self.backfill += [m.code for m in backfill if m.code not in self.backfill]
        self._done(done)
        await self._set_delayed(result.delayed)
        if needs_acceptance:
            if round_ in self.extra_rounds:  # a change's extra goods: accepted again
                self.accepted_on = None
            await self._tell_order("enter_stage", Stage.acceptance, patch=STAGE_TO_ORDER)
            return TodoDone(todo_key=todo_key, stage=Stage.acceptance)
        self.accepted_on = arrival.actual_date
        return TodoDone(todo_key=todo_key, stage=Stage.collection)

    def _left_open_at_arrival(self) -> list[MilestoneState]:
        """The earlier milestones not done as the goods arrive (only the customer's link gets
        this far with one open), for ops to fill in; none for shipments recorded before the
        patch, which went on without them."""
        open_before = self._open_before(MilestoneCode.arrival)
        if not open_before or not workflow.patched(BACKFILL_AFTER_ARRIVAL):
            return []
        return [m.model_copy() for m in open_before]

    @confirm_arrival.validator
    def validate_confirm_arrival(self, arrival: ArrivalConfirmation) -> None:
        if self.dispatched == 0 or self.arrived >= self.dispatched:
            raise ApplicationError("Nothing is on its way to this customer.", type=NOT_OPEN)
        if arrival.contact_id is None:
            if arrival.actor is None or arrival.todo_key is None:
                raise ApplicationError("Arrival is confirmed by its to-do.", type=NOT_ASSIGNEE)
            self.todos.check(arrival.todo_key, arrival.actor)
        if arrival.actual_date > workflow.now().date():
            raise ApplicationError("The arrival date cannot be in the future.", type=INVALID)
        dispatched_on = self.milestones.get(MilestoneCode.dispatch)
        if (
            dispatched_on
            and dispatched_on.actual_date
            and arrival.actual_date < (dispatched_on.actual_date)
        ):
            raise ApplicationError("The goods cannot arrive before they left.", type=INVALID)
        if arrival.contact_id is None:  # the customer's link is not refused: ops fill in after
            refuse_if(self._out_of_turn(MilestoneCode.arrival), type=NOT_OPEN)

    @workflow.update
    async def confirm_acceptance(self, acceptance: AcceptanceOutcome) -> TodoDone:
        self.todos.take(acceptance.todo_key, acceptance.actor)
        accepted = acceptance.outcome == "accepted"
        number = self.exceptions + 1
        if not accepted:
            self.exceptions = number
            self.open_exceptions.add(number)
            self.defect_open = True
        await self._run(
            ShipmentSteps.record_acceptance,
            f"acceptance/{acceptance.todo_key.rsplit('/', 1)[1]}",
            todo_key=acceptance.todo_key,
            actor_id=acceptance.actor.user_id,
            outcome=acceptance.outcome,
            actual_date=acceptance.accepted_on,
            signed_by=acceptance.signed_by.strip(),
            reason=acceptance.comment.strip(),
            number=number,
            exception_kind=None if accepted else self._defect_kind(),
        )
        if accepted:
            self.accepted_on = acceptance.accepted_on
            return TodoDone(todo_key=acceptance.todo_key, stage=Stage.collection)
        return TodoDone(todo_key=acceptance.todo_key, stage=Stage.acceptance)

    @confirm_acceptance.validator
    def validate_confirm_acceptance(self, acceptance: AcceptanceOutcome) -> None:
        self.todos.check(acceptance.todo_key, acceptance.actor)
        refuse_if(acceptance.refusal())
        if acceptance.accepted_on is not None and acceptance.accepted_on > workflow.now().date():
            raise ApplicationError("The acceptance date cannot be in the future.", type=INVALID)

    @staticmethod
    def _defect_kind() -> ExceptionKind:
        """A defect at acceptance is an exception of its own kind (shipments recorded before
        this patch called it damaged)."""
        return ExceptionKind.defect if workflow.patched(DEFECT_KIND) else ExceptionKind.damaged
