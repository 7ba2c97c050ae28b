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

    .venv/bin/python bench/timers.py [--orders 2000] [--due-in SECONDS] [--temporal localhost:7233]
        [--task-queue orders] [--concurrency 50] [--wait 180] [--keep] [--strict]
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
from temporalio.client import Client
from temporalio.service import RPCError

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


def report(run: Run, args: argparse.Namespace) -> bool:
    total, lags = len(run.numbers), sorted(run.lags())
    say(
        f"{total} orders, milestones due at {run.due_at:%H:%M:%S} UTC; set up in "
        f"{run.setup_s:.1f} s (starts {run.started_s:.1f} s, then planning)"
    )
    say(f"  flagged delayed: {len(lags)}/{total} within {args.wait:.0f} s of the due time")
    if lags:
        say(
            f"  lag (Milestone.late_since - due): p50 {percentile(lags, 50):.2f} s, "
            f"p95 {percentile(lags, 95):.2f} s, max {lags[-1]:.2f} s; first {lags[0]:.2f} s"
        )
        say(f"  last seen by the bench's poll at +{max(run.seen_after.values()):.2f} s")
    ok = len(lags) == total and lags[-1] <= TARGET_SECONDS
    say(f"  all within {TARGET_SECONDS:.0f} s: {'ok' if ok else 'MISSED'}")
    return ok


async def bench(args: argparse.Namespace) -> bool:
    settings = Settings()
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    host, _, port = args.temporal.rpartition(":")
    if not await reachable(host or "localhost", int(port)):
        raise BenchError(
            f"nothing listens for Temporal at {args.temporal}: start the stack with `make run` "
            "(or pass --temporal)"
        )
    namespace = os.environ.get("O2C_TEMPORAL_NAMESPACE", "default")
    client = await connect_temporal(args.temporal, namespace)
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
            return report(run, args)
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


async def main(args: argparse.Namespace) -> int:
    try:
        ok = await bench(args)
    except Exception as error:  # noqa: BLE001 - BenchError, perhaps inside a task group's
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
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.orders > 99_999:
        parser.error("--orders must be between 1 and 99999")
    if args.due_in is None:
        args.due_in = max(90.0, 30 + SETUP_ALLOWANCE * args.orders)
    return args


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except KeyboardInterrupt:
        sys.exit(130)
