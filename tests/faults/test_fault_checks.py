"""The fault run's database checks see what they look for (bench/fault_checks.py): a second
revision, a refund twice, a reservation a cancellation did not release, a credit note missing;
and they pass an order whose records are each there once. Pure: canned rows, no database."""

from __future__ import annotations

from collections.abc import Callable

from bench.fault_checks import cancelled_records, changed_records
from bench.fault_paths import CANCELLED, DATE_CHANGE, PLAIN, QUANTITY_CHANGE, spread

ORDER_ID = 7
# id, stage, total, actual_cost, revision, paid, invoiced (check_database's order row)
CANCELLED_ORDER = (ORDER_ID, "cancelled", "1000.00", None, 1, "300.00", "300.00")
CHANGED_ORDER = (ORDER_ID, "closed", "1200.00", "900.00", 2, "1200.00", "1200.00")


def cancelled_tables(**changed: list[tuple]) -> dict[str, list[tuple]]:
    """A cancelled order's rows as a run writes them, each once; `changed` replaces tables."""
    tables = {
        "cancellations": [("cancelled",)],
        "refunds": [("300.00", "300.00", "refunded", "RF-1")],
        "payments": [("confirmed",)],
        "invoices": [(41, "300.00")],
        "credit_notes": [(41, "300.00", "issued", "CN-1")],
        "stock_reservations": [(1, 1, None, "t"), (2, 1, None, "t")],
        "dispatches": [],
    }
    return tables | changed


def rows_of(tables: dict[str, list[tuple]]) -> Callable[..., list[tuple]]:
    """What each query answers, by the last table it names."""

    def rows(sql: str, *params: object) -> list[tuple]:
        named = [t for t in tables if f" {t} " in f" {sql} "]
        return tables[max(named, key=sql.rfind)] if named else []

    return rows


def test_a_cancelled_order_with_each_record_once_passes():
    assert cancelled_records(rows_of(cancelled_tables()), CANCELLED_ORDER) == []


def test_a_refund_written_twice_for_one_amount_is_reported():
    twice = [("300.00", "300.00", "refunded", "RF-1"), ("300.00", "300.00", "refunded", "RF-2")]
    said = cancelled_records(rows_of(cancelled_tables(refunds=twice)), CANCELLED_ORDER)
    assert any("refunds of the same amount more than once {'300.00': 2}" in s for s in said)


def test_a_reservation_a_cancellation_did_not_release_is_reported():
    kept = [(1, 1, None, "t"), (2, 1, None, None)]
    said = cancelled_records(rows_of(cancelled_tables(stock_reservations=kept)), CANCELLED_ORDER)
    assert said == ["stock reservations per line {1: 1, 2: 1}, not released [2]"]


def test_an_issued_invoice_without_its_credit_note_is_reported():
    said = cancelled_records(rows_of(cancelled_tables(credit_notes=[])), CANCELLED_ORDER)
    assert len(said) == 1 and said[0].startswith("credit notes []")


def test_a_second_revision_of_one_change_is_reported():
    tables = {
        "order_change_requests": [(1, "approved")],
        "order_revisions": [(2, 11), (3, 11)],
    }
    said = changed_records(rows_of(tables), CHANGED_ORDER)
    assert said == ["revisions [2, 3], expected exactly one: 2"]
    once = {"order_change_requests": [(1, "approved")], "order_revisions": [(2, 11)]}
    assert changed_records(rows_of(once), CHANGED_ORDER) == []


def test_changed_and_cancelled_orders_are_spread_over_the_run_and_interleaved():
    assert spread(10, 2, 2) == [
        PLAIN, QUANTITY_CHANGE, PLAIN, CANCELLED, PLAIN, PLAIN, DATE_CHANGE, PLAIN, CANCELLED,
        PLAIN,
    ]  # fmt: skip
    assert spread(3, 0, 0) == [PLAIN] * 3
    assert spread(2, 2, 2) == [QUANTITY_CHANGE, CANCELLED]  # no more than there are orders
