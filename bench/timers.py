"""Milestone timers under load against the running stack (`make run`): how long after its due
moment the last of many orders is flagged delayed.

Inserts --orders synthetic confirmed orders (numbers BENCH-<run>-<n>, no lines, the demo's first
customer and sales rep) into the app's database (O2C_DATABASE_URL), starts a ShipmentWorkflow for
each on the task queue the worker polls, waits for each shipment's plan_shipment to-do and plans
it as the demo ops user with picking, dispatch and arrival all on the day of one due moment,
--due-in seconds from the start, at the same time of day (ShipmentInput.due_time). Then nobody
confirms anything: at the due moment every order's timer fires and the worker's mark_late step
sets Milestone.late_since and Order.delayed. The bench polls the database and prints, per order,
late_since minus the due moment: how many were flagged, p50/p95/max, and whether all were within
the target (10 s). Afterwards it terminates the bench's workflows and deletes every row they
left (orders, to-dos, milestones, timeline, outbox mail), unless --keep.

Then, unless --no-floor, the engine floor for the same shape: as many bench/floor.py
TimerFloorWorkflows, each sleeping until one shared due moment and then running one no-op local
activity, on a worker inside this process configured like ours (the pydantic data converter, 100
workflow tasks and 50 local activities at a time, task queue bench-timers-floor). Each workflow
returns when its activity ran; the lag is that minus the due moment, reported like ours and
compared with it. The floor runs after our orders are cleaned up, so the two don't share the CPU.
--floor-only runs the floor alone, which needs only Temporal.

    .venv/bin/python bench/timers.py [--orders 2000] [--due-in SECONDS] [--temporal localhost:7233]
        [--task-queue orders] [--concurrency 50] [--wait 180] [--keep] [--strict]
        [--no-floor | --floor-only] [--floor-due-in SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import ColumnElement, Select, Table, delete, func, make_url, or_, select
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError
from temporalio.worker import Worker

from bench import floor
from bench.order_flow import (
    BenchError,
    check_worker,
    connect_temporal,
    first_bench_error,
    percentile,
    reachable,
    say,
)
from models.db import SessionFactory, create_engine, create_session_factory
from models.domain import (
    MILESTONES,
    Actor,
    PlannedMilestone,
    PlanShipment,
    Role,
    ShipmentInput,
    ShippingMode,
    Stage,
    TodoKind,
    TodoStatus,
)
from models.queries import actor_for
from models.tables import Base, Customer, Milestone, Order, OutboxMail, Todo, User
from settings import Settings
from workflows.shipment import ShipmentWorkflow

T = TypeVar("T")

TARGET_SECONDS = 10.0
PREFIX = "BENCH-"
POLL_SECONDS = 0.25
PLAN_TODO_TIMEOUT = 60.0  # seconds without a new plan_shipment to-do before giving up
# Seconds of setting up per order to allow for by default: starting a shipment and planning it
# took 70-85 ms an order on a busy 2-core box (measured 2026-11-24), all through one worker.
SETUP_ALLOWANCE = 0.12
# The floor only starts its workflows (no database, no plan), but the worker took 30 ms an
# order to run their first tasks (2,000 orders, 2-core box, 2026-11-24): allow this much.
FLOOR_SETUP_ALLOWANCE = 0.05


@dataclass
class Run:
    """One bench run: its orders and what was measured."""

    run_id: str
    due_at: datetime  # UTC, whole seconds
    numbers: dict[int, str] = field(default_factory=dict)  # order id -> number
    flagged_at: dict[int, datetime] = field(default_factory=dict)  # order id -> late_since
    seen_after: dict[int, float] = field(default_factory=dict)  # order id -> s after due (poll)
    started_s: float = 0.0  # seconds the workflow starts took
    setup_s: float = 0.0  # seconds from the first start to the last plan

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.run_id}-"

    def workflow_id(self, number: str) -> str:
        return f"order-{number}/shipment"

    def lags(self) -> list[float]:
        return [(at - self.due_at).total_seconds() for at in self.flagged_at.values()]


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; the app stores UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def run_pool(
    items: Iterable[T], concurrency: int, one: Callable[[T], Awaitable[None]]
) -> None:
    """one(item) for every item, `concurrency` at a time."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def lane() -> None:
        while not queue.empty():
            await one(queue.get_nowait())

    async with asyncio.TaskGroup() as group:
        for _ in range(max(1, min(concurrency, queue.qsize()))):
            group.create_task(lane())


# -- the database ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """The seeded rows the bench's orders use."""

    customer_id: int
    owner_id: int
    department_id: int
    ops: Actor


async def cast(session_factory: SessionFactory) -> Cast:
    async with session_factory() as session:
        customer_id = await session.scalar(select(Customer.id).order_by(Customer.id))
        owner = await session.scalar(
            select(User).where(User.role == Role.sales.value, User.active).order_by(User.id)
        )
        ops = await session.scalar(
            select(User).where(User.role == Role.ops.value, User.active).order_by(User.id)
        )
        if customer_id is None or owner is None or ops is None:
            raise BenchError(
                "the database has no customer, active sales rep or active ops user: run "
                "`make run` once (it migrates and seeds the demo company)"
            )
        return Cast(
            customer_id=customer_id,
            owner_id=owner.id,
            department_id=owner.department_id,
            ops=await actor_for(session=session, user=ops),
        )


async def insert_orders(session_factory: SessionFactory, run: Run, count: int, who: Cast) -> None:
    """Confirmed orders without lines (so no stock is reserved), in one transaction."""
    width = Order.__table__.c.number.type.length or 20
    numbers = [f"{run.prefix}{i:05d}" for i in range(1, count + 1)]
    if len(numbers[-1]) > width:
        raise BenchError(f"order numbers like {numbers[-1]} exceed Order.number ({width})")
    now = datetime.now(UTC)
    async with session_factory() as session:
        session.add_all(
            Order(
                number=number,
                customer_id=who.customer_id,
                owner_id=who.owner_id,
                department_id=who.department_id,
                shipping_mode=ShippingMode.domestic.value,
                list_total=Decimal("0"),
                total=Decimal("0"),
                stage=Stage.confirmed.value,
                created_at=now,
                submitted_at=now,
                confirmed_at=now,
                updated_at=now,
            )
            for number in numbers
        )
        await session.commit()
        rows = await session.execute(
            select(Order.id, Order.number).where(Order.number.like(f"{run.prefix}%"))
        )
        run.numbers = {order_id: number for order_id, number in rows}


def bench_orders(run: Run) -> Select:
    return select(Order.id).where(Order.number.like(f"{run.prefix}%"))


async def open_plan_todos(session_factory: SessionFactory, run: Run) -> dict[int, str]:
    """Order id -> key of its open plan_shipment to-do, for the bench's orders."""
    async with session_factory() as session:
        rows = await session.execute(
            select(Todo.order_id, Todo.key).where(
                Todo.order_id.in_(bench_orders(run)),
                Todo.kind == TodoKind.plan_shipment.value,
                Todo.status == TodoStatus.open.value,
            )
        )
        return {order_id: key for order_id, key in rows}


async def flagged(session_factory: SessionFactory, run: Run) -> dict[int, datetime]:
    """Order id -> the moment its first milestone was marked late, for flagged bench orders."""
    async with session_factory() as session:
        rows = await session.execute(
            select(Milestone.order_id, func.min(Milestone.late_since))
            .join(Order, Order.id == Milestone.order_id)
            .where(
                Milestone.order_id.in_(bench_orders(run)),
                Milestone.late_since.is_not(None),
                Order.delayed.is_(True),
            )
            .group_by(Milestone.order_id)
        )
        return {order_id: as_utc(at) for order_id, at in rows}


def owned_rows(run: Run) -> list[tuple[Table, ColumnElement[bool]]]:
    """Every table's rows that hang off the bench's orders by foreign keys (transitively),
    parents first: delete them in reverse."""
    orders = Order.__table__
    where: dict[Table, ColumnElement[bool]] = {orders: orders.c.id.in_(bench_orders(run))}
    for table in Base.metadata.sorted_tables:  # a table comes after those it refers to
        links = [fk for fk in table.foreign_keys if fk.column.table in where]
        if table is orders or not links:
            continue
        where[table] = or_(
            *(fk.parent.in_(select(fk.column).where(where[fk.column.table])) for fk in links)
        )
    return list(where.items())


async def delete_rows(session_factory: SessionFactory, run: Run) -> int:
    """Remove what the bench left in the database; the number of orders removed."""
    async with session_factory() as session:
        orders = await session.scalar(
            select(func.count()).select_from(bench_orders(run).subquery())
        )
        for table, where in reversed(owned_rows(run)):
            await session.execute(delete(table).where(where))
        # Mail has no foreign key: its key starts with the workflow id (order-<number>/...).
        await session.execute(delete(OutboxMail).where(OutboxMail.key.like(f"order-{run.prefix}%")))
        await session.commit()
        return orders or 0


# -- the engine --------------------------------------------------------------------------------


async def start_and_plan(
    client: Client,
    session_factory: SessionFactory,
    run: Run,
    args: argparse.Namespace,
    who: Cast,
) -> None:
    """Start every order's shipment; plan each as soon as its plan_shipment to-do is open."""
    due_time = run.due_at.time().replace(tzinfo=None)
    planned_on = run.due_at.date()
    milestones = [
        PlannedMilestone(code=code, planned_date=planned_on)
        for code in MILESTONES[ShippingMode.domestic]
    ]
    started = time.perf_counter()

    async def start(order_id: int) -> None:
        number = run.numbers[order_id]
        await client.start_workflow(
            ShipmentWorkflow.run,
            ShipmentInput(
                order_id=order_id,
                order_number=number,
                owner_id=who.owner_id,
                shipping_mode=ShippingMode.domestic,
                needs_installation=False,
                due_time=due_time,
            ),
            id=run.workflow_id(number),
            task_queue=args.task_queue,
        )

    async def plan(item: tuple[int, str]) -> None:
        order_id, todo_key = item
        handle = client.get_workflow_handle(run.workflow_id(run.numbers[order_id]))
        await handle.execute_update(
            ShipmentWorkflow.plan,
            PlanShipment(todo_key=todo_key, actor=who.ops, milestones=milestones),
        )

    async def plan_as_opened() -> None:
        planned: set[int] = set()
        last_news = time.monotonic()
        while len(planned) < len(run.numbers):
            todos = await open_plan_todos(session_factory, run)
            new = [(order_id, key) for order_id, key in todos.items() if order_id not in planned]
            if new:
                last_news = time.monotonic()
                await run_pool(new, args.concurrency, plan)
                planned.update(order_id for order_id, _ in new)
            elif time.monotonic() - last_news > PLAN_TODO_TIMEOUT:
                raise BenchError(
                    f"{len(run.numbers) - len(planned)} shipments opened no plan_shipment to-do "
                    f"in {PLAN_TODO_TIMEOUT:.0f} s: is the worker running the current code "
                    "(with ShipmentWorkflow)? Restart `make run`; see the worker's log"
                )
            else:
                await asyncio.sleep(POLL_SECONDS)

    async def start_all() -> None:
        await run_pool(list(run.numbers), args.concurrency, start)
        run.started_s = time.perf_counter() - started

    async with asyncio.TaskGroup() as group:
        group.create_task(start_all())
        group.create_task(plan_as_opened())
    run.setup_s = time.perf_counter() - started


async def terminate(client: Client, run: Run, concurrency: int) -> int:
    """Stop the bench's workflows; how many were still running."""
    stopped = 0

    async def one(number: str) -> None:
        nonlocal stopped
        try:
            await client.get_workflow_handle(run.workflow_id(number)).terminate("bench over")
            stopped += 1
        except RPCError:  # never started, or already closed
            pass

    await run_pool(list(run.numbers.values()), concurrency, one)
    return stopped


# -- the floor: a bare timer workflow on the same server -----------------------------------------


@dataclass
class FloorRun:
    """The floor's workflows and when each ran its no-op step."""

    run_id: str
    due_at: datetime  # UTC, whole seconds
    count: int
    started: set[str] = field(default_factory=set)  # workflow ids
    flagged_at: dict[str, datetime] = field(default_factory=dict)  # workflow id -> its step ran
    armed_at: dict[str, datetime] = field(default_factory=dict)  # workflow id -> timer set
    failed: int = 0
    setup_s: float = 0.0  # seconds the workflow starts took

    def workflow_id(self, n: int) -> str:
        return f"{floor.TIMER_TASK_QUEUE}-{self.run_id}-{n:05d}"

    def lags(self) -> list[float]:
        return [(at - self.due_at).total_seconds() for at in self.flagged_at.values()]

    def armed_late(self) -> list[float]:
        """Seconds after the due moment, for workflows whose first task ran only after it: they
        never slept, so their lag is the worker's backlog, not a timer's."""
        return [
            (at - self.due_at).total_seconds() for at in self.armed_at.values() if at > self.due_at
        ]


def floor_worker(client: Client) -> Worker:
    """Configured as worker.build_worker configures ours, for the floor's one workflow."""
    return Worker(
        client,
        task_queue=floor.TIMER_TASK_QUEUE,
        workflows=[floor.TimerFloorWorkflow],
        activities=[floor.flag_late_noop],
        max_concurrent_workflow_tasks=100,
        max_concurrent_local_activities=50,
    )


async def start_floor(client: Client, run: FloorRun, args: argparse.Namespace) -> None:
    timer = floor.TimerFloorInput(due_at=run.due_at)
    # Ends them should the bench die before it terminates them.
    lifetime = run.due_at - datetime.now(UTC) + timedelta(seconds=args.wait + 60)
    started = time.perf_counter()

    async def start(n: int) -> None:
        workflow_id = run.workflow_id(n)
        run.started.add(workflow_id)  # before the call: it may start and still raise
        await client.start_workflow(
            floor.TimerFloorWorkflow.run, timer, id=workflow_id,
            task_queue=floor.TIMER_TASK_QUEUE, execution_timeout=lifetime,
        )  # fmt: skip

    await run_pool(range(1, run.count + 1), args.concurrency, start)
    run.setup_s = time.perf_counter() - started


async def collect_floor(client: Client, run: FloorRun, args: argparse.Namespace) -> None:
    """Each workflow's result, until all are in or --wait seconds after the due moment."""

    async def one(workflow_id: str) -> None:
        handle = client.get_workflow_handle_for(floor.TimerFloorWorkflow.run, workflow_id)
        try:
            result = await handle.result()
            run.flagged_at[workflow_id] = as_utc(result.flagged_at)
            run.armed_at[workflow_id] = as_utc(result.armed_at)
        except WorkflowFailureError:
            run.failed += 1

    async def progress() -> None:
        while True:
            await asyncio.sleep(5)
            after = (datetime.now(UTC) - run.due_at).total_seconds()
            if after >= 0:  # collected in start order, so behind what has actually run
                say(f"  +{after:4.0f} s: {len(run.flagged_at)}/{run.count} results collected")

    left = (run.due_at - datetime.now(UTC)).total_seconds() + args.wait
    reporter = asyncio.create_task(progress())
    try:
        async with asyncio.timeout(max(0.0, left)):
            await run_pool(sorted(run.started), args.concurrency, one)
    except TimeoutError:
        pass
    finally:
        reporter.cancel()


async def terminate_floor(client: Client, run: FloorRun, concurrency: int) -> int:
    """Stop the floor's workflows that have not returned; how many were still running."""
    stopped = 0

    async def one(workflow_id: str) -> None:
        nonlocal stopped
        try:
            await client.get_workflow_handle(workflow_id).terminate("bench over")
            stopped += 1
        except RPCError:  # never started, or already closed
            pass

    await run_pool(sorted(run.started - set(run.flagged_at)), concurrency, one)
    return stopped


async def floor_phase(client: Client, args: argparse.Namespace) -> FloorRun:
    async with floor_worker(client):
        due_at = (datetime.now(UTC) + timedelta(seconds=args.floor_due_in)).replace(microsecond=0)
        run = FloorRun(run_id=uuid.uuid4().hex[:6], due_at=due_at, count=args.orders)
        say(
            f"floor {run.run_id}: {run.count} TimerFloorWorkflows on {floor.TIMER_TASK_QUEUE}, "
            f"due at {due_at:%H:%M:%S} UTC (in {args.floor_due_in:.0f} s)"
        )
        try:
            await start_floor(client, run, args)
            left = (run.due_at - datetime.now(UTC)).total_seconds()
            if left <= 0:
                raise BenchError(
                    f"starting the floor's workflows took {run.setup_s:.0f} s, past the due "
                    f"time: run again with --floor-due-in of at least {run.setup_s * 1.3 + 10:.0f}"
                )
            say(f"  started in {run.setup_s:.1f} s; the timers fire in {left:.0f} s")
            await collect_floor(client, run, args)
        finally:
            stopped = await terminate_floor(client, run, args.concurrency)
            say(f"  terminated {stopped} floor workflows still running; stopping its worker")
    return run


# -- the run -----------------------------------------------------------------------------------


async def watch(session_factory: SessionFactory, run: Run, wait: float) -> None:
    """Poll until every order is flagged, or `wait` seconds after the due moment."""
    deadline = run.due_at + timedelta(seconds=wait)
    reported = 0.0
    while len(run.flagged_at) < len(run.numbers):
        now = datetime.now(UTC)
        if now > deadline:
            return
        for order_id, at in (await flagged(session_factory, run)).items():
            if order_id not in run.flagged_at:
                run.flagged_at[order_id] = at
                run.seen_after[order_id] = (now - run.due_at).total_seconds()
        after = (now - run.due_at).total_seconds()
        if after >= 0 and after - reported >= 5:
            reported = after
            say(f"  +{after:4.0f} s: {len(run.flagged_at)}/{len(run.numbers)} flagged")
        await asyncio.sleep(POLL_SECONDS)


def within_target(lags: list[float], total: int) -> bool:
    return len(lags) == total and max(lags, default=0.0) <= TARGET_SECONDS


def report(run: Run, args: argparse.Namespace) -> bool:
    total, lags = len(run.numbers), sorted(run.lags())
    say(
        f"ours: {total} orders, milestones due at {run.due_at:%H:%M:%S} UTC; set up in "
        f"{run.setup_s:.1f} s (starts {run.started_s:.1f} s, then planning)"
    )
    say(f"  flagged delayed: {len(lags)}/{total} within {args.wait:.0f} s of the due time")
    if lags:
        say(
            f"  lag (Milestone.late_since - due): p50 {percentile(lags, 50):.2f} s, "
            f"p95 {percentile(lags, 95):.2f} s, max {lags[-1]:.2f} s; first {lags[0]:.2f} s"
        )
        say(f"  last seen by the bench's poll at +{max(run.seen_after.values()):.2f} s")
    ok = within_target(lags, total)
    say(f"  all within {TARGET_SECONDS:.0f} s: {'ok' if ok else 'MISSED'}")
    return ok


def report_floor(run: FloorRun, args: argparse.Namespace) -> bool:
    lags = sorted(run.lags())
    say(
        f"floor: {run.count} TimerFloorWorkflows due at {run.due_at:%H:%M:%S} UTC; started in "
        f"{run.setup_s:.1f} s"
    )
    failed = f" ({run.failed} failed)" if run.failed else ""
    say(f"  done: {len(lags)}/{run.count} within {args.wait:.0f} s of the due time{failed}")
    if lags:
        say(
            f"  lag (local activity's now - due): p50 {percentile(lags, 50):.2f} s, "
            f"p95 {percentile(lags, 95):.2f} s, max {lags[-1]:.2f} s; first {lags[0]:.2f} s"
        )
    if run.armed_at:
        last = max(run.armed_at.values())
        say(f"  last timer set {(run.due_at - last).total_seconds():.1f} s before the due moment")
    ok = within_target(lags, run.count)
    say(f"  all within {TARGET_SECONDS:.0f} s: {'ok' if ok else 'MISSED'}")
    if late := run.armed_late():
        say(
            f"  NOT A FLOOR: {len(late)} workflows first ran only after the due moment (up to "
            f"{max(late):.1f} s after), so the worker's backlog is in their lag: run again with "
            f"--floor-due-in of at least {args.floor_due_in + max(late) + 10:.0f}"
        )
        return False
    return ok


def compare(ours: Run, floor_run: FloorRun) -> None:
    """Ours next to the floor, by the slowest order (what the target is about)."""
    mine, bare = sorted(ours.lags()), sorted(floor_run.lags())
    if not (mine and bare):
        return
    missing = len(ours.numbers) - len(mine)
    unflagged = f" ({missing} never flagged, so more)" if missing else ""
    say(
        f"ours / floor: max lag {mine[-1]:.2f} s{unflagged} against the engine floor's "
        f"{bare[-1]:.2f} s ({mine[-1] / max(bare[-1], 0.001):.1f}x); p50 "
        f"{percentile(mine, 50):.2f} s against {percentile(bare, 50):.2f} s"
    )


async def our_phase(client: Client, namespace: str, args: argparse.Namespace) -> Run:
    settings = Settings()
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    await check_worker(client, namespace, args.task_queue)
    engine = create_engine(settings.database_url)
    session_factory = create_session_factory(engine)
    try:
        who = await cast(session_factory)
        due_at = (datetime.now(UTC) + timedelta(seconds=args.due_in)).replace(microsecond=0)
        run = Run(run_id=uuid.uuid4().hex[:6], due_at=due_at)
        say(
            f"run {run.run_id}: {args.orders} orders in {database}, due at "
            f"{due_at:%H:%M:%S} UTC (in {args.due_in:.0f} s)"
        )
        await insert_orders(session_factory, run, args.orders, who)
        try:
            await start_and_plan(client, session_factory, run, args, who)
            left = (run.due_at - datetime.now(UTC)).total_seconds()
            if left <= 0:
                raise BenchError(
                    f"setting up took {run.setup_s:.0f} s, past the due time: run again with "
                    f"--due-in of at least {run.setup_s * 1.3 + 15:.0f}"
                )
            say(f"  set up in {run.setup_s:.1f} s; the milestones fall due in {left:.0f} s")
            await watch(session_factory, run, args.wait)
            return run
        finally:
            stopped = await terminate(client, run, args.concurrency)
            say(f"  terminated {stopped} bench workflows")
            if args.keep:
                say(f"  kept the rows: orders {run.prefix}*")
            else:
                await asyncio.sleep(1)  # activities in flight when terminated finish first
                deleted = await delete_rows(session_factory, run)
                say(f"  deleted {deleted} bench orders and every row they left")
    finally:
        await engine.dispose()


async def bench(args: argparse.Namespace) -> bool:
    host, _, port = args.temporal.rpartition(":")
    if not await reachable(host or "localhost", int(port)):
        raise BenchError(
            f"nothing listens for Temporal at {args.temporal}: start the stack with `make run` "
            "(or pass --temporal)"
        )
    namespace = os.environ.get("O2C_TEMPORAL_NAMESPACE", "default")
    client = await connect_temporal(args.temporal, namespace)
    if args.floor_only:
        return report_floor(await floor_phase(client, args), args)
    ours = await our_phase(client, namespace, args)
    ok = report(ours, args)
    if args.floor:
        say()
        floor_run = await floor_phase(client, args)
        report_floor(floor_run, args)
        compare(ours, floor_run)
    return ok


async def main(args: argparse.Namespace) -> int:
    try:
        ok = await bench(args)
    except Exception as error:  # BenchError, perhaps inside a task group's
        problem = first_bench_error(error)
        if problem is None:
            raise
        say(f"bench: {problem}")
        return 2
    return 0 if ok or not args.strict else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders (default 2000)")
    parser.add_argument(
        "--due-in", type=float, default=None,
        help="seconds from now to the milestones' due moment; setting up must finish first "
        f"(default: 90, or {SETUP_ALLOWANCE} s per order plus 30 when that is more)",
    )  # fmt: skip
    parser.add_argument("--temporal", default="localhost:7233", help="the Temporal frontend")
    parser.add_argument("--task-queue", default="orders", help="our worker's task queue")
    parser.add_argument("--concurrency", type=int, default=50, help="starts/updates in flight")
    parser.add_argument(
        "--wait", type=float, default=180,
        help="seconds after the due moment to wait at most for the last order (180)",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the bench's rows afterwards")
    parser.add_argument(
        "--strict", action="store_true",
        help="exit 1 when the target is missed (by ours; with --floor-only, by the floor)",
    )  # fmt: skip
    sides = parser.add_mutually_exclusive_group()
    sides.add_argument(
        "--no-floor", dest="floor", action="store_false",
        help="skip the engine floor that otherwise runs after ours",
    )  # fmt: skip
    sides.add_argument(
        "--floor-only", action="store_true",
        help="run only the engine floor (needs Temporal, not our worker or database)",
    )  # fmt: skip
    parser.add_argument(
        "--floor-due-in", type=float, default=None,
        help="seconds from the floor's start to its due moment (default: 20, or "
        f"{FLOOR_SETUP_ALLOWANCE} s per order plus 10 when that is more)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.orders < 1 or args.orders > 99_999:
        parser.error("--orders must be between 1 and 99999")
    if args.due_in is None:
        args.due_in = max(90.0, 30 + SETUP_ALLOWANCE * args.orders)
    if args.floor_due_in is None:
        args.floor_due_in = max(20.0, 10 + FLOOR_SETUP_ALLOWANCE * args.orders)
    return args


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except KeyboardInterrupt:
        sys.exit(130)
