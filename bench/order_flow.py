"""Order throughput against the running stack (`make run`), compared with the engine floor.

Drives N orders through submit -> estimate -> approve -> confirmed with the JSON API only, as
the demo users, then runs the same number of orders through a bare workflow on the same Temporal
server (bench/floor.py: two updates per order, each running one no-op activity, with its own
worker in this process), and prints both and ours as a ratio of the floor.

    .venv/bin/python bench/order_flow.py [--orders 200] [--concurrency 10]
        [--url http://localhost:8000] [--temporal localhost:7233]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

# Targets (DESIGN principle 7): the engine, not our code, is the bottleneck.
MIN_THROUGHPUT_RATIO = 0.70
MAX_P95_RATIO = 1.5

ORDER = {  # 2 x PUMP-10 + 10 x VALVE-3 (5 % off): 28,400.00 for customer 1; one approver
    "customer_id": 1,
    "shipping_mode": "domestic",
    "requested_delivery_date": "2027-01-15",
    "lines": [
        {"product_id": 3, "quantity": "2"},
        {"product_id": 4, "quantity": "10", "discount_percent": "5"},
    ],
}


class BenchError(Exception):
    """Something the bench needs is missing; the message says what to do."""


def say(text: str = "") -> None:
    print(text, flush=True)  # noqa: T201 - a command's output


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def demo_password() -> str:
    if password := os.environ.get("O2C_DEMO_PASSWORD"):
        return password
    path = ROOT / ".data" / "demo_password"
    if path.exists():
        return path.read_text().strip()
    raise BenchError(
        "no demo password: set O2C_DEMO_PASSWORD or run `make run` once (it writes "
        f"{path.relative_to(ROOT)})"
    )


@dataclass
class Result:
    orders: int
    seconds: float
    latencies: list[float]  # seconds, one per to-do completion / update
    polls: int = 0
    phases: dict[str, list[float]] = field(default_factory=dict)  # seconds per order and phase

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds

    def ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


async def run_pool(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Run one(i) for i in range(count), `concurrency` at a time; the wall time in seconds."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def lane() -> None:
        while not queue.empty():
            await one(queue.get_nowait())

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, count)):
            group.create_task(lane())
    return time.perf_counter() - started


# -- the app through its JSON API ------------------------------------------------------------


class Api:
    """One pooled HTTP client; a bearer token per demo user."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.tokens: dict[str, dict[str, str]] = {}

    async def login(self, username: str, password: str) -> None:
        response = await self.http.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        if response.status_code == 401:
            raise BenchError(
                f"login as {username} refused: wrong demo password (set O2C_DEMO_PASSWORD to "
                "the one `make run` printed) or the database is not seeded"
            )
        expect(response, 200)
        self.tokens[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def call(
        self, user: str, method: str, path: str, status: int, **kwargs
    ) -> httpx.Response:
        response = await self.http.request(method, path, headers=self.tokens[user], **kwargs)
        expect(response, status)
        return response


def expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise BenchError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, expected {status}: {response.text[:300]}"
        )


@dataclass
class Watcher:
    """One poller per user for everything the in-flight orders wait on: a single GET serves
    every waiter, and it polls only while someone waits."""

    api: Api
    user: str
    path: str
    params: dict[str, str]
    key: Callable[[dict], tuple]
    interval: float
    timeout: float = 60.0
    polls: int = 0
    waiters: dict[tuple, asyncio.Future] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, key: tuple) -> dict:
        future = asyncio.get_running_loop().create_future()
        self.waiters[key] = future
        self.wake.set()
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            raise BenchError(
                f"{key} did not show up for {self.user} at {self.path} within "
                f"{self.timeout:.0f} s: is the worker (`python worker.py`) running on this "
                "database and Temporal server?"
            ) from None
        finally:
            self.waiters.pop(key, None)

    async def run(self) -> None:
        while True:
            if not self.waiters:
                self.wake.clear()
                await self.wake.wait()
            response = await self.api.call(self.user, "GET", self.path, 200, params=self.params)
            self.polls += 1
            items = response.json()
            for item in items if isinstance(items, list) else items["items"]:
                future = self.waiters.get(self.key(item))
                if future is not None and not future.done():
                    future.set_result(item)
            await asyncio.sleep(self.interval)


async def check_web(http: httpx.AsyncClient, url: str) -> None:
    try:
        response = await http.get("/api/v1/me")
    except httpx.TransportError as error:
        raise BenchError(
            f"the web app does not answer at {url} ({type(error).__name__}): start the stack "
            "with `make run` (or pass --url)"
        ) from None
    if response.status_code != 401:
        raise BenchError(f"{url}/api/v1/me answered {response.status_code}; is it this app?")


async def bench_app(args: argparse.Namespace, password: str) -> Result:
    limits = httpx.Limits(max_connections=args.concurrency + 8, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=60) as http:
        await check_web(http, args.url)
        api = Api(http)
        await asyncio.gather(
            *(api.login(u, password) for u in ("sales", "pricing", "sales_manager"))
        )
        products = (await api.call("pricing", "GET", "/api/v1/products", 200)).json()
        cost = {p["id"]: p["standard_cost"] for p in products}

        todo_key = lambda t: (t["order_number"], t["kind"])  # noqa: E731
        pricing = Watcher(api, "pricing", "/api/v1/todos", {}, todo_key, args.poll_interval)
        manager = Watcher(api, "sales_manager", "/api/v1/todos", {}, todo_key, args.poll_interval)
        confirmed = Watcher(
            api, "sales", "/api/v1/orders", {"stage": "confirmed", "per_page": "50"},
            lambda o: (o["number"],), args.poll_interval,
        )  # fmt: skip
        watchers = [pricing, manager, confirmed]
        latencies: list[float] = []

        async def complete(user: str, todo_id: int, body: dict) -> None:
            started = time.perf_counter()
            await api.call(user, "POST", f"/api/v1/todos/{todo_id}/complete", 200, json=body)
            latencies.append(time.perf_counter() - started)

        phases: dict[str, list[float]] = {}

        async def one_order(_: int) -> None:
            clock = [time.perf_counter()]

            def lap(phase: str) -> None:
                clock.append(time.perf_counter())
                phases.setdefault(phase, []).append(clock[-1] - clock[-2])

            number = (await api.call("sales", "POST", "/api/v1/orders", 201, json=ORDER)).json()[
                "number"
            ]
            lap("create")
            order = (await api.call("sales", "GET", f"/api/v1/orders/{number}", 200)).json()
            lines = [
                {"line_id": ln["id"], "unit_cost": cost[ln["product_id"]]} for ln in order["lines"]
            ]
            lap("read")
            await api.call("sales", "POST", f"/api/v1/orders/{number}/submit", 202)
            lap("submit")
            estimate = await pricing.wait((number, "estimate_cost"))
            lap("await estimate to-do")
            await complete(
                "pricing",
                estimate["id"],
                {"outcome": "estimated", "lines": lines, "freight": "400"},
            )
            lap("estimate")
            approve = await manager.wait((number, "approve"))
            lap("await approve to-do")
            await complete("sales_manager", approve["id"], {"outcome": "approve"})
            lap("approve")
            await confirmed.wait((number,))
            lap("await confirmed")

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(w.run()) for w in watchers]
            try:
                if args.warmup:
                    await run_pool(args.warmup, args.concurrency, one_order)
                latencies.clear()
                phases.clear()
                polls_before = sum(w.polls for w in watchers)
                seconds = await run_pool(args.orders, args.concurrency, one_order)
                polls = sum(w.polls for w in watchers) - polls_before
            finally:
                for task in tasks:
                    task.cancel()
        return Result(args.orders, seconds, latencies, polls, phases)


# -- the floor: a bare workflow on the same server ------------------------------------------


async def reachable(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 3)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def check_ports(args: argparse.Namespace) -> None:
    """Before anything heavy: is something listening where the stack should be?"""
    web = httpx.URL(args.url)
    host, _, port = args.temporal.rpartition(":")
    web_up, temporal_up = await asyncio.gather(
        reachable(web.host, web.port or 80), reachable(host or "localhost", int(port))
    )
    down = [
        what
        for what, up in (
            (f"the web app at {args.url}", web_up),
            (f"Temporal at {args.temporal}", temporal_up),
        )
        if not up and (args.phase != "floor" or what.startswith("Temporal"))
    ]
    if down:
        raise BenchError(
            f"nothing listens for {' and '.join(down)}: start the stack with `make run` "
            "(or pass --url / --temporal)"
        )


async def connect_temporal(address: str, namespace: str):  # noqa: ANN201
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    try:
        return await asyncio.wait_for(
            Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter),
            10,
        )
    except (RuntimeError, TimeoutError) as error:
        raise BenchError(
            f"Temporal does not answer at {address} ({str(error)[:200] or 'timeout'}): start "
            "the stack with `make run` (or pass --temporal)"
        ) from None


async def check_worker(client, namespace: str, task_queue: str) -> None:  # noqa: ANN001
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    if not described.pollers:
        raise BenchError(
            f"no worker polls task queue {task_queue!r} on this Temporal server: start "
            "`python worker.py` (`make run` does)"
        )


async def bench_floor(args: argparse.Namespace, client) -> Result:  # noqa: ANN001
    from temporalio.worker import Worker

    sys.path.insert(0, str(ROOT))
    from bench.floor import STEPS, TASK_QUEUE, FloorStep, FloorWorkflow, floor_noop

    run_id = uuid.uuid4().hex[:8]
    latencies: list[float] = []

    async def one_order(i: int) -> None:
        handle = await client.start_workflow(
            FloorWorkflow.run, STEPS, id=f"bench-floor-{run_id}-{i}", task_queue=TASK_QUEUE
        )
        for step in range(1, STEPS + 1):
            started = time.perf_counter()
            await handle.execute_update(FloorWorkflow.step, FloorStep(step=step))
            latencies.append(time.perf_counter() - started)
        await handle.result()

    async with Worker(
        client, task_queue=TASK_QUEUE, workflows=[FloorWorkflow], activities=[floor_noop]
    ):
        if args.warmup:
            run_id += "w"
            await run_pool(args.warmup, args.concurrency, one_order)
            run_id = run_id[:-1]
        latencies.clear()
        seconds = await run_pool(args.orders, args.concurrency, one_order)
    return Result(args.orders, seconds, latencies)


# -- the report ------------------------------------------------------------------------------


def report(ours: Result | None, floor: Result | None, args: argparse.Namespace) -> bool:
    say(f"{args.orders} orders, {args.concurrency} at a time")
    if ours:
        say(
            f"  ours : {ours.per_second:7.2f} orders/s ({ours.seconds:.1f} s); "
            f"POST /api/v1/todos/{{id}}/complete p50 {ours.ms(50):6.1f} ms, "
            f"p95 {ours.ms(95):6.1f} ms ({len(ours.latencies)} calls; "
            f"{ours.polls / ours.orders:.1f} polling GETs per order)"
        )
        say(
            "         mean ms per order: "
            + ", ".join(f"{k} {1000 * sum(v) / len(v):.0f}" for k, v in ours.phases.items())
        )
    if floor:
        say(
            f"  floor: {floor.per_second:7.2f} orders/s ({floor.seconds:.1f} s); "
            f"update p50 {floor.ms(50):6.1f} ms, p95 {floor.ms(95):6.1f} ms "
            f"({len(floor.latencies)} updates)"
        )
    if not (ours and floor):
        return True
    throughput = ours.per_second / floor.per_second
    p95 = ours.ms(95) / floor.ms(95)
    ok_throughput, ok_p95 = throughput >= MIN_THROUGHPUT_RATIO, p95 <= MAX_P95_RATIO
    say(
        f"  ours / floor: throughput {throughput:.0%} (target >= {MIN_THROUGHPUT_RATIO:.0%}: "
        f"{'ok' if ok_throughput else 'MISSED'}), p95 complete {p95:.2f}x "
        f"(target <= {MAX_P95_RATIO}x: {'ok' if ok_p95 else 'MISSED'})"
    )
    return ok_throughput and ok_p95


def first_bench_error(error: BaseException) -> BenchError | None:
    if isinstance(error, BenchError):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if found := first_bench_error(inner):
                return found
    return None


async def main(args: argparse.Namespace) -> int:
    namespace = os.environ.get("O2C_TEMPORAL_NAMESPACE", "default")
    try:
        password = demo_password() if args.phase != "floor" else ""
        await check_ports(args)
        client = await connect_temporal(args.temporal, namespace)
        if args.phase != "floor":
            await check_worker(client, namespace, args.task_queue)
        ours = await bench_app(args, password) if args.phase != "floor" else None
        floor = await bench_floor(args, client) if args.phase != "app" else None
    except Exception as error:  # noqa: BLE001 - BenchError, perhaps inside a task group's
        problem = first_bench_error(error)
        if problem is None:
            raise
        say(f"bench: {problem}")
        return 2
    return 0 if report(ours, floor, args) or not args.strict else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200, help="orders to time (default 200)")
    parser.add_argument("--concurrency", type=int, default=10, help="orders in flight (10)")
    parser.add_argument("--url", default="http://localhost:8000", help="the web app")
    parser.add_argument("--temporal", default="localhost:7233", help="the Temporal frontend")
    parser.add_argument("--task-queue", default="orders", help="our worker's task queue")
    parser.add_argument("--warmup", type=int, default=5, help="untimed orders first (5)")
    parser.add_argument(
        "--poll-interval", type=float, default=0.05,
        help="seconds between inbox polls while an order waits for its to-do (0.05)",
    )  # fmt: skip
    parser.add_argument(
        "--phase", choices=("both", "app", "floor"), default="both",
        help="run ours, the floor, or both (default)",
    )  # fmt: skip
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except KeyboardInterrupt:
        sys.exit(130)
