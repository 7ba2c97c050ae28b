"""The engine floor for bench/order_flow.py: a bare workflow that takes the same number of
updates per order as ours (estimate, two approvals; to acceptance also plan, dispatch,
arrival), each update handler running one no-op activity (a regular activity, not local).
Imported by the bench's own worker; the workflow sandbox re-imports this module, so it holds
definitions only."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow

TASK_QUEUE = "bench-floor"


class FloorStep(BaseModel):
    step: int


@activity.defn
async def floor_noop(step: FloorStep) -> int:
    return step.step


@workflow.defn
class FloorWorkflow:
    def __init__(self) -> None:
        self.done = 0

    @workflow.run
    async def run(self, steps: int) -> int:
        await workflow.wait_condition(lambda: self.done >= steps)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.done

    @workflow.update
    async def step(self, step: FloorStep) -> int:
        result = await workflow.execute_activity(
            floor_noop, step, start_to_close_timeout=timedelta(seconds=30)
        )
        self.done += 1
        return result
