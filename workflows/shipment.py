"""ShipmentWorkflow: an order's fulfilment and acceptance, from the timetable to the customer's
acceptance: ops plan the milestones, the warehouse dispatches (perhaps only once the deposit is
paid), every milestone is watched by a timer on its planned date, the goods arrive, service
confirms installation where needed, and exceptions after dispatch can send goods again."""

from __future__ import annotations

import asyncio

from temporalio import workflow

from models.domain import PaymentTrigger, ShipmentInput, ShipmentResult, Stage, TriggerEvent
from workflows.activity_refs import ShipmentSteps
from workflows.shipment_acceptance import ShipmentAcceptance
from workflows.shipment_cancellation import ShipmentCancellation
from workflows.shipment_changes import ShipmentChanges
from workflows.shipment_dispatch import ShipmentDispatch
from workflows.shipment_exceptions import ShipmentExceptions
from workflows.shipment_milestones import ShipmentMilestones
from workflows.shipment_planning import ShipmentPlanning
from workflows.shipment_state import (
    BACKFILL_AFTER_ARRIVAL,
    DEFECT_KIND,
    DISPATCH_TO_ORDER,
    EXCEPTION_ROLES,
    OPS_ROLES,
    STAGE_TO_ORDER,
    ZERO,
)

# The patch ids and constants stay importable from here.
__all__ = [
    "BACKFILL_AFTER_ARRIVAL",
    "DEFECT_KIND",
    "DISPATCH_TO_ORDER",
    "EXCEPTION_ROLES",
    "OPS_ROLES",
    "STAGE_TO_ORDER",
    "ZERO",
    "ShipmentWorkflow",
]


@workflow.defn
class ShipmentWorkflow(
    ShipmentPlanning,
    ShipmentDispatch,
    ShipmentMilestones,
    ShipmentAcceptance,
    ShipmentExceptions,
    ShipmentCancellation,
    ShipmentChanges,
):
    """The run reads top to bottom; each area's updates live in the class it inherits (the state
    and @workflow.init in ShipmentState)."""

    @workflow.signal
    def refresh(self) -> None:
        """Nothing to do: the workflow task it causes brings a worker's cached copy of this
        workflow back in line with its history when a lost workflow task (a server that died
        while an update was being accepted) left the copy ahead of it."""

    async def _wait_for_backfill(self) -> None:
        """The customer has the goods, so the order moves on to collection now (the payments
        due on acceptance fall due), while the shipment stays until ops have filled in the
        actual dates of the milestones left open at arrival: their to-dos stay on ops' list and
        the order's page, and no milestone is left pending for good."""
        assert self.accepted_on is not None  # the run waited for it
        await self._tell_order(
            "trigger_happened",
            TriggerEvent(trigger=PaymentTrigger.acceptance, on=self.accepted_on),
        )
        await self._tell_order("enter_stage", Stage.collection)
        await workflow.wait_condition(self._backfilled)

    @workflow.run
    async def run(self, shipment: ShipmentInput) -> ShipmentResult:
        await self._run(
            ShipmentSteps.start_shipment,
            "started",
            todo_key=f"{self._wid}/plan",
        )
        await workflow.wait_condition(lambda: self.planned or self.withdrawn)
        if self.withdrawn:  # the order was cancelled before its shipment was planned
            return await self._end_withdrawn()
        watcher = asyncio.create_task(self._watch_milestones())
        if self.dispatch_asked == 0:  # held for the deposit when it was planned
            await workflow.wait_condition(lambda: not self.held or self.withdrawn)
            if self.dispatch_asked == 0 and not self.withdrawn:  # the deposit arrived
                self.dispatch_asked = 1
                await self._run(
                    ShipmentSteps.release_hold,
                    "hold-released",
                    reason="deposit paid",
                    open_dispatch=True,
                )
        await workflow.wait_condition(
            lambda: (
                (
                    self.accepted_on is not None
                    and not self.open_exceptions
                    and not self._extra_waiting()  # none but after an approved change
                )
                or self.withdrawn
            )
        )
        if self.withdrawn:  # the order was cancelled before dispatch
            watcher.cancel()
            return await self._end_withdrawn()
        if not self._backfilled():  # only from BACKFILL_AFTER_ARRIVAL on
            await self._wait_for_backfill()
        watcher.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.steps.mail_sent()
        return ShipmentResult(accepted_on=self.accepted_on)
