"""The engine floors for the benches: bare workflows of the same shape as ours.

FloorWorkflow (bench/order_flow.py) takes as many updates per order as ours made in the same run
(16 for an order's whole life: every to-do completed, two payments registered, one invoice
applied for; 8, 6 or 3 when ours stops at paid, accepted or confirmed), each update handler
running one no-op activity (a regular activity, not local). TimerFloorWorkflow (bench/timers.py)
sleeps until a due moment, then runs one no-op local activity, as a shipment's milestone timer
runs its mark_late step, and returns when that activity ran (and when it set its timer, so
the bench can tell a timer set too late from a slow one). Imported by the benches' own
workers; the workflow sandbox re-imports this module, so it holds definitions only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio import activity, workflow

TASK_QUEUE = "bench-floor"
TIMER_TASK_QUEUE = "bench-timers-floor"


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


# -- bench/timers.py ---------------------------------------------------------------------------


class TimerFloorInput(BaseModel):
    due_at: datetime  # UTC


class TimerFloorResult(BaseModel):
    armed_at: datetime  # when the workflow first ran and set its timer (workflow time)
    flagged_at: datetime  # when the no-op step ran (the activity's clock)


@activity.defn
async def flag_late_noop() -> datetime:
    """Stands in for mark_late: the moment the step ran, on the activity's side."""
    return datetime.now(UTC)


@workflow.defn
class TimerFloorWorkflow:
    @workflow.run
    async def run(self, timer: TimerFloorInput) -> TimerFloorResult:
        armed_at = workflow.now()
        if timer.due_at > armed_at:
            await workflow.sleep(timer.due_at - armed_at)
        flagged_at = await workflow.execute_local_activity(
            flag_late_noop, start_to_close_timeout=timedelta(seconds=30)
        )
        return TimerFloorResult(armed_at=armed_at, flagged_at=flagged_at)
