"""Cost variance report latency on a big database: 50,000 closed orders (with their figures in
five cost categories) and 10,000 still open in a fresh SQLite file; prints p50/p95 of the
report (models.reports.cost_report) for several filter combinations, then of GET
/api/v1/reports/cost-variance in process.

    .venv/bin/python bench/cost_report.py [--closed 50000] [--open 10000] [--runs 100]
        [--plans] [--keep PATH | --reuse PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.inbox import migrate, say, seed, stamp  # noqa: E402 - after sys.path
from bench.receivables import (  # noqa: E402 - after sys.path
    add_people,
    explain,
    time_api,
    timed,
    verdict,
)

PASSWORD = "bench-cost-report-password"
# The report's default period ends today (the clock's), so the closings are spread up to it.
TODAY = datetime.now(UTC).date()
HISTORY_DAYS = 730
JITTER_DAYS = 45
REPS = 40
EXPLANATIONS = [
    "Freight rates rose after the estimate.",
    "Reshipped a damaged part.",
    "The supplier gave a volume discount.",
    "Installation took an extra day on site.",
    "Customs inspection fee.",
    "Steel prices rose.",
]


def cents(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def fill(path: Path, *, closed: int, still_open: int, rng: random.Random) -> dict:
    """More customers and sales reps than the demo has, then the orders (closed ones with
    their variance, explanation and per-category figures, as the closing step writes them),
    bulk-inserted with executemany in one transaction."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    sellers, customers = add_people(db, REPS)

    order_rows, variance_rows = [], []
    for n in range(1, closed + still_open + 1):
        owner_id, department_id = rng.choice(sellers)
        total = rng.uniform(1_000, 900_000)
        export = rng.random() < 0.2
        planned = {
            "goods": total * rng.uniform(0.4, 0.7),
            "freight": total * rng.uniform(0.01, 0.05),
            "installation": total * rng.uniform(0.02, 0.08) if rng.random() < 0.5 else 0.0,
            "customs": total * rng.uniform(0.01, 0.03) if export else 0.0,
            "other": total * rng.uniform(0.0, 0.01),
        }
        expected = {c: cents(v) for c, v in planned.items()}
        expected_cost = sum(expected.values(), Decimal("0.00"))
        # Orders close in about the order they were entered: the closed ones first, each
        # within JITTER_DAYS of its place in the history; the open ones are the latest.
        is_closed = n <= closed
        on_time = TODAY - timedelta(days=HISTORY_DAYS - round(n / max(1, closed) * HISTORY_DAYS))
        closed_on = on_time + timedelta(days=rng.randint(-JITTER_DAYS, JITTER_DAYS))
        closed_on = max(TODAY - timedelta(days=HISTORY_DAYS), min(TODAY, closed_on))
        created = datetime.combine(closed_on - timedelta(days=90), clock(9), UTC)
        closed_at = variance = percent = explanation = actual_cost = None
        if is_closed:
            closed_at = datetime.combine(closed_on, clock.min, UTC) + timedelta(
                seconds=rng.randint(0, 86_399)
            )
            actual = {}
            for category, amount in expected.items():
                # Mostly close to the estimate; now and then far off either way.
                spread = 0.4 if rng.random() < 0.05 else 0.06
                actual[category] = cents(float(amount) * max(0.0, rng.gauss(1.0, spread)))
                variance_rows.append((
                    n, category, str(amount), str(actual[category]),
                    str(actual[category] - amount),
                ))  # fmt: skip
            actual_cost = sum(actual.values(), Decimal("0.00"))
            variance = actual_cost - expected_cost
            percent = (variance / expected_cost * 100).quantize(Decimal("0.01"))
            if abs(percent) > 5:
                explanation = rng.choice(EXPLANATIONS)
        order_rows.append((
            n, f"SO-{TODAY.year}-{n:06d}", rng.choice(customers), owner_id, department_id,
            "export" if export else "domestic", round(total, 2), round(total, 2),
            "closed" if is_closed else "fulfilment", 1, 0, 0, round(total, 2) if is_closed else 0,
            0, "paid" if is_closed else "not_due", str(expected_cost),
            str(cents(total) - expected_cost), None if actual_cost is None else str(actual_cost),
            None if variance is None else str(variance), None if percent is None else str(percent),
            explanation, stamp(closed_at) if closed_at else None, stamp(created), stamp(created),
            stamp(created), stamp(closed_at or created),
        ))  # fmt: skip
    db.executemany(
        "INSERT INTO orders (id, number, customer_id, owner_id, department_id, shipping_mode, "
        "list_total, total, stage, approval_round, delayed, overdue, paid, invoiced, "
        "collection_status, expected_cost, expected_margin, actual_cost, variance, "
        "variance_percent, variance_explanation, closed_at, created_at, submitted_at, "
        "confirmed_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        order_rows,
    )
    db.executemany(
        "INSERT INTO order_cost_variances (order_id, category, expected, actual, difference) "
        "VALUES (?,?,?,?,?)",
        variance_rows,
    )
    db.commit()
    counts = {
        "orders": db.execute("SELECT count(*) FROM orders").fetchone()[0],
        "closed orders": db.execute(
            "SELECT count(*) FROM orders WHERE closed_at IS NOT NULL"
        ).fetchone()[0],
        "category rows": db.execute("SELECT count(*) FROM order_cost_variances").fetchone()[0],
        "sales reps": len(sellers),
        "customers": len(customers),
    }
    db.close()
    return counts


# -- the measurements ------------------------------------------------------------------------


async def measure(url: str, runs: int, path: Path, plans: bool) -> bool:
    from sqlalchemy import event, select

    from models.db import create_engine, create_session_factory
    from models.domain import CostCategory
    from models.reports.cost_report import CostReportFilter, cost_variance_report, report_period
    from models.tables import Customer, Department, User
    from settings import Settings
    from web.app import create_app

    engine = create_engine(url)
    sessions = create_session_factory(engine)
    async with sessions() as session:
        ops = await session.scalar(select(User).where(User.username == "ops"))
        rep = await session.scalar(select(User).where(User.username == "rep001"))
        customer = await session.scalar(
            select(Customer.id).where(Customer.name == "Bench customer 007")
        )
        departments = {d.name: d.id for d in await session.scalars(select(Department))}

    default = report_period(TODAY)
    year = (TODAY - timedelta(days=364), TODAY)
    everything = (TODAY - timedelta(days=HISTORY_DAYS), TODAY)

    def period(days: tuple, **more) -> CostReportFilter:
        return CostReportFilter(closed_from=days[0], closed_to=days[1], **more)

    cases = [
        ("90 days (default), page 1", period(default)),
        ("90 days, page 200", period(default, page=200)),
        ("90 days, freight", period(default, category=CostCategory.freight)),
        ("90 days, department Sales (tree)", period(default, department_id=departments["Sales"])),
        ("a year, page 1", period(year)),
        ("a year, goods", period(year, category=CostCategory.goods)),
        ("a year, one customer", period(year, customer_id=customer)),
        ("a year, one owner", period(year, owner_id=rep.id)),
        (
            "a year, East office + installation",
            period(
                year,
                department_id=departments["East China office"],
                category=CostCategory.installation,
            ),
        ),
        ("two years (everything), page 1", period(everything)),
        ("two years, customs", period(everything, category=CostCategory.customs)),
    ]

    async def run(filters: CostReportFilter) -> object:
        async with sessions() as session:
            return await cost_variance_report(session=session, user=ops, filters=filters)

    all_ok = True
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    say(
        f"queries (models.reports.cost_report, as ops, today {TODAY}), {runs} runs each; "
        f"load {load}:"
    )
    for name, filters in cases:
        times, cpu, found = await timed(
            lambda filters=filters: run(filters),
            runs,
            warmup=1,  # the page cache
        )
        line, ok = verdict(name, times, cpu, width=52)
        all_ok &= ok
        say(f"{line}  [{found.totals.count:,} orders, {len(found.rows)} on the page]")

    settings = Settings(database_url=url, secret_key="bench-cost-report", demo_password=PASSWORD)
    app = create_app(settings, session_factory=sessions)
    base = "/api/v1/reports/cost-variance"
    calls = [
        (f"GET {base}", "ops", base),
        (f"GET {base}?category=freight", "ops", f"{base}?category=freight"),
        (f"GET ...?closed_from={year[0]}&per_page=100", "ops", f"{base}?closed_from={year[0]}"
         "&per_page=100"),
        ("GET ...?department_id=<Sales>&category=goods", "ops", f"{base}?department_id="
         f"{departments['Sales']}&category=goods"),
    ]  # fmt: skip
    all_ok &= await time_api(app, calls, runs, PASSWORD, width=52)

    if plans:
        statements: list[tuple[str, tuple]] = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if "FROM orders" in statement or "JOIN orders" in statement:
                statements.append((statement, tuple(parameters)))

        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        for name, filters in cases:
            statements.clear()
            await run(filters)
            say(f"  query plans ({name}):")
            for sql, params in statements:
                say(f"    {' '.join(sql.split())[:90]} ...")
                for line in explain(path, sql, params):
                    say(f"      {line}")
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    await engine.dispose()
    return all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--closed", type=int, default=50_000, help="closed orders (50,000)")
    parser.add_argument("--open", type=int, default=10_000, help="orders not closed (10,000)")
    parser.add_argument("--runs", type=int, default=100, help="timed runs of each (100)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--plans", action="store_true", help="print the query plans")
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument("--reuse", type=Path, help="measure an existing database from --keep")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a p95 is missed")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="o2c-cost-report-") as tmp:
        path = args.reuse or args.keep or Path(tmp) / "cost_report.db"
        url = f"sqlite+aiosqlite:///{path}"
        if not args.reuse:
            if path.exists():
                raise SystemExit(f"{path} exists; remove it or use --reuse")
            started = time.perf_counter()
            migrate(url)
            asyncio.run(seed(url, PASSWORD))
            counts = fill(
                path, closed=args.closed, still_open=args.open, rng=random.Random(args.seed)
            )
            say(
                f"filled {path} in {time.perf_counter() - started:.0f} s: "
                + ", ".join(f"{v:,} {k}" for k, v in counts.items())
            )
        all_ok = asyncio.run(measure(url, args.runs, path, args.plans))
    return 1 if args.strict and not all_ok else 0


if __name__ == "__main__":
    sys.exit(main())
