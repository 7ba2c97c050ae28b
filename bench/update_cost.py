"""What writing a person's action only after the engine accepted it costs per update.

An update handler's step used to be a local activity (run inside the workflow task that accepts
the update, committing before the acceptance is saved); since `accepted-before-written` it is a
regular activity that the engine schedules with the acceptance (workflows/steps.py). This bench
runs the same update both ways on a real Temporal dev server (SQLite, WAL, as `make run` has
it), one step doing one small SQLite transaction, sequentially and then 10 at a time, and prints
p50/p95 latency and updates/s for each.

    .venv/bin/python bench/update_cost.py [--updates 300] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from settings import venv_binary  # noqa: E402

STEP_TIMEOUT = timedelta(seconds=30)


class Steps:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("create table if not exists done (key text primary key)")

    @activity.defn
    async def record(self, key: str) -> str:
        self.db.execute("insert or ignore into done values (?)", (key,))
        return key


@workflow.defn(sandboxed=False)
class Order:
    def __init__(self) -> None:
        self.finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.finished)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def decide_local(self, key: str) -> str:
        return await workflow.execute_local_activity_method(
            Steps.record, key, start_to_close_timeout=STEP_TIMEOUT
        )

    @workflow.update
    async def decide_accepted_first(self, key: str) -> str:
        return await workflow.execute_activity_method(
            Steps.record, key, start_to_close_timeout=STEP_TIMEOUT
        )

    @workflow.signal
    def finish(self) -> None:
        self.finished = True


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run_updates(client: Client, queue: str, update: str, count: int, concurrency: int):
    """`count` updates over `concurrency` orders at once: latencies (ms) and updates/s."""
    handles = [
        await client.start_workflow(Order.run, id=f"bench-{uuid4()}", task_queue=queue)
        for _ in range(concurrency)
    ]
    latencies: list[float] = []

    async def drive(handle, n: int) -> None:
        for i in range(n):
            started = time.perf_counter()
            await handle.execute_update(update, f"{handle.id}/{i}", id=f"{handle.id}/{i}")
            latencies.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(drive(h, count // concurrency) for h in handles))
    elapsed = time.perf_counter() - began
    for handle in handles:
        await handle.signal(Order.finish)
    return latencies, len(latencies) / elapsed


async def main(args: argparse.Namespace) -> None:
    temporal = venv_binary("temporal")
    if temporal is None:
        raise SystemExit("the temporal CLI is not installed (make install)")
    with tempfile.TemporaryDirectory() as tmp:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal,
            dev_server_extra_args=[
                "--db-filename",
                str(Path(tmp) / "temporal.db"),
                "--sqlite-pragma",
                "journal_mode=wal",
                "--sqlite-pragma",
                "synchronous=normal",
            ],  # fmt: skip
        )
        async with env:
            steps = Steps(Path(tmp) / "o2c.db")
            queue = f"bench-{uuid4()}"
            async with Worker(
                env.client,
                task_queue=queue,
                workflows=[Order],
                activities=[steps.record],
                workflow_runner=UnsandboxedWorkflowRunner(),
            ):
                await run_updates(env.client, queue, "decide_local", 20, 2)  # warm up
                await run_updates(env.client, queue, "decide_accepted_first", 20, 2)
                for concurrency in (1, args.concurrency):
                    for update, name in (
                        ("decide_local", "local activity (before)"),
                        ("decide_accepted_first", "accepted, then written (now)"),
                    ):
                        latencies, rate = await run_updates(
                            env.client, queue, update, args.updates, concurrency
                        )
                        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
                        print(  # noqa: T201 - a bench's report
                            f"{concurrency:>2} at a time  {name:<30} p50 {p50:6.1f} ms"
                            f"  p95 {p95:6.1f} ms  {rate:6.1f} updates/s"
                        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument(
        "--eager", action="store_true", help="the server hands a scheduled activity straight back"
    )
    asyncio.run(main(parser.parse_args()))
