"""Order throughput against the running stack (`make run`), compared with the engine floor.

Drives N orders through their whole life with the JSON API only, as the demo users: submit ->
estimate -> two-stage approval (sales manager, then director) -> confirmed -> the deposit (30 %,
due on confirmation) registered and confirmed -> actual costs recorded (8 % over the expected
cost, one final batch) and approved -> an invoice for the total applied for and issued -> plan,
dispatch, arrival (accepted) -> the balance (70 %, due on acceptance) registered and confirmed
-> the variance reviewed and approved by the operations manager -> closed (--until stops
earlier: paid, accepted, confirmed). Then it runs the same number of orders through a bare
workflow on the same Temporal server (bench/floor.py: as many updates per order as ours made,
each running one no-op activity, with its own worker in this process), and prints both and ours
as a ratio of the floor.

With --change-rate and --cancel-rate ours also runs a second batch of as many orders in which
that share of them (every n-th) has its delivery date changed through an approved change
request, or is cancelled after confirmation through the manager's approval and finance's refund,
and prints both batches: orders/s and update p95 with and without them, in the same run.
--return-rate adds orders that, once accepted, return one unit (the manager approves, the
warehouse receive and restock it) and are invoiced and paid on their net total (--until closed).

    .venv/bin/python bench/order_flow.py [--orders 200] [--concurrency 10]
        [--url http://localhost:8000] [--temporal localhost:7233] [--rounds 1]
        [--until closed|paid|accepted|confirmed] [--change-rate 0.2] [--cancel-rate 0.1]
        [--return-rate 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cpu import STACK, CpuMeter  # noqa: E402

# Targets (DESIGN principle 7): the engine, not our code, is the bottleneck.
MIN_THROUGHPUT_RATIO = 0.70
MAX_P95_RATIO = 1.5

# Two stages of approval (20 % off), and products the seed stocks deeply (2,000 sensors, 5,000 m
# of belt), so that several runs of 200 orders can be dispatched; none needs installation, so an
# order is accepted on arrival.
PRODUCTS = {"SENSOR-7": "4", "BELT-90": "10"}
USERS = (
    "sales",
    "pricing",
    "sales_manager",
    "director",
    "admin",
    "ops",
    "warehouse",
    "finance",
    "ops_manager",
)
# --until closed: the customer pays a deposit when the order is confirmed and the balance when
# it is accepted; the actual costs come in 8 % over the expected cost, above the variance
# policy's default threshold of 5 %, so ops explain it and the operations manager approves it.
PAYMENT_PLAN = [
    {"percent": "30", "trigger": "confirmation"},
    {"percent": "70", "trigger": "acceptance"},
]
COST_OVERRUN = Decimal("1.08")
CENT = Decimal("0.01")
# Workflow updates per order (to-do completions, payments registered, invoices applied for) for
# each --until; the floor takes as many as our run actually made.
UPDATES = {"confirmed": 3, "accepted": 6, "paid": 8, "closed": 16}
# While the bench runs, the approval policy is exactly two stages: the owner's manager, then the
# director for a discount of 20 % or more (the standard policy would add finance once the bench's
# confirmed orders push the customer over its credit limit). The policy in force before is saved
# again as a new version afterwards.
BENCH_POLICY = {
    "stages": [
        {
            "position": 1,
            "requirements": [{"code": "sales_manager", "decider": {"kind": "department_manager"}}],
        },
        {
            "position": 2,
            "requirements": [
                {
                    "code": "director",
                    "decider": {"kind": "role", "role": "director"},
                    "when": [{"kind": "discount_at_least", "value": "20"}],
                }
            ],
        },
    ],
    "notify": [],
}
# --change-rate, --cancel-rate: what a changed order asks for, and why a cancelled one ends.
ORDER_KINDS = ("plain", "changed", "cancelled", "returned")
CHANGE_PATH = "/api/v1/orders/{number}/change-requests"
CHANGE_REASON = "Bench: the customer asks for a later delivery."
CHANGE_DELAY = timedelta(days=30)  # the new delivery date: 30 days after the one entered
CANCEL_BODY = {"reason_code": "customer_request", "reason": "Bench: the customer withdrew."}
RETURN_REASON = "Bench: one unit arrived damaged and is not replaced."
APPROVE = {"outcome": "approve"}
# Exit statuses besides 0: a missed target with --strict, a bench error, change requests that
# this stack does not offer (--change-rate asked for them).
EXIT_MISSED, EXIT_ERROR, EXIT_NO_CHANGES = 1, 2, 3


class BenchError(Exception):
    """Something the bench needs is missing or went wrong; the message says what to do."""


class ChangesUnavailable(BenchError):
    """The stack has no change-request endpoint (yet): --change-rate cannot be measured."""


def changes_unavailable(how: str) -> str:
    return (
        f"change requests are not available on this stack (POST {CHANGE_PATH} {how}): "
        "--change-rate cannot be measured"
    )


def order_kinds(
    count: int,
    change_rate: float,
    cancel_rate: float,
    return_rate: float = 0.0,
    *,
    at_least_one: bool = False,
) -> list[str]:
    """What each of `count` orders does, by its index: "cancelled" for count x cancel_rate of
    them (half up) and "changed" for count x change_rate, each spread evenly over the batch
    (every n-th; a change moves to the next plain order when it meets a cancellation), the
    rest "plain" (and "returned" for count x return_rate, after those). The same options give
    the same choice. `at_least_one`: a rate above 0 picks
    one order at least (for the warm-up, which tries every path once)."""
    kinds = ["plain"] * count
    shares = (("cancelled", cancel_rate), ("changed", change_rate), ("returned", return_rate))
    for kind, share in shares:
        wanted = int(count * share + 0.5)
        if at_least_one and share > 0:
            wanted = max(wanted, 1)
        wanted = min(wanted, kinds.count("plain"))
        for k in range(wanted):
            i = int((k + 0.5) * count / wanted)
            while kinds[i] != "plain":
                i = (i + 1) % count
            kinds[i] = kind
    return kinds


def milestone_plan(today: date, first_day: int = 1) -> list[dict[str, str]]:
    """A domestic shipment's milestones on consecutive days from `first_day` days ahead."""
    return [
        {"code": code, "planned_date": (today + timedelta(days=i)).isoformat()}
        for i, code in enumerate(("picking", "dispatch", "arrival"), start=first_day)
    ]


def settlement(number: str, todo: dict, order: dict, nth: int, today: date) -> dict:
    """Finance's completion of a cancelled order's `nth` refund or credit note to-do: the refund
    pending in full, or a credit note number of its own (CN-<order number>-<n>)."""
    if todo["kind"] == "issue_credit_note":
        return {"outcome": "issued", "credit_note_number": f"CN-{number}-{nth}"}
    pending = [r["amount"] for r in order.get("refunds", []) if r["status"] == "pending"]
    amount = pending[0] if pending else str(Decimal(order["paid"]) - Decimal(order["refunded"]))
    return {
        "outcome": "refunded",
        "amount": amount,
        "paid_on": today.isoformat(),
        "method": "bank_transfer",
        "reference": f"RF-{number}-{nth}",
    }


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
    """What a side measured, summed over its rounds."""

    orders: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # one per update (API call or floor's)
    polls: int = 0
    phases: dict[str, list[float]] = field(default_factory=dict)  # per order and phase
    calls: dict[str, list[float]] = field(default_factory=dict)  # per kind of update call
    lifetimes: list[float] = field(default_factory=list)  # per order, submit to the last stop
    updates: Counter[int] = field(default_factory=Counter)  # orders by updates made
    cpu: Counter[str] = field(default_factory=Counter)  # CPU seconds per process (bench/cpu.py)
    # By what the order did (plain, changed, cancelled): its lifetimes and its update calls.
    kind_lifetimes: dict[str, list[float]] = field(default_factory=dict)
    kind_latencies: dict[str, list[float]] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds

    def ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000

    def cpu_ms(self) -> dict[str, float]:
        """CPU ms per order of each process measured."""
        return {name: 1000 * seconds / self.orders for name, seconds in self.cpu.items()}


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


# -- ours, through the JSON API --------------------------------------------------------------


def expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise BenchError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, expected {status}: {response.text[:300]}"
        )


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

    async def send(self, user: str, method: str, path: str, **kwargs) -> httpx.Response:
        return await self.http.request(method, path, headers=self.tokens[user], **kwargs)

    async def call(
        self, user: str, method: str, path: str, status: int, **kwargs
    ) -> httpx.Response:
        response = await self.send(user, method, path, **kwargs)
        expect(response, status)
        return response


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
    failure: BaseException | None = None
    waiters: dict[tuple, asyncio.Future] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(
        self, key: tuple, fallback: Callable[[], Awaitable[dict | None]] | None = None
    ) -> dict:
        """The item with this key once a poll shows it; `fallback` asks directly every few
        seconds, for an item that may have slipped off the polled page."""
        if self.failure:
            raise self.failure
        future = asyncio.get_running_loop().create_future()
        self.waiters[key] = future
        self.wake.set()
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                try:
                    return await asyncio.wait_for(
                        asyncio.shield(future), max(0.0, min(5.0, deadline - time.monotonic()))
                    )
                except TimeoutError:
                    if fallback is not None and (found := await fallback()) is not None:
                        return found
                    if time.monotonic() >= deadline:
                        break
            raise BenchError(
                f"{key} did not show up for {self.user} at {self.path} within "
                f"{self.timeout:.0f} s: is the worker (`python worker.py`) running on this "
                "database and Temporal server?"
            )
        finally:
            self.waiters.pop(key, None)

    async def run(self) -> None:
        try:
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
        except Exception as error:  # handed to every waiter
            self.failure = error
            for future in self.waiters.values():
                if not future.done():
                    future.set_exception(error)


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


async def change_requests_offered(http: httpx.AsyncClient) -> str | None:
    """None when the app's API has the change-request call, else why not (its OpenAPI
    document lacks it)."""
    response = await http.get("/openapi.json")
    if response.status_code != 200:
        return None  # no document to read: the first change request will tell
    route = response.json().get("paths", {}).get(CHANGE_PATH, {})
    return None if "post" in route else changes_unavailable("is not in /openapi.json")


class AppBench:
    """Orders through the JSON API, from a new draft to the stop --until names (closed). Its
    batches are plain (every order to --until) or mixed (--change-rate of them changed,
    --cancel-rate cancelled), each measured in its own Result."""

    def __init__(self, args: argparse.Namespace, password: str) -> None:
        self.args = args
        self.password = password
        self.results = {"plain": Result(), "mixed": Result()}
        self.updates_made: Counter[int] = Counter()  # plain orders by updates made, warm-up too
        self.change_rate: float = args.change_rate
        self.changes_missing: str | None = None  # why --change-rate cannot be measured

    async def __aenter__(self) -> AppBench:
        args = self.args
        self.exit = AsyncExitStack()
        limits = httpx.Limits(max_connections=args.concurrency + 8, max_keepalive_connections=64)
        http = await self.exit.enter_async_context(
            httpx.AsyncClient(base_url=args.url, limits=limits, timeout=60)
        )
        await check_web(http, args.url)
        if self.change_rate and (missing := await change_requests_offered(http)):
            if not args.cancel_rate:
                raise ChangesUnavailable(missing)
            say(f"bench: {missing}; the mixed batch cancels orders only")
            self.changes_missing, self.change_rate = missing, 0.0
        self.api = api = Api(http)
        await asyncio.gather(*(api.login(user, self.password) for user in USERS))
        products = (await api.call("pricing", "GET", "/api/v1/products", 200)).json()
        self.cost = {p["id"]: p["standard_cost"] for p in products}
        ids = {p["code"]: p["id"] for p in products}
        self.order = {
            "customer_id": 1,
            "shipping_mode": "domestic",
            "requested_delivery_date": (date.today() + timedelta(days=60)).isoformat(),
            "lines": [
                {"product_id": ids[code], "quantity": quantity, "discount_percent": "20"}
                for code, quantity in PRODUCTS.items()
            ],
        }
        if args.until == "closed":
            self.order["payment_plan"] = PAYMENT_PLAN
        policy = (await api.call("admin", "GET", "/api/v1/policy/approval", 200)).json()
        self.policy_before = {"stages": policy["stages"], "notify": policy["notify"]}
        await api.call("admin", "PUT", "/api/v1/policy/approval", 200, json=BENCH_POLICY)

        def todo_key(todo: dict) -> tuple:
            return todo["order_number"], todo["kind"]

        interval = args.poll_interval
        self.pricing = Watcher(api, "pricing", "/api/v1/todos", {}, todo_key, interval)
        self.manager = Watcher(api, "sales_manager", "/api/v1/todos", {}, todo_key, interval)
        self.director = Watcher(api, "director", "/api/v1/todos", {}, todo_key, interval)
        # A confirmed order goes straight on into fulfilment (ops plan its shipment).
        self.confirmed = Watcher(
            api, "sales", "/api/v1/orders", {"stage": "fulfilment", "per_page": "50"},
            lambda order: (order["number"],), interval,
        )  # fmt: skip
        self.watchers = [self.pricing, self.manager, self.director, self.confirmed]
        self.tasks = [asyncio.create_task(w.run()) for w in self.watchers]
        return self

    async def __aexit__(self, *_: object) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.api.call("admin", "PUT", "/api/v1/policy/approval", 200, json=self.policy_before)
        await self.exit.aclose()

    @property
    def updates_per_order(self) -> int | None:
        """The updates our orders made, for the floor: the commonest count so far."""
        return self.updates_made.most_common(1)[0][0] if self.updates_made else None

    async def run(self, count: int, *, timed: bool = True, mixed: bool = False) -> None:
        """`count` orders, --concurrency at a time: all plain, or (`mixed`) every n-th changed
        or cancelled as --change-rate and --cancel-rate say (in the untimed warm-up one of
        each at least, so every path is tried before the timed orders)."""
        api, args = self.api, self.args
        until = args.until
        kinds = ["plain"] * count
        if mixed:
            kinds = order_kinds(
                count,
                self.change_rate,
                args.cancel_rate,
                args.return_rate,
                at_least_one=not timed,
            )
        latencies: list[float] = []
        calls: dict[str, list[float]] = {}
        phases: dict[str, list[float]] = {}
        lifetimes: list[float] = []
        kind_lifetimes: dict[str, list[float]] = {}
        kind_latencies: dict[str, list[float]] = {}
        made: Counter[int] = Counter()
        polls = 0

        async def poll_order(
            user: str, number: str, found: Callable[[dict], Any], what: str
        ) -> tuple[Any, dict]:
            """GET the order as `user` until found(order) is not None; what and the order."""
            nonlocal polls
            deadline = time.monotonic() + args.wait
            while True:
                order = (await api.call(user, "GET", f"/api/v1/orders/{number}", 200)).json()
                polls += 1
                if (hit := found(order)) is not None:
                    return hit, order
                if time.monotonic() >= deadline:
                    open_todos = ", ".join(t["kind"] for t in order.get("open_todos", []))
                    raise BenchError(
                        f"{number}: {what} not seen by {user} within {args.wait:.0f} s; the "
                        f"order is at stage {order['stage']!r} with open to-dos "
                        f"[{open_todos or 'none'}]"
                    )
                await asyncio.sleep(args.poll_interval)

        async def todo_on_order(user: str, number: str, kind: str) -> tuple[dict, dict]:
            """The order's open to-do of this kind (and the order as `user` sees it)."""

            def open_todo(order: dict) -> dict | None:
                return next((t for t in order.get("open_todos", []) if t["kind"] == kind), None)

            return await poll_order(user, number, open_todo, f"a {kind} to-do")

        async def confirmed_now(number: str) -> dict | None:
            order = (await api.call("sales", "GET", f"/api/v1/orders/{number}", 200)).json()
            return order if order["stage"] in ("confirmed", "fulfilment") else None

        async def one_order(i: int) -> None:
            kind = kinds[i]  # plain, changed, cancelled or returned
            clock = [time.perf_counter()]
            updates = 0
            mine: list[float] = []  # this order's update calls
            today = datetime.now(UTC).date()

            def lap(phase: str) -> None:
                clock.append(time.perf_counter())
                phases.setdefault(phase, []).append(clock[-1] - clock[-2])

            def record(label: str, elapsed: float) -> None:
                nonlocal updates
                latencies.append(elapsed)
                mine.append(elapsed)
                calls.setdefault(label, []).append(elapsed)
                updates += 1

            async def update(
                label: str, user: str, path: str, status: int, body: dict, *, new: bool = False
            ) -> dict:
                """A POST that sends the workflow an update; timed under `label`. `new`: a call
                the stack may not offer yet (change requests), whose 404 or 405 says so."""
                started = time.perf_counter()
                response = await api.send(user, "POST", path, json=body)
                elapsed = time.perf_counter() - started
                if new and response.status_code in (404, 405):
                    how = f"answered {response.status_code}: {response.text[:100]}"
                    raise ChangesUnavailable(changes_unavailable(how))
                expect(response, status)
                record(label, elapsed)
                return response.json()

            async def complete(user: str, todo: dict, body: dict) -> dict:
                path = f"/api/v1/todos/{todo['id']}/complete"
                return await update(f"complete {todo['kind']}", user, path, 200, body)

            async def approve_as(number: str, todo: dict, users: tuple[str, ...]) -> None:
                """Approve `todo` as whichever of `users` holds it: the others are refused (403,
                not theirs) and only the call that decides is timed."""
                path = f"/api/v1/todos/{todo['id']}/complete"
                for user in users:
                    started = time.perf_counter()
                    response = await api.send(user, "POST", path, json=APPROVE)
                    if response.status_code == 403:
                        continue
                    expect(response, 200)
                    return record(f"complete {todo['kind']}", time.perf_counter() - started)
                raise BenchError(
                    f"{number}: none of {', '.join(users)} may decide its {todo['kind']} to-do"
                )

            async def cancel(number: str, paid: Decimal) -> None:
                """The owner cancels the confirmed order, the department manager approves, and
                finance refund the money received (`paid`) and credit the invoices issued until
                the cancellation is done: stage cancelled, its status cancelled."""
                path = f"/api/v1/orders/{number}/cancel"
                await update("POST /orders/{n}/cancel", "sales", path, 202, CANCEL_BODY)
                lap("ask to cancel")
                approval, _ = await todo_on_order("sales_manager", number, "approve_cancellation")
                lap("await approve_cancellation")
                await complete("sales_manager", approval, APPROVE)
                lap("approve cancellation")
                settled: set[int] = set()

                def next_step(order: dict) -> tuple[str, dict] | None:
                    status = (order.get("cancellation") or {}).get("status")
                    if order["stage"] == "cancelled" and status == "cancelled":
                        return "done", order
                    todo = next(
                        (
                            t
                            for t in order.get("open_todos", [])
                            if t["kind"] in ("confirm_refund", "issue_credit_note")
                            and t["id"] not in settled
                        ),
                        None,
                    )
                    return ("todo", todo) if todo else None

                while True:
                    what = "the cancellation done, or a refund or credit note to-do"
                    (step, item), order = await poll_order("finance", number, next_step, what)
                    if step == "done":
                        break
                    lap(f"await {item['kind']}")
                    body = settlement(number, item, order, len(settled) + 1, today)
                    await complete("finance", item, body)
                    settled.add(item["id"])
                    lap(item["kind"].replace("_", " "))
                lap("await cancelled")
                if Decimal(item["refunded"]) != paid:
                    raise BenchError(f"{number} cancelled, refunded {item['refunded']} of {paid}")

            async def change(number: str, *, replan: bool) -> None:
                """The owner asks for a later delivery; the approvers approve it (routed like an
                order: the manager, then the director for the 20 % discount); the order shows
                revision 2; with `replan` (the shipment planned) ops re-plan it."""
                entered = date.fromisoformat(str(self.order["requested_delivery_date"]))
                body = {
                    "reason": CHANGE_REASON,
                    "requested_delivery_date": (entered + CHANGE_DELAY).isoformat(),
                }
                path = CHANGE_PATH.format(number=number)
                label = "POST /orders/{n}/change-requests"
                await update(label, "sales", path, 202, body, new=True)
                lap("ask for a change")
                approvers = ("sales_manager", "director")
                decided: list[int] = []

                def next_step(order: dict) -> tuple[str, dict] | None:
                    if order.get("revision", 1) >= 2:
                        return "applied", order
                    for asked in order.get("change_requests", []):
                        if asked["status"] in ("rejected", "withdrawn"):
                            raise BenchError(
                                f"{number}: change request {asked['number']} {asked['status']}"
                                f" ({asked.get('comment') or 'no comment'})"
                            )
                    todo = next(
                        (
                            t
                            for t in order.get("open_todos", [])
                            if t["kind"] == "approve_change" and t["id"] not in decided
                        ),
                        None,
                    )
                    return ("todo", todo) if todo else None

                while True:
                    what = "an approve_change to-do, or revision 2"
                    (step, item), _ = await poll_order("sales", number, next_step, what)
                    if step == "applied":
                        break
                    lap(f"await approve_change {len(decided) + 1}")
                    # The n-th to-do is the n-th stage's; whoever else is asked answers 403.
                    turn = len(decided) % len(approvers)
                    await approve_as(number, item, approvers[turn:] + approvers[:turn])
                    decided.append(item["id"])
                    lap(f"approve change {len(decided)}")
                lap("await revision 2")
                if replan:
                    todo, _ = await todo_on_order("ops", number, "replan_shipment")
                    lap("await replan_shipment")
                    replanned = {"outcome": "planned", "milestones": milestone_plan(today, 2)}
                    await complete("ops", todo, replanned)
                    lap("replan shipment")

            async def give_back(number: str, order: dict) -> dict:
                """After acceptance the owner returns one unit of the first line; the manager
                approves; the warehouse receive it and restock it. The order as it is then (its
                net total lower, the unpaid balance reduced by what came back)."""
                line = order["lines"][0]
                body = {
                    "lines": [{"line_id": line["id"], "quantity": "1"}],
                    "reason": RETURN_REASON,
                }
                path = f"/api/v1/orders/{number}/returns"
                await update("POST /orders/{n}/returns", "sales", path, 202, body)
                lap("ask for a return")
                approval, _ = await todo_on_order("sales_manager", number, "approve_return")
                lap("await approve_return")
                await complete("sales_manager", approval, APPROVE)
                lap("approve return")
                receive, _ = await todo_on_order("warehouse", number, "receive_return")
                lap("await receive_return")
                received = [{"line_id": line["id"], "quantity": "1", "condition": "restock"}]
                await complete("warehouse", receive, {"outcome": "received", "received": received})
                lap("receive return")

                def net(order: dict) -> dict | None:
                    return order if Decimal(order.get("returned") or "0") > 0 else None

                back, _ = await poll_order("sales", number, net, "the return's value taken off")
                lap("await net total")
                return back

            async def pay_installment(number: str, position: int) -> Decimal:
                """Once installment `position` falls due, the owner registers it and finance
                confirm it. Its amount."""

                def due(order: dict) -> dict | None:
                    installment = order["installments"][position - 1]
                    falls_due = installment["due_date"] and installment["status"] != "paid"
                    return installment if falls_due else None

                installment, _ = await poll_order(
                    "sales", number, due, f"installment {position} falling due"
                )
                lap(f"await installment {position} due")
                payment = {
                    "amount": installment["amount"],
                    "received_on": datetime.now(UTC).date().isoformat(),
                    "method": "bank_transfer",
                    "reference": f"BANK-{number}-{position}",
                }
                path = f"/api/v1/orders/{number}/payments"
                await update("POST /orders/{n}/payments", "sales", path, 202, payment)
                lap(f"register installment {position}")
                confirm, _ = await todo_on_order("finance", number, "confirm_payment")
                lap(f"await confirm_payment {position}")
                await complete("finance", confirm, {"outcome": "confirm"})
                lap(f"confirm installment {position}")
                return Decimal(installment["amount"])

            async def record_costs(number: str) -> Decimal:
                """Ops record the actual costs, 8 % over what pricing expected, in one final
                batch; finance approve it. The total recorded."""
                record, seen = await todo_on_order("ops", number, "record_actual_costs")
                lap("await record_actual_costs")
                expected = Decimal(seen["expected_cost"])
                freight = Decimal(seen.get("freight_cost") or "0")
                goods = expected - freight  # the bench's products need no installation
                amounts = {
                    "goods": (goods * COST_OVERRUN).quantize(CENT),
                    "freight": (freight * COST_OVERRUN).quantize(CENT),
                }
                items = [
                    {
                        "category": category,
                        "amount": str(amount),
                        "supplier_payment_reference": f"SUP-{number}-{category}",
                    }
                    for category, amount in amounts.items()
                    if amount > 0
                ]
                body = {"outcome": "recorded", "items": items, "final": True}
                await complete("ops", record, body)
                lap("record actual costs")
                approve, _ = await todo_on_order("finance", number, "approve_actual_costs")
                lap("await approve_actual_costs")
                await complete("finance", approve, {"outcome": "approve"})
                lap("approve actual costs")
                return sum(amounts.values(), Decimal("0"))

            async def invoice(number: str, total: str) -> None:
                """The owner applies for one invoice for the total; finance issue it."""
                request = {
                    "amount": total,
                    "title": "Bench Customer Co., Ltd.",
                    "tax_number": "91310000BENCH0001X",
                    "address": "1 Bench Road, Shanghai",
                }
                path = f"/api/v1/orders/{number}/invoice-requests"
                await update("POST /orders/{n}/invoice-requests", "sales", path, 202, request)
                lap("apply for invoice")
                issue, _ = await todo_on_order("finance", number, "issue_invoice")
                lap("await issue_invoice")
                body = {"outcome": "issued", "invoice_number": f"INV-{number}"}
                await complete("finance", issue, body)
                lap("issue invoice")

            def finish() -> None:
                lifetime = time.perf_counter() - submitted
                lifetimes.append(lifetime)
                kind_lifetimes.setdefault(kind, []).append(lifetime)
                kind_latencies.setdefault(kind, []).extend(mine)
                made[updates] += 1

            created = await api.call("sales", "POST", "/api/v1/orders", 201, json=self.order)
            number = created.json()["number"]
            lap("create")
            order = (await api.call("sales", "GET", f"/api/v1/orders/{number}", 200)).json()
            lines = [
                {"line_id": line["id"], "unit_cost": self.cost[line["product_id"]]}
                for line in order["lines"]
            ]
            lap("read")
            submitted = time.perf_counter()
            await api.call("sales", "POST", f"/api/v1/orders/{number}/submit", 202)
            lap("submit")
            estimate = await self.pricing.wait((number, "estimate_cost"))
            lap("await estimate to-do")
            body = {"outcome": "estimated", "lines": lines, "freight": "400"}
            await complete("pricing", estimate, body)
            lap("estimate")
            approve = await self.manager.wait((number, "approve"))
            lap("await approve to-do")
            await complete("sales_manager", approve, {"outcome": "approve"})
            lap("approve")
            second = await self.director.wait((number, "approve"))
            lap("await director's to-do")
            await complete("director", second, {"outcome": "approve"})
            lap("director approves")
            await self.confirmed.wait((number,), fallback=lambda: confirmed_now(number))
            lap("await confirmed")
            if until == "confirmed":
                if kind == "cancelled":
                    await cancel(number, Decimal("0"))
                elif kind == "changed":
                    await change(number, replan=False)
                return finish()
            # Fulfilment's to-dos are found on the order itself: older orders' shipment to-dos
            # fill the first page of the ops and warehouse inboxes.
            plan, _ = await todo_on_order("ops", number, "plan_shipment")
            lap("await plan to-do")
            await complete("ops", plan, {"outcome": "planned", "milestones": milestone_plan(today)})
            lap("plan")
            recorded, deposit = None, Decimal("0")
            if until == "closed":
                # The deposit fell due on confirmation (its due date is written a moment after,
                # while ops plan); confirming it asks ops for the actual costs.
                deposit = await pay_installment(number, 1)
            # Changed and cancelled orders turn here: confirmed, planned, the deposit paid (so
            # that a cancellation is approved and refunded), not yet dispatched.
            if kind == "cancelled":
                await cancel(number, deposit)
                return finish()
            if kind == "changed":
                await change(number, replan=True)
            if until == "closed":
                recorded = await record_costs(number)
            dispatch, _ = await todo_on_order("warehouse", number, "confirm_dispatch")
            lap("await dispatch to-do")
            body = {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": number}
            await complete("warehouse", dispatch, body)
            lap("dispatch")
            arrival, _ = await todo_on_order("ops", number, "confirm_arrival")
            lap("await arrival to-do")
            body = {"outcome": "arrived", "actual_date": today.isoformat()}
            await complete("ops", arrival, body)
            lap("arrival (accepted)")
            if until == "accepted":
                return finish()
            if until == "paid":
                # The customer pays it all (the demo plan: 100 % on confirmation): the owner
                # registers the payment, finance confirm it, and the collection completes.
                payment = {
                    "amount": order["total"],
                    "received_on": today.isoformat(),
                    "method": "bank_transfer",
                    "reference": f"BANK-{number}",
                }
                path = f"/api/v1/orders/{number}/payments"
                await update("POST /orders/{n}/payments", "sales", path, 202, payment)
                lap("register payment")
                confirm, _ = await todo_on_order("finance", number, "confirm_payment")
                lap("await confirm_payment to-do")
                await complete("finance", confirm, {"outcome": "confirm"})
                lap("confirm payment (paid)")
                return finish()
            # Accepted: the balance falls due (a moment after, while the invoice is applied for
            # and issued). Paid in full, with the costs complete, the comparison opens. A
            # returned order gives one unit back first: invoiced and paid on its net total.
            net_total = order["total"]
            if kind == "returned":
                net_total = (await give_back(number, order))["net_total"]
            await invoice(number, net_total)
            await pay_installment(number, 2)
            review, _ = await todo_on_order("ops", number, "review_variance")
            lap("await review_variance")
            explanation = "Supplier prices rose after the estimate; freight surcharge."
            done = await complete(
                "ops", review, {"outcome": "reviewed", "explanation": explanation}
            )
            lap("review variance")
            if done["stage"] != "closed":  # above the threshold (the policy's 5 %)
                decide, _ = await todo_on_order("ops_manager", number, "approve_variance")
                lap("await approve_variance")
                await complete("ops_manager", decide, {"outcome": "approve"})
                lap("approve variance")

            def closed(order: dict) -> dict | None:
                return order if order["stage"] == "closed" else None

            final, _ = await poll_order("ops", number, closed, "stage closed")
            lap("await closed")
            finish()
            # What the closed order says it got, against what the bench did.
            wrong = [
                f"{name} {final[name]} (expected {want})"
                for name, want in (
                    ("paid", net_total),
                    ("invoiced", net_total),
                    ("actual_cost", recorded),
                )
                if Decimal(final[name] or "NaN") != Decimal(want)
            ]
            if kind == "changed" and final.get("revision") != 2:
                wrong.append(f"revision {final.get('revision')} (expected 2)")
            if wrong:
                raise BenchError(f"{number} closed with {', '.join(wrong)}")

        polls_before = sum(w.polls for w in self.watchers)
        seconds = await run_pool(count, args.concurrency, one_order)
        if not mixed:
            self.updates_made.update(made)
        if timed:
            result = self.results["mixed" if mixed else "plain"]
            result.orders += count
            result.seconds += seconds
            result.latencies += latencies
            result.polls += polls + sum(w.polls for w in self.watchers) - polls_before
            result.lifetimes += lifetimes
            result.updates.update(made)
            for phase, times in phases.items():
                result.phases.setdefault(phase, []).extend(times)
            for label, times in calls.items():
                result.calls.setdefault(label, []).extend(times)
            for kind, times in kind_lifetimes.items():
                result.kind_lifetimes.setdefault(kind, []).extend(times)
            for kind, times in kind_latencies.items():
                result.kind_latencies.setdefault(kind, []).extend(times)


# -- the floor: a bare workflow on the same server ------------------------------------------


class FloorBench:
    """Orders through bench/floor.py's FloorWorkflow, with its own worker in this process."""

    def __init__(self, args: argparse.Namespace, client) -> None:
        self.args = args
        self.client = client
        self.result = Result()
        self.run_id = uuid.uuid4().hex[:8]
        self.batch = 0
        self.steps = UPDATES[args.until]  # as many as ours made, once ours has run

    async def __aenter__(self) -> FloorBench:
        from temporalio.worker import Worker

        from bench import floor

        self.floor = floor
        self.worker = Worker(
            self.client,
            task_queue=floor.TASK_QUEUE,
            workflows=[floor.FloorWorkflow],
            activities=[floor.floor_noop],
        )
        await self.worker.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.worker.__aexit__(*exc)

    async def run(self, count: int, *, timed: bool = True) -> None:
        floor, latencies, steps = self.floor, [], self.steps
        self.batch += 1
        prefix = f"bench-floor-{self.run_id}-{self.batch}"

        async def one_order(i: int) -> None:
            handle = await self.client.start_workflow(
                floor.FloorWorkflow.run, steps, id=f"{prefix}-{i}", task_queue=floor.TASK_QUEUE
            )
            for step in range(1, steps + 1):
                started = time.perf_counter()
                await handle.execute_update(floor.FloorWorkflow.step, floor.FloorStep(step=step))
                latencies.append(time.perf_counter() - started)
            await handle.result()

        seconds = await run_pool(count, self.args.concurrency, one_order)
        if timed:
            self.result.orders += count
            self.result.seconds += seconds
            self.result.latencies += latencies
            self.result.updates[steps] += count


# -- is the stack there? ---------------------------------------------------------------------


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
    down = []
    if not web_up and args.phase != "floor":
        down.append(f"the web app at {args.url}")
    if not temporal_up:
        down.append(f"Temporal at {args.temporal}")
    if down:
        raise BenchError(
            f"nothing listens for {' and '.join(down)}: start the stack with `make run` "
            "(or pass --url / --temporal)"
        )


async def connect_temporal(address: str, namespace: str):
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


async def check_worker(client, namespace: str, task_queue: str) -> None:
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


# -- the report ------------------------------------------------------------------------------


def per_order(counts: Counter[int]) -> str:
    """ "16 updates per order", or how many orders made how many when they differ."""
    if len(counts) == 1:
        return f"{next(iter(counts))} updates per order"
    mixed = ", ".join(f"{n} orders {k}" for k, n in sorted(counts.items()))
    return f"updates per order differ: {mixed}"


def cpu_per_order(side: Result) -> str:
    """Where an order's CPU went: ms per order of each process of the stack, and in all."""
    spent = side.cpu_ms()
    parts = [f"{name} {ms:.0f}" for name, ms in spent.items()]
    total = sum(spent.values())
    missing = [name for name in STACK if name not in side.cpu]
    absent = f" ({', '.join(missing)} not on this machine)" if missing else ""
    return f"CPU ms per order: {', '.join(parts)}; {total:.0f} in all{absent}"


def describe(name: str, side: Result, ends: str, note: str = "") -> None:
    """One batch of ours: orders/s, lifetimes (by what the orders did, when they differ),
    every kind of update call, the phases."""
    say(
        f"  {name}: {side.per_second:7.2f} orders {ends}/s ({side.seconds:.1f} s; "
        f"{per_order(side.updates)}; {side.polls / side.orders:.1f} polling GETs per order)"
    )
    if note:
        say(f"         {note}")
    say(
        f"         submit -> {ends}: p50 {percentile(side.lifetimes, 50):.2f} s, "
        f"p95 {percentile(side.lifetimes, 95):.2f} s"
    )
    if len(side.kind_lifetimes) > 1:
        for kind in ORDER_KINDS:
            if not (times := side.kind_lifetimes.get(kind)):
                continue
            updates = side.kind_latencies.get(kind, [])
            say(
                f"           {len(times):4d} {kind:<9}: submit -> end p50 "
                f"{percentile(times, 50):.2f} s, p95 {percentile(times, 95):.2f} s; update "
                f"p95 {1000 * percentile(updates, 95):6.1f} ms ({len(updates)} calls)"
            )
    width = max(len(label) for label in [*side.calls, "every update call"])
    say(f"         {'call':<{width}}  p50 ms  p95 ms  calls")
    rows = [*side.calls.items(), ("every update call", side.latencies)]
    for label, times in rows:
        p50, p95 = (percentile(times, p) * 1000 for p in (50, 95))
        say(f"         {label:<{width}}  {p50:6.1f}  {p95:6.1f}  {len(times):5d}")
    say("         mean ms per order and phase:")
    phases = [f"{k} {1000 * sum(v) / len(v):.0f}" for k, v in side.phases.items()]
    line = "          "
    for phase in phases:
        if len(line) + len(phase) > 98:
            say(line.rstrip(","))
            line = "          "
        line += f" {phase},"
    say(line.rstrip(","))


def with_and_without(ours: Result, mixed: Result, said: str) -> None:
    """The issue's comparison: orders/s and update p95 without and with the changes and
    cancellations (`said`: how many of each), from the same run."""
    say(
        f"  without / with ({said}): {ours.per_second:.2f} / {mixed.per_second:.2f} orders/s "
        f"({mixed.per_second / ours.per_second:.0%}), update p95 {ours.ms(95):.1f} / "
        f"{mixed.ms(95):.1f} ms ({mixed.ms(95) / ours.ms(95):.2f}x)"
    )


def report(results: dict[str, Result], args: argparse.Namespace) -> bool:
    """Print what each side measured; True unless ours missed a target against the floor."""
    ours, mixed, floor = (results.get(name) for name in ("ours", "mixed", "floor"))
    rounds = f", in {args.rounds} alternating rounds" if args.rounds > 1 else ""
    twice = " (ours twice: plain, then mixed)" if mixed else ""
    say(f"{args.orders} orders, {args.concurrency} at a time{rounds}, until {args.until}{twice}")
    if ours:
        describe("ours ", ours, args.until)
    said = ""
    if mixed:
        counts = {kind: len(mixed.kind_lifetimes.get(kind, [])) for kind in ORDER_KINDS}
        said = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        ends = f"{args.until} or cancelled" if counts["cancelled"] else args.until
        describe("mixed", mixed, ends, f"its orders: {said}")
    if floor:
        say(
            f"  floor: {floor.per_second:7.2f} orders/s ({floor.seconds:.1f} s; "
            f"{per_order(floor.updates)}); update p50 {floor.ms(50):6.1f} ms, "
            f"p95 {floor.ms(95):6.1f} ms ({len(floor.latencies)} updates)"
        )
    for name, side in (("ours ", ours), ("mixed", mixed), ("floor", floor)):
        if side and side.cpu:
            say(f"  {name}: {cpu_per_order(side)}")
    if ours and mixed:
        with_and_without(ours, mixed, said)
    if not (ours and floor):
        return True
    if ours.cpu and floor.cpu:
        budget = sum(floor.cpu_ms().values()) / MIN_THROUGHPUT_RATIO
        line = (
            f"  on a CPU-bound machine the target leaves ours {budget:.0f} ms of CPU per order "
            f"in all (the floor's / {MIN_THROUGHPUT_RATIO})"
        )
        if (temporal := ours.cpu_ms().get("temporal")) is not None:
            line += f"; the Temporal server alone spends {temporal:.0f} on ours"
        say(line)
    throughput = ours.per_second / floor.per_second
    p95 = ours.ms(95) / floor.ms(95)
    ok_throughput, ok_p95 = throughput >= MIN_THROUGHPUT_RATIO, p95 <= MAX_P95_RATIO
    say(
        f"  ours / floor: orders {args.until}/s {throughput:.0%} of the floor's (target >= "
        f"{MIN_THROUGHPUT_RATIO:.0%}: {'PASS' if ok_throughput else 'MISS'}), p95 of an update "
        f"call {p95:.2f}x the floor's update (target <= {MAX_P95_RATIO}x: "
        f"{'PASS' if ok_p95 else 'MISS'})"
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


async def bench(args: argparse.Namespace) -> tuple[dict[str, Result], str | None]:
    """Each side's Result by name (ours, mixed with --change-rate or --cancel-rate, floor), and
    why change requests could not be measured, when --change-rate asked for them in vain."""
    namespace = os.environ.get("O2C_TEMPORAL_NAMESPACE", "default")
    password = demo_password() if args.phase != "floor" else ""
    await check_ports(args)
    client = await connect_temporal(args.temporal, namespace)
    if args.phase != "floor":
        await check_worker(client, namespace, args.task_queue)
    meter = CpuMeter()
    async with AsyncExitStack() as stack:
        app: AppBench | None = None
        lanes: list[tuple[str, AppBench | FloorBench]] = []
        if args.phase != "floor":
            app = await stack.enter_async_context(AppBench(args, password))
            lanes.append(("ours", app))
            if app.change_rate or args.cancel_rate or args.return_rate:
                lanes.append(("mixed", app))
        if args.phase != "app":
            lanes.append(("floor", await stack.enter_async_context(FloorBench(args, client))))

        def result(name: str, side: AppBench | FloorBench) -> Result:
            if isinstance(side, AppBench):
                return side.results["mixed" if name == "mixed" else "plain"]
            return side.result

        async def run(name: str, side: AppBench | FloorBench, count: int, timed: bool) -> None:
            before = meter.snapshot()
            if isinstance(side, AppBench):
                await side.run(count, timed=timed, mixed=name == "mixed")
            else:  # the floor takes as many updates per order as our plain orders made
                side.steps = (app.updates_per_order if app else None) or side.steps
                await side.run(count, timed=timed)
            if timed:
                result(name, side).cpu.update(meter.since(before))

        for name, side in lanes:
            if args.warmup:
                await run(name, side, args.warmup, False)
        # Alternating rounds share whatever else the machine is doing at the time.
        chunks = [args.orders // args.rounds] * args.rounds
        chunks[-1] += args.orders - sum(chunks)
        for chunk in chunks:
            for name, side in lanes:
                await run(name, side, chunk, True)
        results = {name: result(name, side) for name, side in lanes}
    return results, app.changes_missing if app else None


async def main(args: argparse.Namespace) -> int:
    try:
        results, changes_missing = await bench(args)
    except Exception as error:  # BenchError, perhaps inside a task group's
        problem = first_bench_error(error)
        if problem is None:
            raise
        say(f"bench: {problem}")
        return EXIT_NO_CHANGES if isinstance(problem, ChangesUnavailable) else EXIT_ERROR
    met = report(results, args)
    if changes_missing:  # measured without them: say so again, and fail that option
        say(f"bench: {changes_missing}")
        return EXIT_NO_CHANGES
    return 0 if met or not args.strict else EXIT_MISSED


def rate(text: str) -> float:
    """A share of the orders, from 0 to 1."""
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share of the orders from 0 to 1")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200, help="orders to time (default 200)")
    parser.add_argument("--concurrency", type=int, default=10, help="orders in flight (10)")
    parser.add_argument("--url", default="http://localhost:8000", help="the web app")
    parser.add_argument("--temporal", default="localhost:7233", help="the Temporal frontend")
    parser.add_argument("--task-queue", default="orders", help="our worker's task queue")
    parser.add_argument("--warmup", type=int, default=5, help="untimed orders first (5)")
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="alternate ours and the floor in this many rounds, so that both see the same "
        "background load (1: all of ours, then all of the floor)",
    )  # fmt: skip
    parser.add_argument(
        "--poll-interval", type=float, default=0.05,
        help="seconds between inbox polls while an order waits for its to-do (0.05)",
    )  # fmt: skip
    parser.add_argument(
        "--phase", choices=("both", "app", "floor"), default="both",
        help="run ours, the floor, or both (default)",
    )  # fmt: skip
    parser.add_argument(
        "--until", choices=tuple(UPDATES), default="closed",
        help="how far each order goes: closed (default: its whole life, with a 30/70 payment "
        "plan, an invoice, actual costs and the variance review; 16 updates), paid (plan, "
        "dispatch, arrival, one payment of the total registered and confirmed: 8), accepted "
        "(6) or confirmed (3); the floor takes as many updates per order as ours made",
    )  # fmt: skip
    parser.add_argument(
        "--wait", type=float, default=60.0,
        help="seconds an order may wait for its next to-do or stage before the bench gives up "
        "and says where it stands (60)",
    )  # fmt: skip
    parser.add_argument(
        "--change-rate", type=rate, default=0.0,
        help="share of the orders (0.2: every 5th) of a second, mixed batch of ours that get "
        "one change request (a later delivery date) approved before dispatch (0: no mixed "
        "batch); exits 3 when the stack has no change requests",
    )  # fmt: skip
    parser.add_argument(
        "--cancel-rate", type=rate, default=0.0,
        help="share of the orders of the mixed batch (0.1: every 10th) cancelled after "
        "confirmation and before dispatch, the deposit paid: the manager approves, finance "
        "refund it (0: none)",
    )  # fmt: skip
    parser.add_argument(
        "--return-rate", type=rate, default=0.0,
        help="share of the orders of the mixed batch (0.1: every 10th) that return one unit "
        "after acceptance: the manager approves, the warehouse receive and restock it, and "
        "the order is invoiced and paid on its net total (0: none)",
    )  # fmt: skip
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= args.orders:
        parser.error("--rounds must be between 1 and --orders")
    if args.change_rate + args.cancel_rate + args.return_rate > 1:
        parser.error("--change-rate, --cancel-rate and --return-rate are more than all orders")
    return args


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except KeyboardInterrupt:
        sys.exit(130)
