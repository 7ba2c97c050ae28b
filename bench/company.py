"""A realistic company in a fresh SQLite file, for the report benches: the demo seed's
departments with four sales teams below its two offices, 40 sales reps, more staff in pricing,
ops, warehouse and finance, 400 customers with levels and regions, a product range in four
categories, each rep's monthly targets, and `orders` orders over two years up to today with
their whole lives (bench/company_orders.py). Built with executemany in one connection, and kept
under .data/bench/ keyed by BUILD_VERSION, the order count, the seed and the day it was built
(the reports count back from today), so that a second run the same day skips the build.

    .venv/bin/python bench/company.py [--orders 100000] [--seed 7] [--rebuild]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.company_orders import Company, Lives  # noqa: E402 - after sys.path
from bench.inbox import migrate, say, seed, stamp  # noqa: E402 - after sys.path
from models.reports.wait_counts import rebuild_wait_histograms  # noqa: E402 - after sys.path
from settings import get_settings  # noqa: E402 - after sys.path

# Bump when what the builder writes changes: older cached files are then built again.
BUILD_VERSION = 2
PASSWORD = "bench-company-password"
CACHE = ROOT / ".data" / "bench"
REPS = 40
MONTHS = 25  # targets: this month and the 24 before it
# New departments: name, parent, the manager's login (a new sales manager, a team lead).
TEAMS = [
    ("Shanghai team", "East China office", "lead_shanghai"),
    ("Jiangsu team", "East China office", "lead_jiangsu"),
    ("Beijing team", "North China office", "lead_beijing"),
    ("Tianjin team", "North China office", "lead_tianjin"),
]
# Where the reps sit (weights): the offices themselves, the teams and International sales.
REP_DEPARTMENTS = [
    ("East China office", 4), ("North China office", 4), ("International sales", 4),
    ("Shanghai team", 8), ("Jiangsu team", 7), ("Beijing team", 7), ("Tianjin team", 6),
]  # fmt: skip
STAFF = {"pricing": 2, "ops": 3, "warehouse": 2, "finance": 2, "service": 1}
LEVELS = [("A", 15), ("B", 45), ("C", 40)]
REGIONS = ["East China", "North China", "South China", "West China", "Overseas"]
INDUSTRIES = ["Manufacturing", "Food", "Logistics", "Equipment", "Distribution", "Energy"]
CUSTOMERS = 400
COUNTED = [
    "orders",
    "order_lines",
    "installments",
    "payments",
    "invoices",
    "order_returns",
    "refunds",
    "credit_notes",
    "cancellations",
    "todos",
    "timeline_events",
    "targets",
]
PRODUCTS = [  # code, category, list price, standard cost: beside the demo's eight
    ("GEAR-12", "Components", 2300, 1400), ("MOTOR-5", "Components", 15800, 9900),
    ("PLC-8", "Controls", 26000, 15500), ("HMI-10", "Controls", 9800, 5600),
    ("DRIVE-3", "Controls", 12400, 7300), ("FILTER-2", "Consumables", 180, 90),
    ("PRESS-80", "Machines", 210000, 150000), ("CABLE-4", "Consumables", 35, 19),
]  # fmt: skip


def cached_path(orders: int, seed_value: int, today: date) -> Path:
    return CACHE / f"reports-v{BUILD_VERSION}-{orders}-s{seed_value}-{today.isoformat()}.db"


def company_database(orders: int, seed_value: int, *, rebuild: bool = False) -> Path:
    """The cached company for today, built first when missing (or with `rebuild`)."""
    path = cached_path(orders, seed_value, datetime.now(UTC).date())
    if path.exists() and not rebuild:
        migrate(f"sqlite+aiosqlite:///{path}")  # a migration added since (an index) applies
        say(f"reusing {path.relative_to(ROOT)} (built earlier today; --rebuild builds it again)")
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".building")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    url = f"sqlite+aiosqlite:///{partial}"
    migrate(url)
    asyncio.run(seed(url, PASSWORD))
    counts = build(partial, orders=orders, rng=random.Random(seed_value))
    count_waits(partial)
    partial.rename(path)
    say(
        f"built {path.relative_to(ROOT)} in {time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )
    return path


def build(path: Path, *, orders: int, rng: random.Random) -> dict[str, int]:
    """Everything beyond the demo seed, in one transaction."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA journal_mode=MEMORY")
    now = datetime.now(UTC)
    company = Company(
        now=now,
        sellers=add_people(db, rng),
        customers=add_customers(db, rng),
        products=add_products(db),
        staff=staff_by_role(db),
    )
    Lives(db, company, rng).write(orders)
    add_targets(db, company, rng)
    db.commit()
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
    db.close()  # no ANALYZE: the app never runs it, so its planner has no statistics here either
    return counts


def count_waits(path: Path) -> None:
    """The lives were written here, not by the steps that count each wait as it ends (where
    orders wait): counted as the migration counts an upgraded database's."""
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        rebuild_wait_histograms(connection, default_zone=get_settings().time_zone)
    engine.dispose()


def add_people(db: sqlite3.Connection, rng: random.Random) -> list[tuple[int, int, int]]:
    """The teams with their leads, the reps (the demo's two among them) and more staff; the
    sellers as (user id, department id, the id of who approves their orders)."""
    password_hash = db.execute("SELECT password_hash FROM users LIMIT 1").fetchone()[0]
    departments = {name: i for i, name in db.execute("SELECT id, name FROM departments")}
    users = {name: i for i, name in db.execute("SELECT id, username FROM users")}

    def person(login: str, role: str, department: int, manager: int | None) -> int:
        cursor = db.execute(
            "INSERT INTO users (username, full_name, email, password_hash, role, department_id,"
            " manager_id, active, locale, session_version) VALUES (?,?,?,?,?,?,?,1,'en',0)",
            (login, login.replace("_", " ").title(), f"{login}@o2c.example.com", password_hash,
             role, department, manager),
        )  # fmt: skip
        return int(cursor.lastrowid or 0)

    for name, parent, lead in TEAMS:
        above = db.execute(
            "SELECT manager_id FROM departments WHERE id = ?", (departments[parent],)
        ).fetchone()[0]
        cursor = db.execute(
            "INSERT INTO departments (name, parent_id) VALUES (?, ?)", (name, departments[parent])
        )
        departments[name] = int(cursor.lastrowid or 0)
        users[lead] = person(lead, "sales_manager", departments[name], above)
        db.execute(
            "UPDATE departments SET manager_id = ? WHERE id = ?", (users[lead], departments[name])
        )
    managers = dict(db.execute("SELECT id, manager_id FROM departments"))
    names, weights = zip(*REP_DEPARTMENTS, strict=True)
    for n in range(1, REPS - 1):  # the demo has two reps already
        department = departments[rng.choices(names, weights)[0]]
        person(f"rep{n:03d}", "sales", department, managers[department])
    for role, count in STAFF.items():
        home = db.execute("SELECT department_id FROM users WHERE role = ?", (role,)).fetchone()[0]
        for n in range(1, count + 1):
            person(f"{role}{n:02d}", role, home, managers[home])
    return [
        (uid, department, managers[department])
        for uid, department in db.execute("SELECT id, department_id FROM users WHERE role='sales'")
    ]


def staff_by_role(db: sqlite3.Connection) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for uid, role in db.execute("SELECT id, role FROM users ORDER BY id"):
        found.setdefault(role, []).append(uid)
    return found


def add_customers(db: sqlite3.Connection, rng: random.Random) -> list[int]:
    levels, weights = zip(*LEVELS, strict=True)
    db.executemany(
        "INSERT INTO customers (name, level, region, industry, credit_limit, tax_number,"
        " invoice_title, address) VALUES (?, ?, ?, ?, ?, '', '', '')",
        [
            (f"Bench customer {n:03d}", rng.choices(levels, weights)[0], rng.choice(REGIONS),
             rng.choice(INDUSTRIES), rng.choice([200_000, 500_000, 1_000_000, 3_000_000]))
            for n in range(1, CUSTOMERS + 1)
        ],
    )  # fmt: skip
    return [row[0] for row in db.execute("SELECT id FROM customers")]


def add_products(db: sqlite3.Connection) -> list[tuple[int, str, float, float]]:
    db.executemany(
        "INSERT INTO products (code, name, category, unit, list_price, standard_cost,"
        " stock_on_hand, reserved, needs_installation, active) VALUES (?,?,?,'pcs',?,?,1000,0,0,1)",
        [(code, f"{code} ({category})", category, price, cost)
         for code, category, price, cost in PRODUCTS],
    )  # fmt: skip
    return list(db.execute("SELECT id, category, list_price, standard_cost FROM products"))


def add_targets(db: sqlite3.Connection, company: Company, rng: random.Random) -> None:
    """Each rep's confirmed and collected targets for this month and the 24 before it (about
    what an average rep confirmed a month, give or take), set by the director."""
    director = company.staff["director"][0]
    confirmed_sum = db.execute(
        "SELECT sum(total) FROM orders WHERE confirmed_at IS NOT NULL"
    ).fetchone()[0]
    average = (confirmed_sum or 0) / len(company.sellers) / (MONTHS - 1)
    year, month = company.now.year, company.now.month
    rows = []
    for _ in range(MONTHS):
        for uid, _, _ in company.sellers:
            confirmed = round(rng.uniform(0.8, 1.25) * average, -3)
            rows.append((f"{year:04d}-{month:02d}", "confirmed", uid, confirmed))
            rows.append((f"{year:04d}-{month:02d}", "collected", uid, round(confirmed * 0.9, -3)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    db.executemany(
        "INSERT INTO targets (month, measure, user_id, department_id, amount, set_by_id, set_at)"
        f" VALUES (?, ?, ?, NULL, ?, {director}, '{stamp(company.now)}')",
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--rebuild", action="store_true", help="build again even if cached")
    args = parser.parse_args(argv)
    company_database(args.orders, args.seed, rebuild=args.rebuild)
    return 0


if __name__ == "__main__":
    sys.exit(main())
