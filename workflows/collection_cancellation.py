"""CollectionWorkflow's end when its order is cancelled: nothing more is collected, so no
reminder, overdue alert or escalation fires again."""

from __future__ import annotations

from temporalio import workflow

from models.domain import CollectionResult, CollectionStep
from workflows.activity_refs import CancellationSteps
from workflows.steps import StepRunner, TodoBook


class CollectionCancellation:
    """The order's stop signal and the end it leads to (CollectionWorkflow's run checks
    `stopped` where it waits)."""

    todos: TodoBook
    steps: StepRunner
    changes: int
    stopped = False  # set by the stop signal alone (continue-as-new never carries it)

    @workflow.signal
    def stop(self) -> None:
        """The order's cancellation is approved: collection ends at once."""
        self.stopped = True
        self.todos.discard_all()
        self.changes += 1  # the timers look again, and stop

    async def _end_stopped(self) -> CollectionResult:
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.steps.run(CancellationSteps.stop_collection, self._step("stopped"))
        await self.steps.mail_sent()
        return CollectionResult(paid_on=workflow.now().date(), stopped=True)

    def _step(self, name: str, **fields: object) -> CollectionStep:
        raise NotImplementedError  # CollectionWorkflow's
