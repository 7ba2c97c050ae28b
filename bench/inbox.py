"""Inbox latency on a big database: 100,000 orders and 1,000,000 to-dos in a fresh SQLite file,
exactly 50 of them open for one user; prints p50/p95 of the inbox query (models.queries.list_todos)
and of GET /api/v1/todos through the real app (httpx.ASGITransport on web.app.create_app).

    .venv/bin/python bench/inbox.py [--orders 100000] [--todos 1000000] [--user sales_manager]
        [--runs 200] [--keep PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_MS = 30.0
OPEN_FOR_USER = 50
PASSWORD = "bench-inbox-password"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HISTORY = timedelta(days=3 * 365)

# Who the company's to-dos go to, and what they ask (DESIGN: to-do kinds and roles).
ROLE_KINDS = {
    "pricing": ["estimate_cost"],
    "ops": ["plan_shipment", "confirm_milestone", "confirm_arrival", "record_actual_costs",
            "review_variance", "handle_exception"],
    "ops_manager": ["approve_variance"],
    "warehouse": ["confirm_dispatch"],
    "service": ["confirm_acceptance"],
    "finance": ["confirm_payment", "issue_invoice", "approve_actual_costs", "approve"],
    "director": ["approve"],
}  # fmt: skip
OWNER_KINDS = ["revise", "collect"]


def say(text: str = "") -> None:
    print(text, flush=True)  # noqa: T201 - a command's output


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def stamp(moment: datetime) -> str:
    """How SQLAlchemy's SQLite dialect stores a DateTime (UTC, without the zone)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# -- the database ----------------------------------------------------------------------------


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.cmd_opts = argparse.Namespace(x=[f"url={url}"])
    command.upgrade(config, "head")


async def seed(url: str, password: str = PASSWORD) -> None:
    from models.db import create_engine, create_session_factory
    from models.seed import seed_demo

    engine = create_engine(url)
    async with create_session_factory(engine)() as session:
        await seed_demo(session, password)
    await engine.dispose()


def fill(path: Path, *, orders: int, todos: int, user: str, rng: random.Random) -> dict:
    """Bulk-insert the orders and to-dos with executemany, in one transaction."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    users = {name: (uid, role, dept) for uid, name, role, dept in db.execute(
        "SELECT id, username, role, department_id FROM users")}  # fmt: skip
    departments = dict(db.execute("SELECT id, manager_id FROM departments"))
    chosen_id, chosen_role, _ = users[user]
    managed = {d for d, manager in departments.items() if manager == chosen_id}
    sellers = [users[name] for name in ("sales", "sales2", "follower")]
    customers = [row[0] for row in db.execute("SELECT id FROM customers")]
    user_ids = [uid for uid, _, _ in users.values()]

    order_rows, order_meta = [], []
    for n in range(1, orders + 1):
        created = NOW - HISTORY + HISTORY * (n / orders)
        owner_id, _, department_id = rng.choice(sellers)
        total = round(rng.uniform(1_000, 900_000), 2)
        stage = rng.choices(
            ["closed", "cancelled", "collection", "fulfilment", "confirmed", "approval", "costing"],
            [70, 8, 10, 6, 3, 2, 1],
        )[0]
        number = f"SO-{created.year}-{n:06d}"
        order_rows.append((
            n, number, rng.choice(customers), owner_id, department_id,
            rng.choice(["domestic", "export"]), (created + timedelta(days=45)).date().isoformat(),
            total, total, stage, 1, 0, 0, stamp(created), stamp(created), stamp(created),
        ))  # fmt: skip
        order_meta.append((number, owner_id, department_id, created))
    db.executemany(
        "INSERT INTO orders (id, number, customer_id, owner_id, department_id, shipping_mode, "
        "requested_delivery_on, list_total, total, stage, approval_round, delayed, overdue, "
        "created_at, submitted_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        order_rows,
    )

    # The open to-dos of the chosen user: most as their department's manager, a few by name.
    # Every other open to-do goes to someone else; the closed ones go to everyone, them too.
    chosen_open = set(rng.sample(range(todos - todos // 50, todos), OPEN_FOR_USER))
    by_name = set(sorted(chosen_open)[:: OPEN_FOR_USER // 5])
    other_departments = [d for d in departments if d not in managed]
    other_users = [uid for uid in user_ids if uid != chosen_id]
    other_roles = [r for r in ROLE_KINDS if r != chosen_role]
    todo_rows, assignee_rows = [], []
    per_order = todos / orders
    for t in range(todos):
        number, owner_id, department_id, created_order = order_meta[int(t / per_order)]
        order_id = int(t / per_order) + 1
        created = created_order + timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        if t in chosen_open:
            status = "open"
            if t in by_name:
                assignees, kind = [(chosen_id, None, None)], "approve"
            else:
                assignees, kind = [(None, None, rng.choice(sorted(managed)))], "approve"
        else:
            recent = t >= todos - todos // 50  # the newest 2 % are still open
            status = "open" if recent and rng.random() < 0.5 else rng.choices(
                ["done", "cancelled"], [92, 8])[0]  # fmt: skip
            way = rng.random()
            if status == "open":  # open, so it must not reach the chosen user
                if way < 0.6:
                    role = rng.choice(other_roles)
                    assignees, kind = [(None, role, None)], rng.choice(ROLE_KINDS[role])
                elif way < 0.85:
                    assignees, kind = [(rng.choice(other_users), None, None)], "revise"
                else:
                    assignees = [(None, None, rng.choice(other_departments))]
                    kind = "approve"
            elif way < 0.45:
                role = rng.choice(list(ROLE_KINDS))
                assignees, kind = [(None, role, None)], rng.choice(ROLE_KINDS[role])
            elif way < 0.75:
                assignees = [(None, None, department_id)]
                kind = "approve"
            else:
                assignees = [(rng.choice(user_ids), None, None)]
                kind = rng.choice(OWNER_KINDS)
            if status != "open" and rng.random() < 0.1:  # a second way, e.g. role and a person
                assignees.append((None, rng.choice(list(ROLE_KINDS)), None))
        todo_id = t + 1
        done = status != "open"
        todo_rows.append((
            todo_id, f"order-{number}/t/{t}", order_id, f"order-{number}", kind, status,
            rng.choice(user_ids), stamp(created), stamp(created + timedelta(days=1)),
            stamp(created + timedelta(hours=5)) if done else None,
            rng.choice(user_ids) if status == "done" else None,
            ("done" if status == "done" else "cancelled") if done else None,
        ))  # fmt: skip
        for assignee_user, role, department in assignees:
            assignee_rows.append((todo_id, assignee_user, role, department, status, stamp(created)))
        if len(todo_rows) >= 100_000:
            flush_todos(db, todo_rows, assignee_rows)
    flush_todos(db, todo_rows, assignee_rows)
    db.commit()
    counts = {
        "orders": db.execute("SELECT count(*) FROM orders").fetchone()[0],
        "todos": db.execute("SELECT count(*) FROM todos").fetchone()[0],
        "open todos": db.execute("SELECT count(*) FROM todos WHERE status='open'").fetchone()[0],
        "assignees": db.execute("SELECT count(*) FROM todo_assignees").fetchone()[0],
    }
    db.close()
    return counts


def flush_todos(db: sqlite3.Connection, todo_rows: list, assignee_rows: list) -> None:
    db.executemany(
        "INSERT INTO todos (id, key, order_id, workflow_id, kind, status, requested_by_id, "
        "created_at, due_at, completed_at, completed_by_id, outcome) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        todo_rows,
    )
    db.executemany(
        "INSERT INTO todo_assignees (todo_id, user_id, role, department_id, status, created_at) "
        "VALUES (?,?,?,?,?,?)",
        assignee_rows,
    )
    todo_rows.clear()
    assignee_rows.clear()


# -- the measurements ------------------------------------------------------------------------


def explain(path: Path, sql: str, params: tuple) -> list[str]:
    db = sqlite3.connect(path)
    plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    db.close()
    return plan


async def measure(url: str, username: str, runs: int, path: Path) -> None:
    import httpx
    from sqlalchemy import event, select

    from models import queries
    from models.db import create_engine, create_session_factory
    from models.tables import User
    from settings import Settings
    from web.app import create_app

    engine = create_engine(url)
    sessions = create_session_factory(engine)
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.username == username))
        actor = await queries.actor_for(session=session, user=user)

    # The statement list_todos sends, for EXPLAIN QUERY PLAN.
    statements: list[str] = []
    params: list[tuple] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
        params.append(tuple(parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    async with sessions() as session:
        items = await queries.list_todos(session=session, user=user)
    event.remove(engine.sync_engine, "before_cursor_execute", capture)
    if len(items) != OPEN_FOR_USER:
        raise SystemExit(f"expected {OPEN_FOR_USER} open to-dos for {username}, got {len(items)}")
    inbox_sql = next(s for s in statements if "todo_assignees" in s)
    inbox_params = params[statements.index(inbox_sql)]

    query_times = []
    for _ in range(runs):
        started = time.perf_counter()
        async with sessions() as session:
            found = await queries.list_todos(session=session, user=user)
        query_times.append(time.perf_counter() - started)
        assert len(found) == OPEN_FOR_USER

    settings = Settings(database_url=url, secret_key="bench-inbox", demo_password=PASSWORD)
    app = create_app(settings, session_factory=sessions)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        token = await http.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        api_times = []
        for _ in range(runs + 5):
            started = time.perf_counter()
            response = await http.get("/api/v1/todos", headers=headers)
            api_times.append(time.perf_counter() - started)
            response.raise_for_status()
            assert len(response.json()) == OPEN_FOR_USER
        api_times = api_times[5:]  # the first requests warm the app up
    await engine.dispose()

    say(
        f"inbox of {username} ({OPEN_FOR_USER} open to-dos; role {actor.role.value}, manages "
        f"departments {actor.managed_department_ids}), {runs} runs each:"
    )
    for name, times in (("list_todos (query)", query_times), ("GET /api/v1/todos", api_times)):
        p50, p95 = percentile(times, 50) * 1000, percentile(times, 95) * 1000
        verdict = "ok" if p95 <= TARGET_MS else "MISSED"
        say(f"  {name:20} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  (target p95 <= {TARGET_MS:.0f} ms: "
            f"{verdict})")  # fmt: skip
    say("  query plan (EXPLAIN QUERY PLAN of the inbox statement):")
    for line in explain(path, inbox_sql, inbox_params):
        say(f"    {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--todos", type=int, default=1_000_000)
    parser.add_argument("--user", default="sales_manager", help="whose inbox (sales_manager)")
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each (200)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument("--reuse", type=Path, help="measure an existing database from --keep")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="o2c-inbox-") as tmp:
        path = args.reuse or args.keep or Path(tmp) / "inbox.db"
        url = f"sqlite+aiosqlite:///{path}"
        if not args.reuse:
            if path.exists():
                raise SystemExit(f"{path} exists; remove it or use --reuse")
            started = time.perf_counter()
            migrate(url)
            asyncio.run(seed(url))
            counts = fill(
                path, orders=args.orders, todos=args.todos, user=args.user,
                rng=random.Random(args.seed),
            )  # fmt: skip
            say(
                f"filled {path} in {time.perf_counter() - started:.0f} s: "
                + ", ".join(f"{v:,} {k}" for k, v in counts.items())
            )
        asyncio.run(measure(url, args.user, args.runs, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
