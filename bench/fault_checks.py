"""What bench/faults.py checks in the database after its run: each order's records exactly once,
as the order's path (plain, a change approved after confirmation, a cancellation) makes them."""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from bench.fault_paths import (
    CANCELLED,
    DATE_CHANGE,
    PATH_MAILS,
    PATH_TIMELINE,
    PATH_TODOS,
    QUANTITY_CHANGE,
    TWICE_MAILED,
    quantities,
)

Rows = Callable[..., list[tuple]]
Stock = dict[str, tuple[Decimal, Decimal]]


def stock(db: Path) -> Stock:
    """On hand and reserved per product code."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT code, stock_on_hand, reserved FROM products").fetchall()
    return {
        code: (Decimal(str(on_hand)), Decimal(str(reserved))) for code, on_hand, reserved in rows
    }


def differences(got: Counter[str], want: Counter[str]) -> str:
    keys = sorted(set(got) | set(want))
    return ", ".join(f"{k} {got[k]} (expected {want[k]})" for k in keys if got[k] != want[k])


def money(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal("NaN")


def check_database(db: Path, paths: dict[str, str], stock_before: Stock) -> list[str]:
    """Each record of each order exactly once, as its path makes them (`paths`: order number ->
    plain, date, quantity or cancelled): what is lost or duplicated, order by order; then the
    stock, down by exactly what the orders that went on took."""
    problems: list[str] = []
    with contextlib.closing(sqlite3.connect(db)) as conn:

        def rows(sql: str, *params: object) -> list[tuple]:
            return conn.execute(sql, params).fetchall()

        for number, path in paths.items():
            found = rows("SELECT id, stage, total, actual_cost, revision, paid, invoiced "
                         "FROM orders WHERE number = ?", number)  # fmt: skip
            if not found:
                problems.append(f"{number}: no such order")
                continue
            said = common_records(rows, number, path, found[0])
            if path == CANCELLED:
                said += cancelled_records(rows, found[0])
            else:
                said += closed_records(rows, found[0])
            if path in (DATE_CHANGE, QUANTITY_CHANGE):
                said += changed_records(rows, found[0])
            if said:
                problems.append(f"{number} ({path}): " + "; ".join(said))
        problems += stock_taken(stock_before, stock(db), paths)
    return problems


def common_records(rows: Rows, number: str, path: str, order: tuple) -> list[str]:
    """Whatever the path: its stage, its to-dos by kind and none left open, its timeline by
    kind, its mail once per key and per recipient and subject."""
    order_id, stage = order[0], order[1]
    said: list[str] = []
    want_stage = "cancelled" if path == CANCELLED else "closed"
    if stage != want_stage:
        said.append(f"stage {stage} (expected {want_stage})")
    todos = rows("SELECT id, kind, status FROM todos WHERE order_id = ?", order_id)
    kinds = Counter(kind for _, kind, _ in todos)
    if kinds != PATH_TODOS[path]:
        said.append(f"to-dos by kind {differences(kinds, PATH_TODOS[path])}")
    still_open = [f"{kind} #{i}" for i, kind, status in todos if status == "open"]
    if still_open:
        said.append(f"open to-dos [{', '.join(still_open)}]")
    # A cancellation cancels the to-dos it stops; nothing else ends a to-do but doing it.
    ends = ("open", "done", "cancelled") if path == CANCELLED else ("open", "done")
    odd = [f"{kind} #{i} {status}" for i, kind, status in todos if status not in ends]
    if odd:
        said.append(f"to-dos neither {' nor '.join(ends)} [{', '.join(odd)}]")
    open_assignees = rows(
        "SELECT t.kind, t.id FROM todo_assignees a JOIN todos t ON t.id = a.todo_id "
        "WHERE t.order_id = ? AND a.status = 'open' AND t.status != 'open'",
        order_id,
    )
    if open_assignees:
        said.append(f"{len(open_assignees)} inbox entries open for closed to-dos")
    timeline = Counter(
        kind for (kind,) in rows("SELECT kind FROM timeline_events WHERE order_id = ?", order_id)
    )
    if timeline != PATH_TIMELINE[path]:
        said.append(f"timeline events {differences(timeline, PATH_TIMELINE[path])}")
    return said + mail_records(rows, number, path)


def mail_records(rows: Rows, number: str, path: str) -> list[str]:
    """One mail per key, and per recipient and subject but where the path asks twice."""
    said: list[str] = []
    mail = rows("SELECT key, to_address, subject FROM outbox WHERE key LIKE ?", f"order-{number}/%")
    if len(mail) != PATH_MAILS[path]:
        said.append(f"{len(mail)} mails in the outbox, expected {PATH_MAILS[path]}")
    keys = Counter(key for key, _, _ in mail)
    if twice := sorted(k for k, n in keys.items() if n > 1):
        said.append(f"outbox keys more than once {twice}")
    same = Counter((to, subject) for _, to, subject in mail)
    twice_mailed = TWICE_MAILED[path]
    repeated = {
        f"{to}: {subject}": n
        for (to, subject), n in same.items()
        if n > (2 if subject.endswith(twice_mailed) else 1)
    }
    if repeated:
        said.append(f"the same mail under different keys {repeated}")
    return said


def closed_records(rows: Rows, order: tuple) -> list[str]:
    """An order that went to closed: paid in full through two confirmed payments, one invoice,
    one approved cost batch, each line reserved once and taken, dispatched once."""
    order_id, total, actual_cost = order[0], money(order[2]), order[3]
    said: list[str] = []
    payments = rows(
        "SELECT id, amount, status, reference FROM payments WHERE order_id = ?", order_id
    )
    if len(payments) != 2 or {p[2] for p in payments} != {"confirmed"}:
        listed = ", ".join(f"{p[3]} {p[1]} {p[2]}" for p in payments)
        said.append(f"{len(payments)} payments, expected 2 confirmed [{listed}]")
    if sum((money(p[1]) for p in payments), Decimal(0)) != total:
        said.append("payments do not add up to the total")
    allocations = rows(
        "SELECT a.payment_id, a.installment_id, a.amount FROM payment_allocations a "
        "JOIN payments p ON p.id = a.payment_id WHERE p.order_id = ?",
        order_id,
    )
    if len(allocations) != 2:
        said.append(f"{len(allocations)} payment allocations, expected 2")
    if sum((money(a[2]) for a in allocations), Decimal(0)) != total:
        said.append("allocations do not add up to the total")
    installments = rows(
        "SELECT position, amount, paid, settled FROM installments WHERE order_id = ?", order_id
    )
    unpaid = [i[0] for i in installments if not i[3] or money(i[1]) != money(i[2])]
    if len(installments) != 2 or unpaid:
        said.append(f"{len(installments)} installments, not settled exactly: {unpaid}")
    invoices = rows("SELECT status, amount FROM invoices WHERE order_id = ?", order_id)
    if len(invoices) != 1 or invoices[0][0] != "issued":
        said.append(f"invoices {invoices}, expected one issued")
    return said + cost_records(rows, order_id, actual_cost) + shipment_records(rows, order_id)


def cost_records(rows: Rows, order_id: int, actual_cost: object) -> list[str]:
    said: list[str] = []
    batches = rows("SELECT status, total FROM cost_batches WHERE order_id = ?", order_id)
    if len(batches) != 1 or batches[0][0] != "approved":
        said.append(f"cost batches {batches}, expected one approved")
    costs = rows("SELECT category, amount FROM actual_costs WHERE order_id = ?", order_id)
    categories = Counter(c for c, _ in costs)
    if len(costs) != 2 or max(categories.values(), default=0) != 1:
        said.append(f"cost items {dict(categories)}, expected goods and freight once")
    cost_sum = sum((money(a) for _, a in costs), Decimal(0))
    if actual_cost is None or cost_sum != money(actual_cost):
        said.append(f"cost items add up to {cost_sum}, the order says {actual_cost}")
    return said


def shipment_records(rows: Rows, order_id: int) -> list[str]:
    """Each line reserved once, for its quantity, and taken; one dispatch."""
    said: list[str] = []
    reservations = rows(
        "SELECT l.id, l.quantity, r.round, r.quantity, r.taken_at FROM order_lines l "
        "LEFT JOIN stock_reservations r ON r.order_line_id = l.id WHERE l.order_id = ?",
        order_id,
    )
    per_line = Counter(line for line, _, round_, _, _ in reservations if round_ is not None)
    untaken = [line for line, _, round_, _, taken in reservations if round_ and taken is None]
    lines = {line for line, *_ in reservations}
    if any(per_line[line] != 1 for line in lines) or untaken:
        said.append(f"stock reservations per line {dict(per_line)}, untaken {untaken}")
    off = [f"line {line}: {money(want)} ordered, {money(got)} reserved"
           for line, want, round_, got, _ in reservations
           if round_ is not None and money(want) != money(got)]  # fmt: skip
    if off:
        said.append(f"reservations not the lines' quantities [{', '.join(off)}]")
    dispatches = rows("SELECT round FROM dispatches WHERE order_id = ?", order_id)
    if len(dispatches) != 1:
        said.append(f"{len(dispatches)} dispatches, expected 1")
    return said


def changed_records(rows: Rows, order: tuple) -> list[str]:
    """A change approved after confirmation: one change request, approved; exactly one
    revision (number 2) for it; the order at revision 2."""
    order_id, revision = order[0], order[4]
    said: list[str] = []
    asked = rows("SELECT number, status FROM order_change_requests WHERE order_id = ?", order_id)
    if [status for _, status in asked] != ["approved"]:
        said.append(f"change requests {asked}, expected one approved")
    revisions = rows(
        "SELECT number, change_request_id FROM order_revisions WHERE order_id = ?", order_id
    )
    if [number for number, _ in revisions] != [2]:
        said.append(f"revisions {[n for n, _ in revisions]}, expected exactly one: 2")
    if revision != 2:
        said.append(f"the order says revision {revision}, expected 2")
    return said


def cancelled_records(rows: Rows, order: tuple) -> list[str]:
    """A cancellation approved after the deposit was paid and invoiced: one cancellation,
    cancelled; the deposit refunded once, in full; one credit note per issued invoice, issued
    for its amount; the stock reserved released, none taken, nothing dispatched."""
    order_id, paid = order[0], money(order[5])
    said: list[str] = []
    cancellations = rows("SELECT status FROM cancellations WHERE order_id = ?", order_id)
    if [status for (status,) in cancellations] != ["cancelled"]:
        said.append(f"cancellations {cancellations}, expected one cancelled")
    refunds = rows("SELECT due, amount, status, reference FROM refunds WHERE order_id = ?",
                   order_id)  # fmt: skip
    per_amount = Counter(money(amount) for _, amount, _, _ in refunds)
    if len(refunds) != 1 or refunds[0][2] != "refunded" or money(refunds[0][1]) != paid:
        listed = ", ".join(f"due {d} refunded {a} {s} {r}" for d, a, s, r in refunds)
        said.append(f"refunds [{listed}], expected one of {paid} refunded")
    if twice := {str(a): n for a, n in per_amount.items() if n > 1}:
        said.append(f"refunds of the same amount more than once {twice}")
    payments = rows("SELECT status FROM payments WHERE order_id = ?", order_id)
    if [status for (status,) in payments] != ["confirmed"]:
        said.append(f"payments {payments}, expected the deposit confirmed")
    invoices = rows("SELECT id, amount FROM invoices WHERE order_id = ? AND status = 'issued'",
                    order_id)  # fmt: skip
    notes = rows("SELECT invoice_id, amount, status, number FROM credit_notes WHERE order_id = ?",
                 order_id)  # fmt: skip
    credited = Counter(invoice for invoice, *_ in notes)
    if len(invoices) != 1 or sorted(credited) != [i for i, _ in invoices]:
        said.append(f"credit notes {notes} for issued invoices {invoices}, expected one each")
    elif max(credited.values()) > 1:
        said.append(f"credit notes per invoice {dict(credited)}")
    for invoice, amount, status, credit_number in notes:
        owed = next((a for i, a in invoices if i == invoice), None)
        if status != "issued" or credit_number is None or money(amount) != money(owed):
            said.append(f"credit note for invoice {invoice}: {status} {credit_number} {amount}")
    return said + released_records(rows, order_id)


def released_records(rows: Rows, order_id: int) -> list[str]:
    """Every line's reservation released, none taken; no dispatch."""
    said: list[str] = []
    reservations = rows(
        "SELECT l.id, r.round, r.taken_at, r.released_at FROM order_lines l LEFT JOIN "
        "stock_reservations r ON r.order_line_id = l.id WHERE l.order_id = ?",
        order_id,
    )
    per_line = Counter(line for line, round_, _, _ in reservations if round_ is not None)
    lines = {line for line, *_ in reservations}
    kept = [line for line, round_, taken, released in reservations
            if round_ is not None and (taken is not None or released is None)]  # fmt: skip
    if any(per_line[line] != 1 for line in lines) or kept:
        said.append(f"stock reservations per line {dict(per_line)}, not released {kept}")
    dispatches = rows("SELECT round FROM dispatches WHERE order_id = ?", order_id)
    if dispatches:
        said.append(f"{len(dispatches)} dispatches of a cancelled order")
    return said


def stock_taken(before: Stock, after: Stock, paths: dict[str, str]) -> list[str]:
    """On hand down by what the orders that went on took (a change's quantities), reserved
    back where it was (a cancelled order's reservation released)."""
    taken: Counter[str] = Counter()
    for path in paths.values():
        for code, quantity in quantities(path).items():
            taken[code] += quantity
    problems = []
    for code in sorted(set(taken) | set(quantities("plain"))):
        on_hand_before, reserved_before = before[code]
        on_hand, reserved = after[code]
        want = on_hand_before - taken[code]
        if on_hand != want or reserved != reserved_before:
            problems.append(
                f"stock of {code}: on hand {on_hand_before} -> {on_hand} (expected {want}), "
                f"reserved {reserved_before} -> {reserved}"
            )
    return problems


def profile(db: Path, number: str) -> dict[str, object]:
    """One order's records by kind: to-dos, timeline events, mail (to calibrate the checks)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (order_id,) = conn.execute("SELECT id FROM orders WHERE number = ?", (number,)).fetchone()
        todos = Counter(
            k for (k,) in conn.execute("SELECT kind FROM todos WHERE order_id = ?", (order_id,))
        )
        timeline = Counter(
            k
            for (k,) in conn.execute(
                "SELECT kind FROM timeline_events WHERE order_id = ?", (order_id,)
            )
        )
        mail = conn.execute(
            "SELECT key, to_address, subject FROM outbox WHERE key LIKE ?", (f"order-{number}/%",)
        ).fetchall()
    return {
        "todos": dict(todos),
        "timeline": dict(timeline),
        "mails": len(mail),
        "mail": sorted(f"{key} -> {to}: {subject}" for key, to, subject in mail),
    }
