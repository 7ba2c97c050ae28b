"""Exporting the order list on a big database: 100,000 orders in a fresh SQLite file, then the
director's whole order list exported as XLSX and as CSV through the app in process (GET
/api/v1/orders?format=...), each in a process of its own; prints the time, the rows, the file's
size and the process's peak RSS before and after the export.

    .venv/bin/python bench/export.py [--orders 100000] [--keep PATH | --reuse PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.inbox import migrate, say, seed, stamp  # noqa: E402 - after sys.path
from bench.receivables import add_people  # noqa: E402 - after sys.path

PASSWORD = "bench-export-password"
REPS = 40
STAGES = ["draft", "costing", "approval", "fulfilment", "collection", "closed"]


def fill(path: Path, *, orders: int, rng: random.Random) -> int:
    """Sales reps and customers beyond the demo's, then the orders, in one transaction."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    sellers, customers = add_people(db, REPS)
    now = datetime.now(UTC)
    rows = []
    for n in range(1, orders + 1):
        owner_id, department_id = rng.choice(sellers)
        total = round(rng.uniform(1_000, 900_000), 2)
        created = stamp(now - timedelta(minutes=n))
        rows.append((
            n, f"SO-{now.year}-{n:06d}", rng.choice(customers), owner_id, department_id,
            "domestic", total, total, rng.choice(STAGES), 1, 0, 0, 0, 0,
            round(total * 0.6, 2), round(total * 0.4, 2), created, created,
        ))  # fmt: skip
    db.executemany(
        "INSERT INTO orders (id, number, customer_id, owner_id, department_id, shipping_mode, "
        "list_total, total, stage, approval_round, delayed, overdue, paid, invoiced, "
        "expected_cost, expected_margin, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    db.commit()
    count = int(db.execute("SELECT count(*) FROM orders").fetchone()[0])
    db.close()
    return count


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def export_once(
    url: str, file_format: str, password: str = PASSWORD, *, traced: bool = False
) -> None:
    """One export in this process, as the director (every order). Also run by bench/reports.py
    on its company (with its password). With `traced`, the peak of the Python memory allocated
    during the export (tracemalloc, which slows it down) instead of the process's peak RSS,
    which signing in (a memory-hard password hash) has already set higher."""
    import httpx

    from models.db import create_engine, create_session_factory
    from settings import Settings
    from web.app import create_app

    settings = Settings(database_url=url, secret_key="bench", smtp_host=None)
    engine = create_engine(url)
    app = create_app(settings, session_factory=create_session_factory(engine))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=600
    ) as http:
        token = await http.post(
            "/api/v1/auth/token", data={"username": "director", "password": password}
        )
        token.raise_for_status()
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        (await http.get("/api/v1/orders", params={"per_page": 5})).raise_for_status()
        before = peak_rss_mb()
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        size = 0
        async with http.stream("GET", "/api/v1/orders", params={"format": file_format}) as answer:
            answer.raise_for_status()
            async for chunk in answer.aiter_bytes():
                size += len(chunk)
        elapsed = time.perf_counter() - started
    await engine.dispose()
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        say(
            f"{file_format.upper():4} {elapsed:6.1f} s under tracemalloc: the export allocated at "
            f"most {peak / 2**20:.1f} MB at once"
        )
        return
    say(
        f"{file_format.upper():4} {elapsed:6.1f} s, {size / 1e6:5.1f} MB file; peak RSS "
        f"{before:.0f} MB before the export, {peak_rss_mb():.0f} MB after"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument("--reuse", type=Path, help="measure an existing database from --keep")
    parser.add_argument("--only", choices=["csv", "xlsx"], help=argparse.SUPPRESS)
    parser.add_argument("--password", default=PASSWORD, help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only:  # the child process that measures one export
        url = f"sqlite+aiosqlite:///{args.reuse}"
        asyncio.run(export_once(url, args.only, args.password, traced=args.tracemalloc))
        return 0
    with tempfile.TemporaryDirectory(prefix="o2c-export-") as tmp:
        path = args.reuse or args.keep or Path(tmp) / "export.db"
        url = f"sqlite+aiosqlite:///{path}"
        if not args.reuse:
            if path.exists():
                raise SystemExit(f"{path} exists; remove it or use --reuse")
            started = time.perf_counter()
            migrate(url)
            asyncio.run(seed(url, PASSWORD))
            count = fill(path, orders=args.orders, rng=random.Random(args.seed))
            say(f"filled {path} in {time.perf_counter() - started:.0f} s: {count:,} orders")
        for file_format in ("xlsx", "csv"):
            subprocess.run(
                [sys.executable, __file__, "--reuse", str(path), "--only", file_format],
                check=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
