"""Money going back to customers of cancelled orders, as the receivables show it: refunds due,
refunded, credit notes to issue and credited, in each user's scope; and the cost variance
report, which leaves cancelled orders out and counts a closed order's revenue net of its credit
notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.reports.cost_report import CostReportFilter, cost_variance_report
from models.reports.refund_figures import MoneyBack, money_back
from models.tables import CreditNote, Customer, Invoice, Order, Refund, User
from tests import helpers

SHANGHAI = "Shanghai Precision Machinery Co."
BEIJING = "Beijing Northern Logistics"
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class RefundBook:
    numbers: dict[str, str]  # key -> order number
    customers: dict[str, int]


async def write_refund_book(session_factory) -> RefundBook:
    """R1 (sales, Shanghai): cancelled, 400.00 refunded and 600.00 still due, its invoice of
    1,000.00 credited. R2 (sales2, Beijing): cancelled, 500.00 due, a credit note of 300.00
    still to issue. C1 (sales2, Beijing): closed yesterday, credited 200.00 since. X (sales,
    Shanghai): cancelled, yet carrying a closing date: never in the cost report."""
    async with session_factory() as session:
        users = {u.username: u for u in await session.scalars(select(User))}
        customers = {c.name: c.id for c in await session.scalars(select(Customer))}

        async def order(n: int, owner: str, customer: str, stage: str, total: str) -> Order:
            closed = NOW - timedelta(days=1) if stage == "closed" or n == 4 else None
            row = helpers.order_row(
                number=f"SO-2026-R{n:04d}", owner=users[owner], customer_id=customers[customer],
                total=Decimal(total), at=NOW, submitted_at=NOW, paid=Decimal(total), stage=stage,
                collection_status="paid", expected_cost=Decimal("100.00"),
                actual_cost=Decimal("150.00"), variance=Decimal("50.00") if closed else None,
                variance_percent=Decimal("50.000") if closed else None, closed_at=closed,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            return row

        async def invoice(row: Order, amount: str, number: str, note: str | None) -> None:
            issued = Invoice(
                order_id=row.id, request_number=1, amount=Decimal(amount), title="T",
                tax_number="9", address="A", status="issued", invoice_number=number,
                requested_at=NOW,
            )  # fmt: skip
            session.add(issued)
            await session.flush()
            session.add(
                CreditNote(
                    order_id=row.id, invoice_id=issued.id, todo_key=f"{row.number}/cn",
                    amount=Decimal(amount), status="issued" if note else "requested",
                    number=note, created_at=NOW,
                )
            )  # fmt: skip

        def refund(row: Order, n: int, due: str, refunded: str | None, hours: int) -> None:
            session.add(
                Refund(
                    order_id=row.id, number=n, todo_key=f"{row.number}/refund/{n}",
                    due=Decimal(due), amount=Decimal(refunded) if refunded else None,
                    status="refunded" if refunded else "pending",
                    created_at=NOW - timedelta(hours=hours),
                )
            )  # fmt: skip

        r1 = await order(1, "sales", SHANGHAI, "cancelled", "1000.00")
        refund(r1, 1, "1000.00", "400.00", hours=5)
        refund(r1, 2, "600.00", None, hours=4)
        await invoice(r1, "1000.00", "INV-R1", "CN-R1")
        r2 = await order(2, "sales2", BEIJING, "cancelled", "500.00")
        refund(r2, 1, "500.00", None, hours=3)
        await invoice(r2, "300.00", "INV-R2", None)
        c1 = await order(3, "sales2", BEIJING, "closed", "2000.00")
        await invoice(c1, "200.00", "INV-C1", "CN-C1")
        x = await order(4, "sales", SHANGHAI, "cancelled", "700.00")
        await session.commit()
        return RefundBook(
            numbers={"R1": r1.number, "R2": r2.number, "C1": c1.number, "X": x.number},
            customers=customers,
        )


async def figures_for(
    session_factory, username: str, *, customer_id: int | None = None
) -> MoneyBack:
    async with session_factory() as session:
        user = await session.scalar(select(User).where(User.username == username))
        return await money_back(session=session, user=user, customer_id=customer_id, owner_id=None)


def amounts(back: MoneyBack) -> tuple[str, int, str, str, str]:
    return (
        str(back.refunds_due),
        back.refunds_due_count,
        str(back.refunded),
        str(back.credit_notes_due),
        str(back.credited),
    )


@pytest.mark.parametrize(
    ("username", "expected", "listed"),
    [
        ("finance", ("1100.00", 2, "400.00", "300.00", "1200.00"), ["R1", "R2"]),
        ("director", ("1100.00", 2, "400.00", "300.00", "1200.00"), ["R1", "R2"]),
        ("sales", ("600.00", 1, "400.00", "0.00", "1000.00"), ["R1"]),
        ("sales2", ("500.00", 1, "0.00", "300.00", "200.00"), ["R2"]),
        # East China office: sales's orders, not sales2's (North)
        ("sales_manager", ("600.00", 1, "400.00", "0.00", "1000.00"), ["R1"]),
    ],
)
async def test_refunds_and_credit_notes_are_counted_in_each_users_scope_only(
    session_factory, username, expected, listed
):
    book = await write_refund_book(session_factory)

    back = await figures_for(session_factory, username)

    assert amounts(back) == expected
    assert [r.order_number for r in back.due] == [book.numbers[k] for k in listed]  # oldest first


async def test_the_customer_filter_narrows_the_refund_figures(session_factory):
    book = await write_refund_book(session_factory)

    back = await figures_for(session_factory, "finance", customer_id=book.customers[BEIJING])

    assert amounts(back) == ("500.00", 1, "0.00", "300.00", "200.00")
    [due] = back.due
    assert (due.order_number, due.customer, due.amount) == (book.numbers["R2"], BEIJING, 500)


async def test_nothing_cancelled_means_no_money_going_back(session_factory):
    assert amounts(await figures_for(session_factory, "finance")) == (
        "0.00", 0, "0.00", "0.00", "0.00"
    )  # fmt: skip


async def test_the_cost_report_leaves_cancelled_orders_out_and_nets_revenue_of_credit_notes(
    session_factory,
):
    book = await write_refund_book(session_factory)
    async with session_factory() as session:
        ops = await session.scalar(select(User).where(User.username == "ops"))
        today = NOW.date()
        report = await cost_variance_report(
            session=session,
            user=ops,
            filters=CostReportFilter(closed_from=today - timedelta(days=7), closed_to=today),
        )

    [row] = report.rows  # X, cancelled, is left out though it carries a closing date
    assert row.order_number == book.numbers["C1"]
    assert (row.total, row.credited, row.revenue) == (
        Decimal("2000.00"),
        Decimal("200.00"),
        Decimal("1800.00"),
    )
    assert report.totals.count == 1
