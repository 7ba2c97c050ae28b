"""Orders over two years with their whole lives, as rows for bench/company.py: lines, the
payment plan's installments and the payments that settle them, invoices, timeline events and
to-dos at each step, cancellations with their refunds, returns with their credit notes and
refunds, and the closing figures. Each order's life is laid out in time around its confirmation
(spread evenly over the two years up to a few days from now) and cut at now: what has not
happened yet is not written, so the newest orders are in costing, approval or fulfilment, a
to-do whose step is still to come is open, and a balance fallen due unpaid is overdue."""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bench.company_money import MoneySteps, days, hours
from bench.inbox import flush_todos, stamp

HISTORY = timedelta(days=730)
FLUSH_EVERY = 5_000
STAGE_OF = {  # the timeline events that move an order to a stage (models/reports/wait_spells)
    "submitted": "costing", "estimated": "approval", "confirmed": "confirmed",
    "shipment_planned": "fulfilment", "arrived": "acceptance", "accepted": "collection",
    "cost_review_started": "cost_review", "closed": "closed", "cancelled": "cancelled",
}  # fmt: skip
SHIPMENT_STATUS = {"confirmed": "planning", "fulfilment": "awaiting_dispatch",
                   "acceptance": "arrived", "collection": "accepted", "cost_review": "accepted",
                   "closed": "accepted"}  # fmt: skip
INSERTS = {
    "orders": "id, number, customer_id, owner_id, department_id, shipping_mode, "
    "requested_delivery_on, list_total, total, stage, approval_round, revision, delayed, overdue, "
    "expected_cost, expected_margin, shipment_status, accepted_on, paid, invoiced, returned, "
    "collection_status, actual_cost, variance, variance_percent, closed_at, created_at, "
    "submitted_at, confirmed_at, updated_at",
    "order_lines": "id, order_id, position, product_id, quantity, unit_price, discount_percent, "
    "amount, unit_cost",
    "installments": 'id, order_id, position, percent, "trigger", offset_days, amount, paid, '
    "settled, due_on, paid_on, overdue_since",
    "payments": "id, order_id, number, amount, received_on, method, reference, status, "
    "registered_by_id, registered_at, decided_by_id, decided_at",
    "payment_allocations": "payment_id, installment_id, amount",
    "invoices": "id, order_id, request_number, amount, title, tax_number, address, status, "
    "invoice_number, requested_by_id, requested_at, decided_by_id, decided_at",
    "order_returns": "id, order_id, number, status, reason, requested_by_id, requested_at, "
    "decided_by_id, decided_at, receipts, value, received_at",
    "order_return_lines": "return_id, order_line_id, quantity, received, restocked, scrapped, "
    "unit_net_price, amount",
    "refunds": "order_id, number, todo_key, due, amount, status, paid_on, method, reference, "
    "refunded_by_id, refunded_at, created_at",
    "credit_notes": "order_id, invoice_id, return_id, todo_key, amount, status, number, "
    "issued_by_id, issued_at, created_at",
    "cancellations": "order_id, number, reason_code, reason, status, requested_by_id, "
    "requested_at, decided_by_id, decided_at, cancelled_at",
    "timeline_events": "key, order_id, at, actor_id, kind, details",
    "order_cost_variances": "order_id, category, expected, actual, difference",
}


@dataclass
class Company:
    now: datetime
    sellers: list[tuple[int, int, int]]  # user id, department id, who approves their orders
    customers: list[int]
    products: list[tuple[int, str, float, float]]  # id, category, list price, standard cost
    staff: dict[str, list[int]]


@dataclass
class Life:
    """One order as it is now: its moments, and what each step wrote."""

    n: int
    owner: int
    department: int
    approver: int
    total: float = 0.0
    lines: list[tuple] = field(default_factory=list)
    at: dict[str, datetime] = field(default_factory=dict)
    cancelled_at: datetime | None = None
    paid: float = 0.0
    invoiced: float = 0.0
    returned: float = 0.0
    payments: int = 0
    invoice: int | None = None
    open_due: list[date] = field(default_factory=list)  # unpaid installments' due days


class Lives(MoneySteps):
    def __init__(self, db: sqlite3.Connection, company: Company, rng: random.Random) -> None:
        self.db, self.c, self.rng = db, company, rng
        self.rows: dict[str, list[tuple]] = defaultdict(list)
        self.todos: list[tuple] = []
        self.assignees: list[tuple] = []
        self.next_id: dict[str, int] = defaultdict(int)

    def new_id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    def write(self, orders: int) -> None:
        for n in range(1, orders + 1):
            self.order(n, orders)
            if n % FLUSH_EVERY == 0:
                self.flush()
        self.flush()

    def flush(self) -> None:
        for table, rows in self.rows.items():
            columns = INSERTS[table]
            marks = ",".join("?" * (columns.count(",") + 1))
            self.db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        self.rows.clear()
        flush_todos(self.db, self.todos, self.assignees)

    def staff(self, role: str) -> int:
        return self.rng.choice(self.c.staff[role])

    # -- one order ---------------------------------------------------------------------------

    def order(self, n: int, orders: int) -> None:
        rng, now = self.rng, self.c.now
        owner, department, approver = rng.choice(self.c.sellers)
        confirmed = now - HISTORY + (HISTORY + days(4)) * ((n - rng.random()) / orders)
        life = Life(n, owner, department, approver)
        at = life.at
        at["estimated"] = confirmed - hours(rng.uniform(0.5, 48))
        at["submitted"] = at["estimated"] - hours(rng.uniform(1, 30))
        at["created"] = at["submitted"] - hours(rng.uniform(0.2, 8))
        if at["created"] > now:
            return  # not entered yet
        at["confirmed"] = confirmed
        at["shipment_planned"] = confirmed + hours(rng.uniform(2, 72))
        at["dispatched"] = at["shipment_planned"] + days(rng.uniform(1, 10))
        at["arrived"] = at["dispatched"] + days(rng.uniform(1, 7))
        at["accepted"] = at["arrived"] + days(rng.uniform(0.2, 5))
        if rng.random() < 0.04:  # cancelled after confirmation, before dispatch
            moment = confirmed + (at["dispatched"] - confirmed) * rng.uniform(0.1, 0.95)
            life.cancelled_at = moment if moment <= now else None
        list_total, expected_cost = self.lines(life)
        self.steps_before_collection(life)
        self.collection(life)
        if life.cancelled_at is not None:
            self.cancellation(life)
        elif "closed" in at and rng.random() < 0.04:
            self.a_return(life)
        self.order_row(life, list_total, expected_cost)

    def happened(self, life: Life, moment: datetime) -> bool:
        cut = life.cancelled_at or self.c.now
        return moment <= cut

    def event(self, life: Life, kind: str, moment: datetime, actor: int | None) -> None:
        if self.happened(life, moment) or (kind == "cancelled" and moment <= self.c.now):
            key = f"bench-{life.n}-{kind}-{self.new_id('event')}"
            self.rows["timeline_events"].append((key, life.n, stamp(moment), actor, kind, "{}"))

    def todo(
        self,
        life: Life,
        kind: str,
        opened: datetime,
        done: datetime,
        by: int,
        assignee: tuple[int | None, str | None, int | None],
    ) -> None:
        """A to-do opened at `opened` and completed at `done` by `by`, as it stands now: not
        written when it has not opened yet, open when it is not done yet, cancelled when the
        order was cancelled first."""
        if not self.happened(life, opened):
            return
        status, completed, who = "done", done, by
        if not self.happened(life, done):
            status, completed, who = "open", None, None
            if life.cancelled_at is not None:
                status, completed = "cancelled", life.cancelled_at
        todo_id = self.new_id("todos")
        self.todos.append((
            todo_id, f"bench-{life.n}/{kind}/{todo_id}", life.n, f"order-{life.n}", kind, status,
            life.owner, stamp(opened), stamp(opened + days(2)),
            stamp(completed) if completed else None, who, "done" if status == "done" else None,
        ))  # fmt: skip
        self.assignees.append((todo_id, *assignee, status, stamp(opened)))

    def lines(self, life: Life) -> tuple[float, float]:
        """1-4 lines, kept on the life; the list total and the expected cost."""
        rng = self.rng
        total = list_total = cost = 0.0
        for position in range(1, rng.choices([1, 2, 3, 4], [40, 30, 20, 10])[0] + 1):
            product, _, price, unit_cost = rng.choice(self.c.products)
            price, unit_cost = float(price), float(unit_cost)
            if price > 50_000:
                quantity = rng.randint(1, 2)
            elif price > 5_000:
                quantity = rng.randint(1, 10)
            else:
                quantity = rng.randint(5, 100) if price > 500 else rng.randint(20, 500)
            discount = rng.choice([0, 0, 0, 2, 5, 8, 10])
            amount = round(quantity * price * (1 - discount / 100), 2)
            total, list_total = total + amount, list_total + quantity * price
            cost += quantity * unit_cost
            line = (self.new_id("order_lines"), life.n, position, product, quantity, price,
                    discount, amount, unit_cost)  # fmt: skip
            life.lines.append(line)
            self.rows["order_lines"].append(line)
        life.total = round(total, 2)
        return round(list_total, 2), round(cost, 2)

    def steps_before_collection(self, life: Life) -> None:
        at, dept = life.at, (None, None, life.department)
        role = {r: (None, r, None) for r in ("pricing", "ops", "warehouse", "service")}
        pricing, ops = self.staff("pricing"), self.staff("ops")
        self.event(life, "submitted", at["submitted"], life.owner)
        self.todo(life, "estimate_cost", at["submitted"], at["estimated"], pricing, role["pricing"])
        self.event(life, "estimated", at["estimated"], pricing)
        self.event(life, "approval_requested", at["estimated"], None)
        self.todo(life, "approve", at["estimated"], at["confirmed"], life.approver, dept)
        self.event(life, "confirmed", at["confirmed"], life.approver)
        self.todo(life, "plan_shipment", at["confirmed"], at["shipment_planned"], ops, role["ops"])
        self.event(life, "shipment_planned", at["shipment_planned"], ops)
        warehouse = self.staff("warehouse")
        self.todo(
            life, "confirm_dispatch", at["shipment_planned"], at["dispatched"], warehouse,
            role["warehouse"],
        )  # fmt: skip
        self.event(life, "dispatched", at["dispatched"], warehouse)
        self.todo(life, "confirm_arrival", at["dispatched"], at["arrived"], ops, role["ops"])
        self.event(life, "arrived", at["arrived"], ops)
        service = self.staff("service")
        self.todo(
            life, "confirm_acceptance", at["arrived"], at["accepted"], service, role["service"]
        )
        self.event(life, "accepted", at["accepted"], service)

    def order_row(self, life: Life, list_total: float, expected_cost: float) -> None:
        at, now = life.at, self.c.now
        reached = [k for k in STAGE_OF if k in at and self.happened(life, at[k])]
        stage = STAGE_OF[reached[-1]] if reached else "draft"
        if life.cancelled_at is not None:
            stage = "cancelled"
        confirmed = at["confirmed"] <= now
        overdue = any(due < now.date() for due in life.open_due)
        status = None
        if confirmed:
            status = "overdue" if overdue else "not_due" if life.open_due else "paid"
        accepted = stage in ("collection", "cost_review", "closed")
        updated = life.cancelled_at or at[reached[-1]] if reached else at["created"]
        closed = stage == "closed"
        actual = round(expected_cost * max(0.5, self.rng.gauss(1.0, 0.06)), 2) if closed else None
        variance = round(actual - expected_cost, 2) if actual is not None else None
        self.rows["orders"].append((
            life.n, f"SO-{at['created'].year}-{life.n:06d}", self.rng.choice(self.c.customers),
            life.owner, life.department, "export" if life.n % 5 == 0 else "domestic",
            (at["confirmed"] + days(45)).date().isoformat(), list_total, life.total, stage,
            1 if stage != "draft" else 0, 1, 0, overdue, expected_cost,
            round(life.total - expected_cost, 2), SHIPMENT_STATUS.get(stage),
            at["accepted"].date().isoformat() if accepted else None,
            life.paid, life.invoiced, life.returned, status, actual, variance,
            round(variance / expected_cost * 100, 3) if variance is not None else None,
            stamp(at["closed"]) if closed else None, stamp(at["created"]),
            stamp(at["submitted"]) if stage != "draft" else None,
            stamp(at["confirmed"]) if confirmed else None, stamp(updated),
        ))  # fmt: skip
        if closed and actual is not None:
            freight = round(expected_cost * 0.1, 2)
            for category, expected, spent in (
                ("goods", expected_cost - freight, actual - freight),
                ("freight", freight, freight),
            ):
                self.rows["order_cost_variances"].append(
                    (life.n, category, round(expected, 2), round(spent, 2),
                     round(spent - expected, 2))
                )  # fmt: skip
