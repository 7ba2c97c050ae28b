"""What every area of ShipmentWorkflow shares: its state, patch ids, roles and step helpers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    MilestoneCode,
    MilestoneState,
    Role,
    ShipmentInput,
    ShipmentStep,
    ShipmentStepResult,
)
from workflows.activity_refs import Step
from workflows.refusals import INVALID, NOT_OPEN
from workflows.steps import StepRunner, TodoBook

OPS_ROLES = {Role.ops, Role.ops_manager}
EXCEPTION_ROLES = {Role.ops, Role.ops_manager, Role.service}
ZERO = timedelta(0)
# Shipments recorded before this patch left the order's Stage at fulfilment on arrival.
STAGE_TO_ORDER = "stage-to-order"
# Shipments recorded before this patch did not tell the order they were dispatched
# (installments due on dispatch came later).
DISPATCH_TO_ORDER = "dispatch-to-order"
# Shipments recorded before this patch called a defect at acceptance damaged.
DEFECT_KIND = "defect-kind"
ShipmentStepT = TypeVar("ShipmentStepT", bound=ShipmentStep)


class ShipmentState:
    """The state of one shipment's workflow; each area of ShipmentWorkflow is a subclass of it."""

    @workflow.init
    def __init__(self, shipment: ShipmentInput) -> None:
        self.input = shipment
        self.todos = TodoBook()
        self.steps = StepRunner(self.todos)
        self.milestones: dict[MilestoneCode, MilestoneState] = {}
        self.planned = False
        self.held = shipment.hold_for_deposit
        self.dispatch_asked = 0  # dispatch rounds the warehouse has been asked for
        self.dispatched = 0  # rounds dispatched
        self.arrived = 0  # rounds arrived
        self.accepted_on: date | None = None
        self.exceptions = 0
        self.open_exceptions: set[int] = set()
        self.defect_open = False
        self.delayed = False
        self.changes = 0  # bumped whenever a milestone's dates change: the watcher looks again

    @property
    def _wid(self) -> str:
        return workflow.info().workflow_id

    async def _run(
        self, step: Step[ShipmentStepT, ShipmentStepResult], name: str, **fields: Any
    ) -> ShipmentStepResult:
        """Run one of the shipment's steps: its own input, keyed by the step's name."""
        return await self.steps.run(
            step,
            step.arg_type(
                order_id=self.input.order_id,
                workflow_id=self._wid,
                step_key=f"{self._wid}/{name}",
                **fields,
            ),
        )

    async def _tell_order(self, signal: str, arg: Any, *, patch: str | None = None) -> None:
        """Signal the order this shipment is a child of (if any); with a patch id, only shipments
        recorded from that patch on do (the patch is asked only when there is an order)."""
        parent = workflow.info().parent
        if parent is None or (patch is not None and not workflow.patched(patch)):
            return
        await workflow.get_external_workflow_handle(parent.workflow_id).signal(signal, arg)

    async def _set_delayed(self, delayed: bool | None) -> None:
        """Tell the order (its Delayed search attribute) when the shipment turns late or
        back on time."""
        if delayed is None or delayed == self.delayed:
            return
        self.delayed = delayed
        await self._tell_order("set_delayed", delayed)

    def _planned(self, code: MilestoneCode) -> MilestoneState:
        if not self.planned:
            raise ApplicationError("The shipment is not planned yet.", type=NOT_OPEN)
        milestone = self.milestones.get(code)
        if milestone is None:
            raise ApplicationError(f"This shipment has no {code.value} milestone.", type=INVALID)
        return milestone

    def _done(self, done: list[MilestoneState]) -> None:
        for state in done:
            milestone = self.milestones.get(state.code)
            if milestone is not None and milestone.actual_date is None:
                milestone.actual_date = state.actual_date
        self.changes += 1
