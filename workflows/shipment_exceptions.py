"""ShipmentWorkflow's exceptions after dispatch: raised, then resolved (perhaps by reshipping)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import ExceptionReport, ExceptionResolution, Stage, TodoDone
from workflows.activity_refs import ShipmentSteps
from workflows.refusals import NOT_ASSIGNEE, NOT_OPEN, refuse_if
from workflows.shipment_state import EXCEPTION_ROLES, ShipmentState


class ShipmentExceptions(ShipmentState):
    """An exception after dispatch is a to-do for ops; resolving it may send the goods again."""

    @workflow.update
    async def raise_exception(self, report: ExceptionReport) -> TodoDone:
        self.exceptions += 1
        number = self.exceptions
        self.open_exceptions.add(number)
        await self._run(
            ShipmentSteps.raise_exception,
            f"exception/{number}",
            actor_id=report.actor.user_id,
            exception_kind=report.kind,
            reason=report.description.strip(),
            number=number,
        )
        return TodoDone(todo_key=f"{self._wid}/exception/{number}", stage=Stage.fulfilment)

    @raise_exception.validator
    def validate_raise_exception(self, report: ExceptionReport) -> None:
        if report.actor.role not in EXCEPTION_ROLES and report.actor.user_id != self.input.owner_id:
            raise ApplicationError(
                "Exceptions are raised by operations, service or the order's owner.",
                type=NOT_ASSIGNEE,
            )
        if self.dispatched == 0:
            raise ApplicationError("Nothing has been dispatched yet.", type=NOT_OPEN)
        if self.accepted_on is not None:
            raise ApplicationError("The customer has accepted the order.", type=NOT_OPEN)
        refuse_if(report.refusal())

    @workflow.update
    async def handle_exception(self, resolution: ExceptionResolution) -> TodoDone:
        self.todos.take(resolution.todo_key, resolution.actor)
        number = int(resolution.todo_key.rsplit("/", 1)[1])
        recheck = self.defect_open and not resolution.reship and self.input.needs_installation
        reship_round = self.dispatch_asked + 1 if resolution.reship else 0
        if resolution.reship:
            self.dispatch_asked = reship_round
        await self._run(
            ShipmentSteps.resolve_exception,
            f"exception/{number}/resolved",
            todo_key=resolution.todo_key,
            actor_id=resolution.actor.user_id,
            reason=resolution.resolution.strip(),
            reship=resolution.reship,
            dispatch_round=reship_round,
            number=number,
            open_acceptance=recheck,
        )
        self.open_exceptions.discard(number)
        if recheck or resolution.reship:
            self.defect_open = False
        return TodoDone(todo_key=resolution.todo_key, stage=Stage.fulfilment)

    @handle_exception.validator
    def validate_handle_exception(self, resolution: ExceptionResolution) -> None:
        self.todos.check(resolution.todo_key, resolution.actor)
        refuse_if(resolution.refusal())
