"""ShipmentWorkflow's end when its order is cancelled before dispatch: held while the
cancellation waits for approval, withdrawn once it is approved (reserved stock back on the
shelf, the warehouse's and ops' to-dos withdrawn, no milestone timer left)."""

from __future__ import annotations

from temporalio import workflow

from models.domain import ShipmentResult
from workflows.activity_refs import CancellationSteps
from workflows.shipment_state import ShipmentState


class ShipmentCancellation(ShipmentState):
    """The order's hold_for_cancellation and withdraw signals, and the end they lead to."""

    @workflow.signal
    def hold_for_cancellation(self, held: bool) -> None:
        """A cancellation of the order waits for approval (True), or was rejected (False): the
        warehouse does not dispatch meanwhile."""
        self.held_for_cancellation = held

    @workflow.signal
    def withdraw(self) -> None:
        """The order's cancellation is approved: the shipment ends without dispatching."""
        if self.dispatched == 0:
            self.withdrawn = True
            self.todos.discard_all()

    @workflow.signal
    def withdraw_after_dispatch(self) -> None:
        """The order's cancellation is approved after its goods left: they come back through
        the order's return, and the shipment ends (no milestone timer, arrival or acceptance
        left to wait for)."""
        self.withdrawn = True
        self.todos.discard_all()

    async def _end_withdrawn(self) -> ShipmentResult:
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._run(CancellationSteps.withdraw_shipment, "withdrawn")
        await self.steps.mail_sent()
        return ShipmentResult(accepted_on=None)
