"""Figures net of returns: the receivables and the aging count an order's open money after a
return took its value off the unpaid installments (never a second time) and show what came
back, in each user's scope; the money going back counts a return's refund and credit note; the
cost variance report and the cost comparison count the net revenue (a return's credit note is
not subtracted again); and the return freight is an actual cost the comparison shows where
some was spent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from activities.variance import variance_figures
from models.domain import CostCategory
from models.reports.cost_report import CostReportFilter, cost_variance_report
from models.reports.net_revenue import NetRevenue, net_revenue, net_revenue_of
from models.reports.receivables import ReceivableFilter, aging, receivables
from models.reports.refund_figures import money_back
from models.tables import (
    ActualCost,
    CostBatch,
    CreditNote,
    Customer,
    Installment,
    Order,
    OrderReturn,
    Refund,
    User,
)
from tests import helpers

D = Decimal
SHANGHAI = "Shanghai Precision Machinery Co."
BEIJING = "Beijing Northern Logistics"
NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


@dataclass
class NetBook:
    numbers: dict[str, str]  # key -> order number
    ids: dict[str, int]
    customers: dict[str, int]


async def write_net_book(session_factory) -> NetBook:
    """What the return workflow leaves behind, written directly:

    N1 (sales, Shanghai): 1,000.00, 300.00 paid; 200.00 came back, taken off its unpaid
    installment (700.00 -> 500.00, due in 10 days): 500.00 open = net 800.00 - 300.00 paid.
    N2 (sales2, Beijing): 2,000.00, nothing back, 1,000.00 open 40 days overdue and 1,000.00 due
    in 20 days. N3 (sales, Shanghai): 1,000.00, 300.00 paid; 900.00 came back: its unpaid
    700.00 went to nothing and 200.00 paid above the net 100.00 is to be refunded; 250.00
    invoiced above it is to be credited: no money open. N4 (sales, Shanghai): 600.00, 40.00
    back, 560.00 open 5 days overdue.
    C1 (sales2, Beijing), closed yesterday: 5,000.00, 1,000.00 came back, its return's credit
    note of 600.00 issued, and a credit note of 100.00 crediting no return; expected cost
    2,800.00, actual 3,000.00 with 150.00 of return freight."""
    async with session_factory() as session:
        users = {u.username: u for u in await session.scalars(select(User))}
        customers = {c.name: c.id for c in await session.scalars(select(Customer))}

        async def order(key: str, owner: str, customer: str, total: str, **more: object) -> Order:
            row = helpers.order_row(
                number=f"SO-2026-N{key}", owner=users[owner], customer_id=customers[customer],
                total=D(total), at=NOW, collection_status="due", submitted_at=NOW, **more,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            return row

        def installment(row: Order, position: int, amount: str, paid: str, due: int) -> None:
            session.add(
                Installment(
                    order_id=row.id, position=position, percent=D("50"), trigger="confirmation",
                    amount=D(amount), paid=D(paid), settled=D(paid) >= D(amount),
                    due_on=TODAY + timedelta(days=due),
                )
            )  # fmt: skip

        async def order_return(row: Order, value: str) -> OrderReturn:
            back = OrderReturn(
                order_id=row.id, number=1, status="received", reason="Damaged",
                requested_by_id=row.owner_id, requested_at=NOW, receipts=1, value=D(value),
            )  # fmt: skip
            session.add(back)
            await session.flush()
            return back

        n1 = await order("1", "sales", SHANGHAI, "1000.00", paid=D("300.00"), returned=D("200"))
        installment(n1, 1, "300.00", "300.00", -20)
        installment(n1, 2, "500.00", "0.00", 10)
        await order_return(n1, "200.00")
        n2 = await order("2", "sales2", BEIJING, "2000.00")
        installment(n2, 1, "1000.00", "0.00", -40)
        installment(n2, 2, "1000.00", "0.00", 20)
        n3 = await order("3", "sales", SHANGHAI, "1000.00", paid=D("300.00"), returned=D("900"))
        installment(n3, 1, "300.00", "300.00", -20)
        installment(n3, 2, "0.00", "0.00", 10)
        r3 = await order_return(n3, "900.00")
        session.add(
            Refund(
                order_id=n3.id, number=1, todo_key=f"order-{n3.number}/return/1/refund/1",
                due=D("200.00"), status="pending", created_at=NOW - timedelta(hours=2),
            )
        )  # fmt: skip
        session.add(
            CreditNote(
                order_id=n3.id, return_id=r3.id, todo_key=f"order-{n3.number}/return/1/cn/1",
                amount=D("250.00"), status="requested", created_at=NOW,
            )
        )  # fmt: skip
        n4 = await order("4", "sales", SHANGHAI, "600.00", returned=D("40.00"))
        installment(n4, 1, "560.00", "0.00", -5)
        c1 = await order(
            "C1", "sales2", BEIJING, "5000.00", stage="closed", paid=D("4000.00"),
            returned=D("1000.00"), expected_cost=D("2800.00"), actual_cost=D("3000.00"),
            variance=D("200.00"), variance_percent=D("7.143"),
            closed_at=NOW - timedelta(days=1),
        )  # fmt: skip
        r1 = await order_return(c1, "1000.00")
        for n, (amount, return_id) in enumerate((("600.00", r1.id), ("100.00", None)), start=1):
            session.add(
                CreditNote(
                    order_id=c1.id, return_id=return_id, todo_key=f"{c1.number}/cn/{n}",
                    amount=D(amount), status="issued", number=f"CN-C1-{n}", created_at=NOW,
                )
            )  # fmt: skip
        batch = CostBatch(
            order_id=c1.id, number=1, total=D("3000.00"), final=True, status="approved",
            recorded_at=NOW,
        )  # fmt: skip
        session.add(batch)
        await session.flush()
        for position, (category, amount) in enumerate(
            (("goods", "2850.00"), ("return_freight", "150.00")), start=1
        ):
            session.add(
                ActualCost(
                    batch_id=batch.id, order_id=c1.id, position=position, category=category,
                    amount=D(amount), supplier_payment_reference=f"SUP-{position}",
                )
            )  # fmt: skip
        await session.commit()
        rows = {"N1": n1, "N2": n2, "N3": n3, "N4": n4, "C1": c1}
        return NetBook(
            numbers={k: r.number for k, r in rows.items()},
            ids={k: r.id for k, r in rows.items()},
            customers=customers,
        )


async def user_named(session, username: str) -> User:
    found = await session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


# -- receivables and aging ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "listed", "outstanding", "returned"),
    [
        ("finance", ["N2", "N4", "N1"], "3060.00", "240.00"),
        ("director", ["N2", "N4", "N1"], "3060.00", "240.00"),
        ("sales", ["N4", "N1"], "1060.00", "240.00"),
        ("sales2", ["N2"], "2000.00", "0.00"),
        ("sales_manager", ["N4", "N1"], "1060.00", "240.00"),
    ],
)
async def test_receivables_are_net_of_returns_and_show_what_came_back_in_the_users_scope(
    session_factory, username, listed, outstanding, returned
):
    book = await write_net_book(session_factory)
    async with session_factory() as session:
        user = await user_named(session, username)
        page = await receivables(
            session=session, user=user, today=TODAY, filters=ReceivableFilter()
        )

    assert [r.order_number for r in page.rows] == [book.numbers[k] for k in listed]
    assert (str(page.outstanding), str(page.returned)) == (outstanding, returned)


async def test_an_orders_open_money_after_a_return_is_its_net_total_less_paid_not_less_twice(
    session_factory,
):
    book = await write_net_book(session_factory)
    async with session_factory() as session:
        page = await receivables(
            session=session,
            user=await user_named(session, "finance"),
            today=TODAY,
            filters=ReceivableFilter(),
        )
        n1 = await session.get(Order, book.ids["N1"])
        assert n1 is not None

    row = next(r for r in page.rows if r.order_number == book.numbers["N1"])
    assert (row.total, row.returned, row.net_total, row.paid, row.outstanding) == (
        D("1000.00"),
        D("200.00"),
        D("800.00"),
        D("300.00"),
        D("500.00"),
    )
    assert row.outstanding == n1.net_total - n1.paid  # the return came off once
    # N3: its unpaid installment went to nothing and money goes back: nothing is open.
    assert book.numbers["N3"] not in [r.order_number for r in page.rows]


async def test_the_overdue_filter_counts_what_came_back_of_the_overdue_orders_only(
    session_factory,
):
    await write_net_book(session_factory)
    async with session_factory() as session:
        page = await receivables(
            session=session,
            user=await user_named(session, "finance"),
            today=TODAY,
            filters=ReceivableFilter(overdue=True),
        )

    assert (page.count, str(page.returned)) == (2, "40.00")  # N2 and N4; N1 is not overdue


async def test_the_aging_is_net_of_returns_and_shows_what_came_back_per_customer(
    session_factory,
):
    book = await write_net_book(session_factory)
    async with session_factory() as session:
        report = await aging(
            session=session, user=await user_named(session, "finance"), today=TODAY
        )
        mine = await aging(session=session, user=await user_named(session, "sales2"), today=TODAY)

    rows = {r.customer: r for r in report.rows}
    assert set(rows) == {SHANGHAI, BEIJING}
    assert (rows[SHANGHAI].total, rows[SHANGHAI].returned) == (D("1060.00"), D("240.00"))
    assert rows[SHANGHAI].buckets["not_due"] == D("500.00")  # N1's 700.00 less the 200.00
    assert rows[SHANGHAI].buckets["1-30"] == D("560.00")
    assert (rows[BEIJING].total, rows[BEIJING].returned) == (D("2000.00"), D("0.00"))
    assert (report.total.total, report.total.returned) == (D("3060.00"), D("240.00"))
    # a sales rep: their own orders only
    assert [(r.customer, r.returned) for r in mine.rows] == [(BEIJING, D("0.00"))]
    assert book.customers[SHANGHAI] not in [r.customer_id for r in mine.rows]


async def test_a_returns_refund_and_credit_note_count_in_the_money_going_back_to_the_owner_only(
    session_factory,
):
    book = await write_net_book(session_factory)
    async with session_factory() as session:
        sales = await money_back(
            session=session, user=await user_named(session, "sales"), customer_id=None,
            owner_id=None,
        )  # fmt: skip
        sales2 = await money_back(
            session=session, user=await user_named(session, "sales2"), customer_id=None,
            owner_id=None,
        )  # fmt: skip

    assert (sales.refunds_due, sales.refunds_due_count, sales.credit_notes_due) == (
        D("200.00"),
        1,
        D("250.00"),
    )
    assert [r.order_number for r in sales.due] == [book.numbers["N3"]]
    # sales2: C1's credit notes (the return's and the other), no refund of sales's return
    assert (sales2.refunds_due, sales2.credited, sales2.credit_notes_due) == (
        D("0.00"),
        D("700.00"),
        D("0.00"),
    )


# -- net revenue and the cost comparison -------------------------------------------------------


def test_net_revenue_subtracts_a_returns_credit_note_once():
    # 1,000.00 came back, 600.00 of it credited by the return's credit note; 100.00 other.
    assert net_revenue(D("5000.00"), D("1000.00"), D("700.00"), D("600.00")) == D("3900.00")
    assert NetRevenue(total=D("800.00")).revenue == D("800.00")
    figures = NetRevenue(D("5000.00"), D("1000.00"), D("700.00"), D("600.00"))
    assert (figures.credited_otherwise, figures.revenue) == (D("100.00"), D("3900.00"))


async def test_the_cost_report_counts_the_net_revenue_of_a_closed_order_with_a_return(
    session_factory,
):
    book = await write_net_book(session_factory)
    async with session_factory() as session:
        report = await cost_variance_report(
            session=session,
            user=await user_named(session, "ops"),
            filters=CostReportFilter(closed_from=TODAY - timedelta(days=7), closed_to=TODAY),
        )
        revenue = await net_revenue_of(
            session=session, order=await session.get(Order, book.ids["C1"])
        )

    [row] = report.rows
    assert row.order_number == book.numbers["C1"]
    assert (row.total, row.returned, row.credited, row.credited_for_returns) == (
        D("5000.00"),
        D("1000.00"),
        D("700.00"),
        D("600.00"),
    )
    assert row.revenue == D("3900.00")  # not 3,300.00: the return's 600.00 is in the 1,000.00
    assert revenue == NetRevenue(D("5000.00"), D("1000.00"), D("700.00"), D("600.00"))


async def test_the_cost_comparison_shows_return_freight_only_where_some_was_spent(
    session_factory,
):
    book = await write_net_book(session_factory)
    async with session_factory() as session:
        closed = await session.get(Order, book.ids["C1"])
        other = await session.get(Order, book.ids["N1"])
        with_freight = await variance_figures(session, closed)
        without = await variance_figures(session, other)

    by_category = {c.category: (c.expected, c.actual) for c in with_freight.categories}
    assert by_category[CostCategory.return_freight] == (D("0.00"), D("150.00"))
    assert with_freight.actual == D("3000.00")
    assert CostCategory.return_freight not in [c.category for c in without.categories]
    assert len(without.categories) == 5  # the five the estimate covers


def test_a_category_sent_as_return_freight_decodes_and_old_payloads_still_do():
    from models.domain import CostItem, CostRecording, VarianceFigures

    item = CostItem.model_validate(
        {"category": "return_freight", "amount": "80.00", "supplier_payment_reference": "X-1"}
    )
    assert item.category is CostCategory.return_freight
    old = VarianceFigures.model_validate(
        {
            "categories": [
                {"category": c, "expected": "0", "actual": "0", "difference": "0", "percent": None}
                for c in ("goods", "freight", "installation", "customs", "other")
            ],
            "expected": "0",
            "actual": "0",
            "difference": "0",
            "percent": None,
            "above_threshold": False,
            "policy": {"version": 1, "threshold_percent": "5"},
        }
    )
    assert len(old.categories) == 5
    assert (
        CostRecording.model_validate(
            {"actor": {"user_id": 1, "role": "ops"}, "todo_key": "k", "items": [item.model_dump()]}
        ).refusal()
        is None
    )
