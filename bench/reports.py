"""The reports on a big company (issue 19): 100,000 orders over two years, 40 sales reps with
monthly targets (bench/company.py, cached under .data/bench/), then each report's API timed
through the real app in process (httpx.ASGITransport, signed in with a bearer token) as the
director, a sales manager (the East China office's, a tree of three departments) and a sales
rep: p50 and p95 per report and role against the 100 ms target, with the median CPU time of
the process per call. Then the director's whole order list exported as XLSX and as CSV, each in
a process of its own (bench/export.py): its time, size and peak RSS (getrusage's ru_maxrss)
before and after the export; then the XLSX again under tracemalloc, for the most Python memory
the export held at once.

    .venv/bin/python bench/reports.py [--orders 100000] [--runs 30] [--only NAME]
        [--roles director,sales_manager,sales] [--no-export] [--rebuild]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.company import PASSWORD, company_database  # noqa: E402 - after sys.path
from bench.inbox import percentile, say  # noqa: E402 - after sys.path
from bench.receivables import timed  # noqa: E402 - after sys.path

TARGET_MS = 100.0
ROLES = ["director", "sales_manager", "sales"]
HOME = "/api/v1/reports/home"
PERFORMANCE = "/api/v1/reports/performance"


@dataclass
class Result:
    status: int
    p50: float = 0.0
    p95: float = 0.0
    cpu: float = 0.0


def report_calls(today: datetime) -> list[tuple[str, str]]:
    """(name, path) of every report call: the performance report for last month, this
    quarter and this year by person, department and customer; the statistics and waits over
    their default 12 months; receivables, aging, cost variance and the order list."""
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    periods = [
        ("month", f"{year:04d}-{month:02d}"),
        ("quarter", f"{today.year:04d}-Q{(today.month - 1) // 3 + 1}"),
        ("year", f"{today.year:04d}"),
    ]
    calls = [
        (f"performance {kind} by {by}", f"{PERFORMANCE}?period={kind}&value={value}&by={by}")
        for kind, value in periods
        for by in ("person", "department", "customer")
    ]  # fmt: skip
    calls += [
        ("customers by level", "/api/v1/reports/customers?by=level"),
        ("customers by customer", "/api/v1/reports/customers?by=customer"),
        ("orders by department", "/api/v1/reports/orders?by=department"),
        ("orders by product_category", "/api/v1/reports/orders?by=product_category"),
        ("orders by region", "/api/v1/reports/orders?by=region"),
        ("waits", "/api/v1/reports/waits"),
        ("receivables", "/api/v1/receivables"),
        ("receivables overdue", "/api/v1/receivables?overdue=true"),
        ("receivables aging", "/api/v1/receivables/aging"),
        ("cost variance", "/api/v1/reports/cost-variance"),
        ("order list", "/api/v1/orders"),
        ("order list, overdue", "/api/v1/orders?overdue=true"),
        ("home figures", HOME),
    ]
    return calls


async def measure(path: Path, calls: list[tuple[str, str]], roles: list[str], runs: int) -> dict:
    import httpx

    from models.db import create_engine, create_session_factory
    from settings import Settings
    from web.app import create_app

    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    settings = Settings(database_url=url, secret_key="bench-reports", smtp_host=None)
    app = create_app(settings, session_factory=create_session_factory(engine))
    if HOME not in app.openapi()["paths"]:
        say(f"{HOME} is not a route of this app yet: the home page's figures are skipped")
        calls = [c for c in calls if c[1] != HOME]
    results: dict[tuple[str, str], Result] = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
    ) as http:
        for role in roles:
            token = await http.post(
                "/api/v1/auth/token", data={"username": role, "password": PASSWORD}
            )
            token.raise_for_status()
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            say(f"as {role}: load average {load()}")
            for name, url_path in calls:
                results[(name, role)] = await time_call(http, url_path, headers, runs)
                say(f"  {name:34} {cell(results[(name, role)])}")
    await engine.dispose()
    return results


async def time_call(http, url_path: str, headers: dict, runs: int) -> Result:
    """`runs` GETs after 2 warm-up ones; a refusal (its status) is not timed."""
    first = await http.get(url_path, headers=headers)
    if first.status_code != 200:
        return Result(first.status_code)

    async def get() -> None:
        answer = await http.get(url_path, headers=headers)
        answer.raise_for_status()

    times, cpu, _ = await timed(get, runs, warmup=1)
    return Result(
        200, percentile(times, 50) * 1000, percentile(times, 95) * 1000, percentile(cpu, 50) * 1000
    )


def load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def cell(result: Result) -> str:
    if result.status != 200:
        return f"{'(' + str(result.status) + ')':>22}"
    flag = " " if result.p95 <= TARGET_MS else "!"
    return f"{result.p50:7.1f} {result.p95:7.1f}{flag} {result.cpu:5.1f}"


def table(results: dict, calls: list[tuple[str, str]], roles: list[str]) -> None:
    say()
    say(
        f"p50 / p95 / median CPU per call, in ms ('!': p95 above {TARGET_MS:.0f} ms; "
        "(403): not for the role)"
    )
    say(f"{'report':34} " + " ".join(f"{role:>22}" for role in roles))
    for name, _ in calls:
        if (name, roles[0]) in results:
            say(f"{name:34} " + " ".join(cell(results[(name, role)]) for role in roles))
    missed = [
        f"{name} ({role})"
        for (name, role), r in results.items()
        if r.status == 200 and r.p95 > TARGET_MS
    ]
    say(f"over the target: {', '.join(missed) if missed else 'none'}")


def export(path: Path) -> None:
    say(
        "\nthe director's whole order list exported, each in its own process; "
        f"load average {load()}"
    )
    for file_format, traced in (("xlsx", []), ("xlsx", ["--tracemalloc"]), ("csv", [])):
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "export.py"), "--reuse", str(path),
             "--only", file_format, "--password", PASSWORD, *traced],
            check=True,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--runs", type=int, default=30, help="timed calls of each (30)")
    parser.add_argument("--roles", default=",".join(ROLES), help="who asks (director,...)")
    parser.add_argument("--only", help="only the reports whose name contains this")
    parser.add_argument("--no-export", action="store_true", help="skip the exports")
    parser.add_argument("--rebuild", action="store_true", help="build the company again")
    args = parser.parse_args(argv)
    path = company_database(args.orders, args.seed, rebuild=args.rebuild)
    calls = report_calls(datetime.now(UTC))
    if args.only:
        calls = [c for c in calls if args.only in c[0]]
    roles = args.roles.split(",")
    results = asyncio.run(measure(path, calls, roles, args.runs))
    table(results, calls, roles)
    if not args.no_export:
        export(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
