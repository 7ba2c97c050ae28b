"""What every area of ShipmentWorkflow shares: its state, patch ids, roles and step helpers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    MILESTONES,
    MilestoneCode,
    MilestoneConfirmation,
    MilestoneState,
    Refusal,
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
# Shipments recorded before this patch took the customer's arrival with earlier milestones
# still open as it was: from it on, ops get a to-do to fill in each one's actual date, and the
# shipment ends only once they have (the order moves on to collection meanwhile).
BACKFILL_AFTER_ARRIVAL = "backfill-after-arrival"
# Shipments recorded before this patch dispatched a whole round on the day it was confirmed:
# from it on, the warehouse gives the date it happened and may send some lines or quantities
# now and the rest in a later round (ShipmentDispatch).
PARTIAL_DISPATCH = "partial-dispatch"
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
        # The order's cancellation (ShipmentCancellation): dispatch held while it waits for
        # approval; withdrawn once approved.
        self.held_for_cancellation = False
        self.withdrawn = False
        # Earlier milestones still open when the goods arrived by the customer's link: ops
        # fill in their actual dates (BACKFILL_AFTER_ARRIVAL), in the order they happen.
        self.backfill: list[MilestoneCode] = []
        # An approved change to the order (ShipmentChanges): ops' replan_shipment to-do while
        # open, and the dispatch rounds its extra quantities went in (the shipment ends once
        # they arrived).
        self.replan_todo: str | None = None
        self.extra_rounds: list[int] = []
        # Partial dispatches (PARTIAL_DISPATCH): the round each rest round is the rest of, and
        # the day the first goods of a round left (its dispatch date once everything has).
        self.rest_of: dict[int, int] = {}
        self.first_left_on: dict[int, date] = {}

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

    def _open_before(self, code: MilestoneCode) -> list[MilestoneState]:
        """The planned milestones before `code` (in the shipping mode's order) not done yet."""
        order = MILESTONES[self.input.shipping_mode]
        return [
            milestone
            for before in order[: order.index(code)]
            if (milestone := self.milestones.get(before)) is not None
            and milestone.actual_date is None
        ]

    def _out_of_turn(self, code: MilestoneCode) -> Refusal | None:
        """Refused while an earlier milestone of the shipping mode is not done (it names it)."""
        done = [m.code for m in self.milestones.values() if m.actual_date is not None]
        return MilestoneConfirmation.out_of_turn(code, mode=self.input.shipping_mode, done=done)

    def _backfilled(self) -> bool:
        """Ops have filled in every milestone left open when the goods arrived."""
        return all(self.milestones[code].actual_date is not None for code in self.backfill)

    def _done(self, done: list[MilestoneState]) -> None:
        for state in done:
            milestone = self.milestones.get(state.code)
            if milestone is not None and milestone.actual_date is None:
                milestone.actual_date = state.actual_date
        self.changes += 1
