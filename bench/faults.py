"""Fault injection: orders driven through their whole life while the processes die under them.

The Temporal dev server (over its SQLite file), the worker and the web app run as separate
processes on free ports over a fresh database. Orders go from draft to closed through the JSON API
as the demo users (bench/order_flow.py's path), while the dev server is killed with SIGKILL
several times and the worker and the web app once each, every one restarted a few seconds later
with the same command line and data. Among the orders, --changes have a change approved after
confirmation (in turn one sensor more, which pricing estimate first, and a delivery 30 days
later; ops re-plan), and --cancellations are cancelled once their deposit is paid and invoiced
(the manager approves, finance refund the deposit and issue the credit note); every second kill
is aimed at one of those orders' own actions on its way. The client is patient: after a
connection error, a timeout or a 503 it sends the same request again (for submit, payments,
invoice requests and actual costs with the same `Idempotency-Key`). Afterwards every order must
be closed (or cancelled), no workflow left running, and the database must hold each of an
order's records exactly once (bench/fault_checks.py): a changed order one revision, a cancelled
one refund and one credit note, its stock released and no to-do open.

    .venv/bin/python bench/faults.py [--orders 100] [--temporal-kills 5] [--concurrency 20]
        [--changes 10] [--cancellations 5] [--seed N] [--keep DIR] [--profile]

tests/faults/test_crash_recovery.py runs the same harness, smaller, in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fault_checks import check_database, profile, stock  # noqa: E402
from bench.fault_paths import (  # noqa: E402
    CANCELLED,
    DATE_CHANGE,
    NEW_PATH_STEPS,
    PATH_ACTIONS,
    PLAIN,
    QUANTITY_CHANGE,
    cancel_after_deposit,
    change_delivery_date,
    change_quantity,
    spread,
)
from bench.order_flow import (  # noqa: E402
    BENCH_POLICY,
    CENT,
    COST_OVERRUN,
    PAYMENT_PLAN,
    PRODUCTS,
    USERS,
    connect_temporal,
    milestone_plan,
    percentile,
    say,
)
from devstack import DevStack  # noqa: E402
from settings import Settings, venv_binary  # noqa: E402

TEMPORAL = venv_binary("temporal")
PASSWORD = "faults-demo-pass"
SECRET_KEY = "faults-secret-key-not-for-production"
WEB_APP = "web.app:create_app"
PR_SET_PDEATHSIG = 1
LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None


def follow_parent() -> None:
    """Runs in each child between fork and exec: when the harness dies (even by SIGKILL) the
    kernel sends the child SIGTERM, so no process outlives it."""
    if LIBC is not None:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join("    " + line for line in text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the processes ---------------------------------------------------------------------------


@dataclass
class Process:
    """One process of the stack, started (and restarted) with the same command line."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    killed: bool = False  # by us: an exit after this is expected

    def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(
                f"\n--- start {self.starts + 1} at {datetime.now(UTC):%H:%M:%S.%f} ---\n".encode()
            )
            out.flush()
            self.popen = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=follow_parent,
            )  # fmt: skip
        self.starts += 1
        self.killed = False

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        if self.popen is None:
            return
        self.killed = True
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()

    def stop(self, sig: signal.Signals, timeout: float = 10.0) -> None:
        """Ask it to stop; kill it if it does not in time."""
        if self.popen is None:
            return
        self.killed = True
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


class Stack:
    """The dev server, the worker and the web app on free ports, over a database and a Temporal
    file in `workdir`. Processes are started from the calling thread: PR_SET_PDEATHSIG (devstack's
    follow_parent) ends them when that thread's process dies."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.db_path = workdir / "o2c.db"
        self.temporal_port, self.web_port = free_port(), free_port()
        self.settings = Settings(
            database_url=f"sqlite+aiosqlite:///{self.db_path}",
            temporal_address=f"127.0.0.1:{self.temporal_port}",
            temporal_ui_url=f"http://127.0.0.1:{free_port()}",
            base_url=f"http://127.0.0.1:{self.web_port}",
            demo_password=PASSWORD,
            secret_key=SECRET_KEY,
        )
        self.devstack = DevStack(self.settings, data_dir=workdir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("O2C_")}
        env |= {
            "O2C_DATABASE_URL": self.settings.database_url,
            "O2C_TEMPORAL_ADDRESS": self.settings.temporal_address,
            "O2C_TEMPORAL_UI_URL": self.settings.temporal_ui_url,
            "O2C_BASE_URL": self.settings.base_url,
            "O2C_DEMO_PASSWORD": PASSWORD,
            "O2C_SECRET_KEY": SECRET_KEY,
            "PYTHONUNBUFFERED": "1",
        }
        python = sys.executable
        # devstack's command line (WAL, every search attribute), without the UI.
        temporal = [*self.devstack.temporal_command(), "--headless"]
        web = [python, "-m", "uvicorn", "--factory", WEB_APP, "--host", "127.0.0.1",
               "--port", str(self.web_port), "--no-access-log"]  # fmt: skip
        self.processes = {
            "temporal": Process("temporal", temporal, env, self.logs / "temporal.log"),
            "worker": Process("worker", [python, "worker.py"], env, self.logs / "worker.log"),
            "web": Process("web", web, env, self.logs / "web.log"),
        }

    @property
    def url(self) -> str:
        return self.settings.base_url

    def prepare_database(self) -> None:
        """Alembic to head and the demo company, as `make run` does (runs its own event loops:
        call it from a thread, or before any loop runs)."""
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            self.devstack.prepare_database()

    def start(self, name: str) -> None:
        self.processes[name].start()

    def kill(self, name: str) -> None:
        self.processes[name].kill()

    def stop(self) -> None:
        """Web and worker first, then the dev server (devstack's order)."""
        self.processes["web"].stop(signal.SIGINT)
        self.processes["worker"].stop(signal.SIGINT)
        self.processes["temporal"].stop(signal.SIGTERM)

    def close(self) -> None:
        """Whatever still runs is killed: for finalizers, even after a failure."""
        for process in self.processes.values():
            with contextlib.suppress(Exception):
                process.kill()

    def tail(self, name: str, lines: int = 15) -> str:
        return tail(self.processes[name].log, lines)


# -- what happened ---------------------------------------------------------------------------


@dataclass
class Refusal:
    """A request the app refused (4xx other than 401) or failed (5xx other than 503)."""

    order: str
    step: str
    request: str
    status: int
    message: str
    attempt: int  # 1: refused the first time it was sent; more: refused when sent again
    before: tuple[str, ...]  # why the earlier attempts were sent again

    @property
    def retried(self) -> bool:
        return self.attempt > 1

    def describe(self) -> str:
        why = f" (attempt {self.attempt}, after {', '.join(self.before)})" if self.retried else ""
        return f"{self.order} {self.step}: {self.request} -> {self.status}{why}: {self.message}"


@dataclass
class Kill:
    target: str
    killed_at: float
    restarted_at: float | None = None
    recovered_at: float | None = None  # the first update sent after the restart and carried out
    amid: tuple[str, ...] = ()  # the actions on their way when it was killed

    @property
    def recovery(self) -> float | None:
        if self.restarted_at is None or self.recovered_at is None:
            return None
        return self.recovered_at - self.restarted_at


@dataclass
class Stuck:
    order: str
    step: str
    stage: str
    open_todos: list[str]
    waited: float

    def describe(self) -> str:
        todos = ", ".join(self.open_todos) or "none"
        return (
            f"{self.order} stuck at '{self.step}' (waited {self.waited:.0f} s): stage "
            f"{self.stage!r}, open to-dos [{todos}]"
        )


@dataclass
class Report:
    seed: int
    planned_kills: Counter[str]
    orders: list[str] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)  # order -> plain, date, quantity, cancelled
    closed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)  # the cancellation path's, done
    kills: list[Kill] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    stuck: list[Stuck] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # closed with the wrong figures
    violations: list[str] = field(default_factory=list)  # the exactly-once checks
    unexpected_exits: list[str] = field(default_factory=list)
    running_workflows: list[str] = field(default_factory=list)
    harness_errors: list[str] = field(default_factory=list)
    resent: Counter[str] = field(default_factory=Counter)  # why requests were sent again
    resends: list[str] = field(default_factory=list)  # every action sent again, and why
    reauthenticated: int = 0
    actions: int = 0
    seconds: float = 0.0
    workdir: Path | None = None

    @property
    def refused_retries(self) -> list[Refusal]:
        return [r for r in self.refusals if r.retried]

    @property
    def ok(self) -> bool:
        return (
            len(self.closed) + len(self.cancelled) == len(self.orders)
            and Counter(k.target for k in self.kills) == self.planned_kills
            and not (self.refusals or self.stuck or self.wrong or self.violations)
            and not (self.unexpected_exits or self.running_workflows or self.harness_errors)
        )

    def path_lines(self) -> list[str]:
        """The orders by path, how many finished, and what the checks looked at for each."""
        finished = set(self.closed) | set(self.cancelled)
        by_path = Counter(self.paths.values())
        done = Counter(p for n, p in self.paths.items() if n in finished)
        lines = ["  paths: " + ", ".join(
            f"{PATH_NAMES[p]} {done[p]}/{n}" for p, n in sorted(by_path.items())
        )]  # fmt: skip
        lines += [f"    {PATH_NAMES[p]}: {PATH_CHECKS[p]}" for p in sorted(by_path)]
        return lines

    def stuck_with_refusals(self, stuck: Stuck) -> str:
        refused = [f"{r.step} -> {r.status}" for r in self.refusals if r.order == stuck.order]
        return stuck.describe() + (f"; refused before: {', '.join(refused)}" if refused else "")

    def text(self, *, resends: bool = False) -> str:
        """The report; `resends` lists every action that was sent again."""
        kills = Counter(k.target for k in self.kills)
        lines = [
            f"fault injection (seed {self.seed}): {len(self.orders)} orders, "
            f"{self.actions} actions accepted in {self.seconds:.0f} s",
            "  kills: "
            + ", ".join(f"{n} {t}" for t, n in sorted(kills.items()))
            + ("" if kills == self.planned_kills else f" (planned {dict(self.planned_kills)})"),
            f"  recovered: {len(self.closed)} closed, {len(self.cancelled)} cancelled, of "
            f"{len(self.orders)}",
            *self.path_lines(),
        ]
        for kill in self.kills:
            down = (
                f"restarted {kill.restarted_at - kill.killed_at:.1f} s later"
                if kill.restarted_at is not None
                else "not restarted"
            )
            back = (
                f"progress again {kill.recovery:.1f} s after the restart"
                if kill.recovery is not None
                else "no progress after the restart"
            )
            lines.append(f"    {kill.killed_at:6.1f} s  {kill.target:<8} killed, {down}, {back}")
            if kill.amid:
                lines.append(f"              amid: {'; '.join(kill.amid)}")
        recoveries = [k.recovery for k in self.kills if k.recovery is not None]
        if recoveries:
            lines.append(
                f"  recovery time: p50 {percentile(recoveries, 50):.1f} s, max "
                f"{max(recoveries):.1f} s"
            )
        resent = ", ".join(f"{why} {n}" for why, n in self.resent.most_common())
        lines.append(f"  requests sent again: {sum(self.resent.values())} ({resent or 'none'})")
        if resends:
            lines += [f"    {line}" for line in self.resends]
        if self.reauthenticated:
            lines.append(f"  tokens refused (401) and signed in again: {self.reauthenticated}")
        sections = [
            ("refused when sent again (409/422/...)", [r.describe() for r in self.refused_retries]),
            (
                "refused or failed the first time",
                [r.describe() for r in self.refusals if not r.retried],
            ),
            ("stuck orders", [self.stuck_with_refusals(s) for s in self.stuck]),
            ("closed with wrong figures", self.wrong),
            ("lost or duplicated (database)", self.violations),
            ("workflows still running", self.running_workflows),
            ("processes that exited by themselves", self.unexpected_exits),
            ("harness errors", self.harness_errors),
        ]
        for title, items in sections:
            lines.append(f"  {title}: {len(items) if items else 'none'}")
            lines += [f"    {item}" for item in items]
        if self.workdir is not None:
            lines.append(f"  logs and data: {self.workdir}")
        return "\n".join(lines)


PATH_NAMES = {
    PLAIN: "plain",
    DATE_CHANGE: "delivery date changed",
    QUANTITY_CHANGE: "quantity changed",
    CANCELLED: "cancelled",
}
# What the database checks look at per path (bench/fault_checks.py), for the report.
EVERY_PATH = (
    "to-dos and timeline by kind as a run without faults writes them, no to-do open, each mail "
    "once by key and by recipient and subject"
)
CLOSED_PATH = (
    "closed; 2 payments and allocations adding up to the total; 1 invoice; 1 cost batch; "
    "one reservation per line for its quantity, taken; 1 dispatch"
)
CHANGED_PATH = "1 change request approved, exactly 1 revision (2), the order at revision 2"
PATH_CHECKS = {
    PLAIN: f"{EVERY_PATH}; {CLOSED_PATH}",
    DATE_CHANGE: f"{EVERY_PATH}; {CLOSED_PATH}; {CHANGED_PATH}; the new date",
    QUANTITY_CHANGE: f"{EVERY_PATH}; {CLOSED_PATH}; {CHANGED_PATH}; the new quantity, priced",
    CANCELLED: (
        f"{EVERY_PATH}, none open; cancelled; 1 refund of the deposit (none twice for an "
        "amount); 1 credit note for the invoice; reservations released, none taken; 0 dispatches"
    ),
}


# -- the patient client ----------------------------------------------------------------------


class OrderStuck(Exception):
    def __init__(self, stuck: Stuck) -> None:
        super().__init__(stuck.describe())
        self.stuck = stuck


class HarnessError(Exception):
    """The harness itself cannot go on (a login that never works, an unexpected answer)."""


TRANSIENT_STATUS = {502, 503, 504}


def detail_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail") if isinstance(body, dict) else body
    return str(detail)[:300]


class Client:
    """HTTP as a patient person uses it: on a connection error, a timeout, a 502/503/504 or a
    500 it waits and sends the same request again; every refusal is recorded, not hidden."""

    def __init__(self, http: httpx.AsyncClient, report: Report, started: float) -> None:
        self.http = http
        self.report = report
        self.started = started
        self.tokens: dict[str, dict[str, str]] = {}
        # Updates the engine and the worker carried out: (sent, answered), seconds into the run.
        self.progress: list[tuple[float, float]] = []
        self.in_flight = 0  # actions sent and not answered yet
        self.flying: Counter[str] = Counter()  # those actions by order and step

    def now(self) -> float:
        return time.monotonic() - self.started

    async def login(self, user: str, deadline: float) -> None:
        form = {"username": user, "password": PASSWORD}
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.http.post("/api/v1/auth/token", data=form)
            except httpx.TransportError as error:
                self.report.resent[f"login {type(error).__name__}"] += 1
            else:
                if response.status_code == 200:
                    token = response.json()["access_token"]
                    self.tokens[user] = {"Authorization": f"Bearer {token}"}
                    return
                if response.status_code not in TRANSIENT_STATUS | {500, 429}:
                    raise HarnessError(
                        f"login as {user} answered {response.status_code}: {detail_of(response)}"
                    )
                self.report.resent[f"login {response.status_code}"] += 1
            if time.monotonic() > deadline:
                raise HarnessError(f"login as {user} did not succeed before the deadline")
            await asyncio.sleep(min(0.5 * attempt, 3.0))

    async def send(
        self,
        user: str,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...],
        deadline: float,
        order: str = "",
        step: str = "",
        body: dict | None = None,
        idempotent: bool = False,
        action: bool = True,
        update: bool = True,
    ) -> dict | None:
        """The JSON answer of the first attempt answered with a status in `ok`; None when the
        app refused it (recorded). `idempotent` sends one Idempotency-Key with every attempt;
        an `action` changes something (a GET does not), an `update` goes through the engine to
        the worker (the submit only starts a workflow)."""
        key = str(uuid.uuid4()) if idempotent else None
        before: list[str] = []
        attempt = 0
        while True:
            attempt += 1
            headers = dict(self.tokens[user])
            if key is not None:
                headers["Idempotency-Key"] = key
            why: str
            self.in_flight += action
            self.flying[f"{order} {step}"] += action
            sent = self.now()
            try:
                response = await self.http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as error:
                why = type(error).__name__
            else:
                status = response.status_code
                if status in ok:
                    if action:
                        self.report.actions += 1
                    if action and update:
                        self.progress.append((sent, self.now()))
                    return response.json()
                if status == 401:
                    # A token the restarted web app no longer takes: noted, signed in again.
                    self.report.reauthenticated += 1
                    await self.login(user, deadline)
                    why = "401"
                elif status in TRANSIENT_STATUS:
                    why = str(status)
                else:
                    # Refused (4xx) or failed (5xx): recorded; a failure is sent again.
                    refusal = Refusal(order, step, f"{method} {path}", status,
                                      detail_of(response), attempt, tuple(before))  # fmt: skip
                    if status < 500 or f"{status}" not in {b.split(" ")[0] for b in before}:
                        self.report.refusals.append(refusal)  # a repeated failure once
                    if status < 500:
                        return None
                    why = f"{status} {refusal.message[:80]}"
            finally:
                self.in_flight -= action
                self.flying[f"{order} {step}"] -= action
            before.append(why)
            self.report.resent[why.split(" ")[0] if action else f"GET {why.split(' ')[0]}"] += 1
            if action:
                self.report.resends.append(
                    f"{self.now():6.1f} s  {order} {step}: {method} {path} after {why}"
                )
            if time.monotonic() > deadline:
                raise OrderStuck(Stuck(order, f"{step} (sending {method} {path})", "?", [], 0))
            await asyncio.sleep(min(0.3 * attempt, 2.0))


# -- one order's life ------------------------------------------------------------------------


@dataclass
class Plan:
    orders: int = 16
    temporal_kills: int = 3
    worker_kills: int = 1
    web_kills: int = 1
    concurrency: int = 16  # orders in flight
    stagger: float = 2.0  # seconds between the first submits
    restart_after: tuple[float, float] = (2.0, 5.0)  # seconds a killed process stays down
    wait: float = 90.0  # seconds an order may wait for its next step before it counts as stuck
    deadline: float = 240.0  # seconds for every order to close, from the first submit
    request_timeout: float = 30.0  # seconds before a request that got no answer is sent again
    seed: int | None = None
    # Of the orders, how many have a change approved after confirmation (the quantity and the
    # delivery date in turn) and how many are cancelled after their deposit was paid.
    changes: int = 0
    cancellations: int = 0

    def kills(self) -> Counter[str]:
        return Counter(
            {"temporal": self.temporal_kills, "worker": self.worker_kills, "web": self.web_kills}
        )

    def paths(self) -> list[str]:
        return spread(self.orders, self.changes, self.cancellations)


class Driver:
    """Orders through bench/order_flow.py's whole-life path, patiently."""

    POLL_AS = "director"  # sees every order, with its cost fields

    def __init__(self, client: Client, plan: Plan, report: Report, deadline: float) -> None:
        self.client = client
        self.plan = plan
        self.report = report
        self.deadline = deadline
        self.cost: dict[int, str] = {}
        self.ids: dict[str, int] = {}

    async def prepare(self) -> None:
        client, deadline = self.client, self.deadline
        for user in USERS:
            await client.login(user, deadline)
        products = await client.send(
            "pricing", "GET", "/api/v1/products", ok=(200,), deadline=deadline, action=False
        )
        assert products is not None
        self.cost = {p["id"]: p["standard_cost"] for p in products}
        self.ids = {p["code"]: p["id"] for p in products}
        put = await client.send(
            "admin", "PUT", "/api/v1/policy/approval", ok=(200,), deadline=deadline,
            body=BENCH_POLICY, action=False,
        )  # fmt: skip
        if put is None:
            raise HarnessError("the bench's approval policy was refused")

    async def new_draft(self) -> str:
        """A draft is a row its owner edits, not yet a process: created before any kill."""
        draft = {
            "customer_id": 1,
            "shipping_mode": "domestic",
            "requested_delivery_date": (date.today() + timedelta(days=60)).isoformat(),
            "lines": [
                {"product_id": self.ids[code], "quantity": quantity, "discount_percent": "20"}
                for code, quantity in PRODUCTS.items()
            ],
            "payment_plan": PAYMENT_PLAN,
        }
        created = await self.client.send(
            "sales", "POST", "/api/v1/orders", ok=(201,), deadline=self.deadline, body=draft,
            action=False,
        )  # fmt: skip
        if created is None:
            raise HarnessError("a draft was refused")
        return created["number"]

    async def run(self, number: str, path: str = PLAIN) -> None:
        """One order along its path, submit to closed (or cancelled); OrderStuck if it stops
        moving. Wrong figures at the end go to the report."""
        run = OrderRun(self, number)
        draft = await run.order_now()
        lines = [
            {"line_id": line["id"], "unit_cost": self.cost[line["product_id"]]}
            for line in draft["lines"]
        ]
        await run.action("sales", "submit", f"/api/v1/orders/{number}/submit", None, update=False)
        body = {"outcome": "estimated", "lines": lines, "freight": "400"}
        await run.complete("pricing", "estimate_cost", body)
        await run.complete("sales_manager", "approve", {"outcome": "approve"})
        await run.complete("director", "approve", {"outcome": "approve"})
        planned = {"outcome": "planned", "milestones": milestone_plan(run.today)}
        await run.complete("ops", "plan_shipment", planned)
        wrong: list[str] = []
        if path == CANCELLED:
            wrong = await cancel_after_deposit(run)
        else:
            if path == DATE_CHANGE:
                wrong = await change_delivery_date(run)
            await run.pay(1)
            if path == QUANTITY_CHANGE:
                wrong = await change_quantity(run)
            wrong += await self.to_closed(run)
        if wrong:
            self.report.wrong.append(f"{number} ({path}): {', '.join(wrong)}")
        (self.report.cancelled if path == CANCELLED else self.report.closed).append(number)

    async def to_closed(self, run: OrderRun) -> list[str]:
        """From the deposit paid to closed: actual costs, dispatch, arrival, the invoice, the
        balance, the variance. The figures the closed order shows wrongly, if any."""
        number = run.number
        # Confirming the deposit asks ops for the actual costs: one final batch, 8 % over.
        _, seen = await run.todo("record_actual_costs")
        expected = Decimal(seen["expected_cost"])
        freight = Decimal(seen.get("freight_cost") or "0")
        amounts = {
            "goods": ((expected - freight) * COST_OVERRUN).quantize(CENT),
            "freight": (freight * COST_OVERRUN).quantize(CENT),
        }
        items = [
            {"category": c, "amount": str(a), "supplier_payment_reference": f"SUP-{number}-{c}"}
            for c, a in amounts.items()
            if a > 0
        ]
        path = f"/api/v1/orders/{number}/actual-costs"
        await run.action("ops", "record actual costs", path, {"items": items, "final": True})
        await run.complete("finance", "approve_actual_costs", {"outcome": "approve"})
        body = {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": number}
        await run.complete("warehouse", "confirm_dispatch", body)
        arrived = {"outcome": "arrived", "actual_date": str(run.today)}
        await run.complete("ops", "confirm_arrival", arrived)
        total = (await run.order_now())["total"]  # as a change left it
        await run.invoice(total)
        await run.pay(2)
        explanation = "Supplier prices rose after the estimate; freight surcharge."
        body = {"outcome": "reviewed", "explanation": explanation}
        await run.complete("ops", "review_variance", body)
        await run.complete("ops_manager", "approve_variance", {"outcome": "approve"})
        final, _ = await run.wait_for(
            "await stage closed", lambda o: o if o["stage"] == "closed" else None
        )
        recorded = sum(amounts.values(), Decimal("0"))
        return [
            f"{name} {final[name]} (expected {want})"
            for name, want in (("paid", total), ("invoiced", total), ("actual_cost", recorded))
            if Decimal(final[name] or "NaN") != Decimal(want)
        ]


class OrderRun:
    """One order's steps through the API, patiently: waiting for its to-dos and completing
    them, actions sent with one Idempotency-Key, payments as installments fall due."""

    def __init__(self, driver: Driver, number: str) -> None:
        self.client = driver.client
        self.wait = driver.plan.wait
        self.deadline = driver.deadline
        self.number = number
        self.today = datetime.now(UTC).date()
        self.done: set[int] = set()  # to-dos this order has completed (or tried to)
        self.step = "submit"

    def fail(self, message: str) -> NoReturn:
        raise HarnessError(message)

    async def order_now(self) -> dict:
        got = await self.client.send(
            Driver.POLL_AS, "GET", f"/api/v1/orders/{self.number}", ok=(200,),
            deadline=self.deadline, order=self.number, step=self.step, action=False,
        )  # fmt: skip
        return got if got is not None else self.fail("could not be read")

    async def wait_for(self, what: str, found: Callable[[dict], Any]) -> tuple[Any, dict]:
        """The first non-None `found(order)`, polling; OrderStuck after plan.wait seconds."""
        self.step = what
        started = time.monotonic()
        until = min(self.deadline, started + self.wait)
        interval = 0.2
        while True:
            order = await self.order_now()
            if (hit := found(order)) is not None:
                return hit, order
            if time.monotonic() >= until:
                todos = [f"{t['kind']} #{t['id']}" for t in order.get("open_todos", [])]
                raise OrderStuck(
                    Stuck(self.number, what, order["stage"], todos, time.monotonic() - started)
                )
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, 1.0)

    async def todo(self, kind: str) -> tuple[dict, dict]:
        """The order's next open to-do of this kind (not one it completed), and the order."""

        def open_todo(order: dict) -> dict | None:
            return next((t for t in order.get("open_todos", [])
                         if t["kind"] == kind and t["id"] not in self.done), None)  # fmt: skip

        return await self.wait_for(f"await {kind}", open_todo)

    async def finish(
        self, user: str, todo: dict, body: dict, *, what: str | None = None
    ) -> dict | None:
        self.done.add(todo["id"])
        self.step = what or f"complete {todo['kind']}"
        return await self.client.send(
            user, "POST", f"/api/v1/todos/{todo['id']}/complete", ok=(200,),
            deadline=self.deadline, order=self.number, step=self.step, body=body,
        )  # fmt: skip

    async def complete(
        self, user: str, kind: str, body: dict, *, what: str | None = None
    ) -> dict | None:
        found, _ = await self.todo(kind)
        return await self.finish(user, found, body, what=what)

    async def action(
        self, user: str, what: str, path: str, body: dict | None, *, update: bool = True
    ) -> dict | None:
        self.step = what
        return await self.client.send(
            user, "POST", path, ok=(202,), deadline=self.deadline, order=self.number,
            step=what, body=body, idempotent=True, update=update,
        )  # fmt: skip

    async def pay(self, position: int) -> Decimal:
        """Once installment `position` falls due, the owner registers it and finance confirm
        it. Its amount."""

        def due(order: dict) -> dict | None:
            installment = order["installments"][position - 1]
            falls_due = installment["due_date"] and installment["status"] != "paid"
            return installment if falls_due else None

        installment, _ = await self.wait_for(f"await installment {position} due", due)
        payment = {
            "amount": installment["amount"],
            "received_on": datetime.now(UTC).date().isoformat(),
            "method": "bank_transfer",
            "reference": f"BANK-{self.number}-{position}",
        }
        path = f"/api/v1/orders/{self.number}/payments"
        await self.action("sales", f"register payment {position}", path, payment)
        await self.complete("finance", "confirm_payment", {"outcome": "confirm"})
        return Decimal(installment["amount"])

    async def invoice(self, amount: str) -> None:
        """The owner applies for an invoice of `amount`; finance issue it."""
        request = {
            "amount": amount,
            "title": "Bench Customer Co., Ltd.",
            "tax_number": "91310000BENCH0001X",
            "address": "1 Bench Road, Shanghai",
        }
        path = f"/api/v1/orders/{self.number}/invoice-requests"
        await self.action("sales", "apply for invoice", path, request)
        body = {"outcome": "issued", "invoice_number": f"INV-{self.number}"}
        await self.complete("finance", "issue_invoice", body)


# -- the faults ------------------------------------------------------------------------------


class Chaos:
    """Kills at moments spread over the run's actions (each a little earlier or later at
    random), one at a time, each only once the system made progress after the last restart.
    When the run has changed or cancelled orders, every second kill is aimed at one of their
    own actions (a change asked, estimated, approved, re-planned; a cancellation asked or
    approved, a refund, a credit note) on its way, if one comes within 10 s."""

    def __init__(
        self, stack: Stack, client: Client, plan: Plan, report: Report, rng: random.Random
    ) -> None:
        self.stack = stack
        self.client = client
        self.plan = plan
        self.report = report
        self.rng = rng
        self.targets = [t for t, n in plan.kills().items() for _ in range(n)]
        rng.shuffle(self.targets)
        self.special = {n for n, p in report.paths.items() if p != PLAIN}
        total = sum(PATH_ACTIONS[p] for p in plan.paths())
        spacing = total / (len(self.targets) + 1)
        self.at_actions = sorted(
            int(spacing * (i + 1) + rng.uniform(-0.3, 0.3) * spacing)
            for i in range(len(self.targets))
        )
        self.restarting: set[str] = set()
        self.recoveries: list[asyncio.Task[None]] = []  # each restart's wait for progress

    async def close(self) -> None:
        """Stop waiting for progress after a restart that saw none."""
        for task in self.recoveries:
            task.cancel()
        await asyncio.gather(*self.recoveries, return_exceptions=True)

    async def run(self, finished: asyncio.Event) -> None:
        for k, (target, at_actions) in enumerate(zip(self.targets, self.at_actions, strict=True)):
            while not finished.is_set():
                recovered = not self.report.kills or self.report.kills[-1].recovered_at is not None
                if recovered and self.report.actions >= at_actions:
                    break
                await asyncio.sleep(0.1)
            if finished.is_set():
                return
            await self.amid_actions(aimed=k % 2 == 1)
            kill = Kill(target, self.client.now(), amid=self.flying())
            self.stack.kill(target)
            self.report.kills.append(kill)
            self.restarting.add(target)
            await asyncio.sleep(self.rng.uniform(*self.plan.restart_after))
            self.stack.start(target)
            self.restarting.discard(target)
            kill.restarted_at = self.client.now()
            self.recoveries.append(asyncio.create_task(self.recovered(kill)))

    def flying(self, new_paths: bool = False) -> tuple[str, ...]:
        """The actions on their way (`new_paths`: a change's or a cancellation's only)."""
        return tuple(
            sorted(
                key
                for key, n in self.client.flying.items()
                if n > 0 and (not new_paths or any(step in key for step in NEW_PATH_STEPS))
            )
        )

    async def amid_actions(self, *, aimed: bool = False) -> None:
        """A random moment while several actions are on their way (a crash hurts most between
        an action's database write and the engine's record of it), or after 10 s anyway.
        `aimed`: first wait up to 10 s for a changed or cancelled order's own action on its way
        (while such an order is still running) and kill a moment after it was sent."""
        finished = set(self.report.closed) | set(self.report.cancelled)
        if aimed and self.special - finished:
            give_up = time.monotonic() + 10.0
            while not self.flying(new_paths=True) and time.monotonic() < give_up:
                await asyncio.sleep(0.01)
            if self.flying(new_paths=True):
                await asyncio.sleep(self.rng.uniform(0.0, 0.05))
                return
        wanted = max(1, min(3, self.plan.concurrency // 4))
        give_up = time.monotonic() + 10.0
        while self.client.in_flight < wanted and time.monotonic() < give_up:
            await asyncio.sleep(0.01)
        await asyncio.sleep(self.rng.uniform(0.0, 0.25))

    async def recovered(self, kill: Kill) -> None:
        """The first update sent after the restart and carried out: the whole path works."""
        assert kill.restarted_at is not None
        while kill.recovered_at is None:
            after = [done for sent, done in self.client.progress if sent >= kill.restarted_at]
            if after:
                kill.recovered_at = min(after)
                return
            await asyncio.sleep(0.1)

    async def watch(self, finished: asyncio.Event) -> None:
        """A process that exits without being killed is reported and started again."""
        while not finished.is_set():
            for name, process in self.stack.processes.items():
                if name in self.restarting or process.running() or process.killed:
                    continue
                code = process.popen.returncode if process.popen else None
                self.report.unexpected_exits.append(
                    f"{name} exited ({code}) at {self.client.now():.1f} s; its log:\n"
                    f"{self.stack.tail(name, 8)}"
                )
                await asyncio.sleep(1.0)
                process.start()
            await asyncio.sleep(0.5)


# -- the checks ------------------------------------------------------------------------------


async def wait_until_up(stack: Stack, timeout: float = 90.0) -> None:
    """The dev server answers, the worker polls the task queue, the web app answers."""
    from bench.order_flow import BenchError, check_worker

    deadline = time.monotonic() + timeout
    client = None
    while client is None:
        try:
            client = await connect_temporal(stack.settings.temporal_address, "default")
        except BenchError:
            if time.monotonic() > deadline or not stack.processes["temporal"].running():
                raise HarnessError(
                    f"the Temporal dev server did not come up:\n{stack.tail('temporal')}"
                ) from None
            await asyncio.sleep(0.5)
    stack.start("worker")
    stack.start("web")
    while True:
        try:
            await check_worker(client, "default", stack.settings.task_queue)
            break
        except BenchError:
            if time.monotonic() > deadline or not stack.processes["worker"].running():
                raise HarnessError(f"the worker did not poll:\n{stack.tail('worker')}") from None
            await asyncio.sleep(0.5)
    async with httpx.AsyncClient(base_url=stack.url, timeout=5) as http:
        while True:
            try:
                await http.get("/api/v1/me")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or not stack.processes["web"].running():
                    raise HarnessError(
                        f"the web app did not answer:\n{stack.tail('web')}"
                    ) from None
                await asyncio.sleep(0.5)


async def running_workflows(stack: Stack, numbers: list[str]) -> list[str]:
    """Every workflow of these orders that has not completed (the order, its approval rounds,
    shipment and collection), as the engine sees it."""
    from temporalio.client import WorkflowExecutionStatus

    client = await connect_temporal(stack.settings.temporal_address, "default")
    ours = tuple(f"order-{n}" for n in numbers)
    left = []
    async for execution in client.list_workflows():
        if execution.id.startswith(ours) and execution.status != WorkflowExecutionStatus.COMPLETED:
            status = execution.status.name if execution.status else "?"
            left.append(f"{execution.id} {status}")
    return sorted(left)


# -- the whole -------------------------------------------------------------------------------


async def run_faults(stack: Stack, plan: Plan) -> Report:
    """Drive plan.orders orders through their life while killing the stack's processes; then
    check. The caller owns `stack` (and closes it, whatever happens)."""
    seed = plan.seed if plan.seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed)
    report = Report(seed=seed, planned_kills=plan.kills(), workdir=stack.workdir)
    await asyncio.to_thread(stack.prepare_database)
    stock_before = stock(stack.db_path)
    stack.start("temporal")
    await wait_until_up(stack)

    started = time.monotonic()
    limits = httpx.Limits(max_connections=plan.concurrency * 2 + 8)
    timeout = httpx.Timeout(plan.request_timeout, connect=5.0)
    async with httpx.AsyncClient(base_url=stack.url, limits=limits, timeout=timeout) as http:
        client = Client(http, report, started)
        driver = Driver(client, plan, report, started + plan.deadline + 60)
        await driver.prepare()
        numbers = [await driver.new_draft() for _ in range(plan.orders)]
        report.orders = numbers
        report.paths = dict(zip(numbers, plan.paths(), strict=True))
        driver.deadline = time.monotonic() + plan.deadline
        client.started = started = time.monotonic()
        finished = asyncio.Event()
        chaos = Chaos(stack, client, plan, report, rng)
        lanes = asyncio.Semaphore(plan.concurrency)

        async def one(i: int, number: str) -> None:
            await asyncio.sleep(min(i, plan.concurrency) * plan.stagger)
            async with lanes:
                try:
                    await driver.run(number, report.paths[number])
                except OrderStuck as stuck:
                    report.stuck.append(stuck.stuck)
                except HarnessError as error:
                    report.harness_errors.append(f"{number}: {error}")

        async def orders() -> None:
            try:
                await asyncio.gather(*(one(i, n) for i, n in enumerate(numbers)))
            finally:
                finished.set()

        try:
            async with asyncio.TaskGroup() as group:
                for work in (orders(), chaos.run(finished), chaos.watch(finished)):
                    group.create_task(work)
        finally:
            await chaos.close()
        report.seconds = time.monotonic() - started
        # A killed process is back by now (chaos.run restarts before it returns).
    await asyncio.sleep(1.0)  # the last restart's visibility catches up
    try:
        report.running_workflows = await running_workflows(stack, numbers)
    except Exception as error:  # reported, the other checks still run
        report.harness_errors.append(f"listing workflows: {type(error).__name__}: {error}")
    stack.stop()
    report.violations = check_database(stack.db_path, report.paths, stock_before)
    (stack.workdir / "report.txt").write_text(report.text(resends=True) + "\n")
    return report


@contextlib.contextmanager
def stack_in(workdir: Path | None, keep: bool) -> Iterator[Stack]:
    made = workdir is None
    path = Path(tempfile.mkdtemp(prefix="o2c-faults-")) if workdir is None else workdir
    path.mkdir(parents=True, exist_ok=True)
    stack = Stack(path)
    try:
        yield stack
    finally:
        stack.close()
        if made and not keep:
            shutil.rmtree(path, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100, help="orders (100)")
    parser.add_argument("--temporal-kills", type=int, default=5, help="dev server kills (5)")
    parser.add_argument("--worker-kills", type=int, default=1, help="worker kills (1)")
    parser.add_argument("--web-kills", type=int, default=1, help="web app kills (1)")
    parser.add_argument("--concurrency", type=int, default=20, help="orders in flight (20)")
    parser.add_argument(
        "--changes", type=int, default=10,
        help="of the orders, how many get a change approved after confirmation (10)",
    )  # fmt: skip
    parser.add_argument(
        "--cancellations", type=int, default=5,
        help="of the orders, how many are cancelled after the deposit was paid (5)",
    )  # fmt: skip
    parser.add_argument(
        "--stagger", type=float, default=0.5, help="seconds between the first submits (0.5)"
    )
    parser.add_argument(
        "--deadline", type=float, default=600.0,
        help="seconds for every order to close, from the first submit (600)",
    )  # fmt: skip
    parser.add_argument(
        "--wait", type=float, default=120.0,
        help="seconds an order may wait for its next step before it counts as stuck (120)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, help="the random seed (kill moments, targets)")
    parser.add_argument(
        "--resends", action="store_true", help="list every action that was sent again, and why"
    )
    parser.add_argument("--keep", type=Path, help="keep the data and logs in this directory")
    parser.add_argument(
        "--profile", action="store_true",
        help="print the first order of each path's to-dos, timeline and mail (to calibrate the "
        "checks)",
    )  # fmt: skip
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> int:
    if TEMPORAL is None:
        say("faults: the temporal CLI is not installed (`make install` brings it)")
        return 2
    plan = Plan(
        orders=args.orders,
        temporal_kills=args.temporal_kills,
        worker_kills=args.worker_kills,
        web_kills=args.web_kills,
        concurrency=args.concurrency,
        stagger=args.stagger,
        deadline=args.deadline,
        wait=args.wait,
        seed=args.seed,
        changes=args.changes,
        cancellations=args.cancellations,
    )
    with stack_in(args.keep, keep=args.keep is not None) as stack:
        report = await run_faults(stack, plan)
        say(report.text(resends=args.resends))
        if args.profile:
            for path in sorted(set(report.paths.values())):
                number = next(n for n, p in report.paths.items() if p == path)
                say(f"{path} {number}: {profile(stack.db_path, number)}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(parse_args())))
    except KeyboardInterrupt:
        sys.exit(130)
