"""The performance report over a hand-built November 2026 (company zone Asia/Shanghai), every
expected figure written out here:

- A (Wang Fang, East, customer 1): 100,000 confirmed 1 Nov 00:10 local (31 Oct 16:10 UTC: it
  counts in November); 10,000 came back (a return), a credit note of 5,000 for no return:
  confirmed 85,000. 30,000 received on 5 Nov; 55,000 still open; invoices 30,000 issued and
  20,000 applied for.
- B (Wang Fang, East, customer 2): 50,000 confirmed 31 Oct 23:30 local: October. 20,000 of it
  received on 10 Nov: collected in November.
- C (Liu Yang, East, customer 1): 40,000 confirmed 15 Nov, then cancelled: nothing confirmed;
  10,000 received on 16 Nov and refunded on 20 Nov.
- D (Chen Jie, North, customer 2): 70,000 confirmed 30 Nov 23:50 local: November; all open.
- E (Chen Jie, North, customer 2): 25,000 confirmed 1 Dec 00:05 local (30 Nov 16:05 UTC):
  December.

November's targets: Wang Fang 100,000 confirmed and 60,000 collected, Liu Yang 50,000
confirmed, Chen Jie 60,000 confirmed and 20,000 collected; East China office 200,000 confirmed
(above its people's 150,000). The tree: Sales > East China office, North China office."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.tables import (
    CreditNote,
    Customer,
    Department,
    Installment,
    Invoice,
    Order,
    Payment,
    Refund,
    Target,
    User,
)
from tests import helpers
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
async def november(session_factory) -> dict[str, int]:
    async with session_factory() as session:
        users = {u.username: u for u in await session.scalars(select(User))}
        departments = {d.name: d.id for d in await session.scalars(select(Department))}
        first, second = list(await session.scalars(select(Customer.id).order_by(Customer.id)))[:2]

        def order(number: str, owner: str, customer: int, total: str, confirmed: datetime, **kw):
            placed = helpers.order_row(
                number=number, owner=users[owner], customer_id=customer, total=Decimal(total),
                at=confirmed, **kw,
            )  # fmt: skip
            session.add(placed)
            return placed

        a = order(
            "SO-2026-90001",
            "sales",
            first,
            "100000",
            utc(2026, 10, 31, 16, 10),
            returned=Decimal("10000"),
        )
        b = order("SO-2026-90002", "sales", second, "50000", utc(2026, 10, 31, 15, 30))
        c = order(
            "SO-2026-90003", "follower", first, "40000", utc(2026, 11, 15, 2), stage="cancelled"
        )
        d = order("SO-2026-90004", "sales2", second, "70000", utc(2026, 11, 30, 15, 50))
        order("SO-2026-90005", "sales2", second, "25000", utc(2026, 11, 30, 16, 5))
        await session.flush()

        def installment(o: Order, position: int, amount: str, paid: str) -> None:
            session.add(
                Installment(
                    order_id=o.id,
                    position=position,
                    percent=Decimal("50"),
                    trigger="confirmation",
                    amount=Decimal(amount),
                    paid=Decimal(paid),
                    settled=amount == paid,
                )
            )

        def payment(o: Order, number: int, amount: str, on: date) -> None:
            session.add(
                Payment(
                    order_id=o.id,
                    number=number,
                    amount=Decimal(amount),
                    received_on=on,
                    method="transfer",
                    reference=f"R{o.id}{number}",
                    status="confirmed",
                    registered_at=NOW,
                )
            )

        installment(a, 1, "30000", "30000")
        installment(a, 2, "55000", "0")
        installment(d, 1, "70000", "0")
        payment(a, 1, "30000", date(2026, 11, 5))
        payment(b, 1, "20000", date(2026, 11, 10))
        payment(c, 1, "10000", date(2026, 11, 16))
        payment(b, 2, "7000", date(2026, 12, 1))  # December: not in November
        session.add(
            Refund(
                order_id=c.id,
                number=1,
                todo_key="refund-c",
                due=Decimal("10000"),
                amount=Decimal("10000"),
                status="refunded",
                paid_on=date(2026, 11, 20),
                created_at=NOW,
            )
        )
        session.add(
            CreditNote(
                order_id=a.id,
                todo_key="credit-a",
                amount=Decimal("5000"),
                status="issued",
                number="CN-1",
                created_at=NOW,
            )
        )
        for number, amount, status in (
            (1, "30000", "issued"),
            (2, "20000", "requested"),
            (3, "9000", "rejected"),
        ):
            session.add(
                Invoice(
                    order_id=a.id,
                    request_number=number,
                    amount=Decimal(amount),
                    title="t",
                    tax_number="x",
                    address="a",
                    status=status,
                    requested_at=NOW,
                )
            )
        for who, measure, amount in (
            ("sales", "confirmed", "100000"),
            ("sales", "collected", "60000"),
            ("follower", "confirmed", "50000"),
            ("sales2", "confirmed", "60000"),
            ("sales2", "collected", "20000"),
        ):
            session.add(
                Target(
                    month="2026-11",
                    measure=measure,
                    user_id=users[who].id,
                    amount=Decimal(amount),
                    set_at=NOW,
                )
            )
        session.add(
            Target(
                month="2026-11",
                measure="confirmed",
                department_id=departments["East China office"],
                amount=Decimal("200000"),
                set_at=NOW,
            )
        )
        await session.commit()
        return {"first": first, "second": second, **departments}


def figures(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("key", "depth")}


def row(name, target, confirmed, achieved, shortfall, c_target, collected, c_percent, **rest):
    return {
        "name": name,
        "target": target,
        "confirmed": confirmed,
        "achieved_percent": achieved,
        "shortfall": shortfall,
        "collection_target": c_target,
        "collected": collected,
        "collected_percent": c_percent,
        "collection_shortfall": rest.get("c_shortfall"),
        "refunded": rest.get("refunded", "0.00"),
        "returned": rest.get("returned", "0.00"),
        "outstanding": rest.get("outstanding", "0.00"),
        "invoice_applied": rest.get("applied", "0.00"),
        "invoice_issued": rest.get("issued", "0.00"),
    }


WANG = row(
    "Wang Fang",
    "100000.00",
    "85000.00",
    "85.00",
    "15000.00",
    "60000.00",
    "50000.00",
    "83.33",
    c_shortfall="10000.00",
    returned="10000.00",
    outstanding="55000.00",
    applied="50000.00",
    issued="30000.00",
)
LIU = row(
    "Liu Yang",
    "50000.00",
    "0.00",
    "0.00",
    "50000.00",
    None,
    "10000.00",
    None,
    refunded="10000.00",
)
CHEN = row(
    "Chen Jie",
    "60000.00",
    "70000.00",
    "116.67",
    "0.00",
    "20000.00",
    "0.00",
    "0.00",
    c_shortfall="20000.00",
    outstanding="70000.00",
)
EAST = row(
    "East China office",
    "200000.00",
    "85000.00",
    "42.50",
    "115000.00",
    "60000.00",
    "60000.00",
    "100.00",
    c_shortfall="0.00",
    refunded="10000.00",
    returned="10000.00",
    outstanding="55000.00",
    applied="50000.00",
    issued="30000.00",
)
NORTH = row(
    "North China office",
    "60000.00",
    "70000.00",
    "116.67",
    "0.00",
    "20000.00",
    "0.00",
    "0.00",
    c_shortfall="20000.00",
    outstanding="70000.00",
)
SALES = row(
    "Sales",
    "260000.00",
    "155000.00",
    "59.62",
    "105000.00",
    "80000.00",
    "60000.00",
    "75.00",
    c_shortfall="20000.00",
    refunded="10000.00",
    returned="10000.00",
    outstanding="125000.00",
    applied="50000.00",
    issued="30000.00",
)


async def report(client, by: str, period: str = "month", value: str = "2026-11") -> dict:
    answer = await client.get(
        "/api/v1/reports/performance", params={"period": period, "value": value, "by": by}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_each_person_has_their_net_confirmed_and_collected_against_their_targets(
    api, november
):
    body = await report(await api("director"), "person")
    assert [figures(r) for r in body["rows"]] == [CHEN, LIU, WANG]
    assert (body["first_day"], body["last_day"]) == ("2026-11-01", "2026-11-30")


async def test_a_department_rolls_up_its_tree_and_the_total_counts_each_order_once(api, november):
    body = await report(await api("director"), "department")
    assert [(r["name"], r["depth"]) for r in body["rows"]] == [
        ("Sales", 0),
        ("East China office", 1),
        ("North China office", 1),
    ]
    assert [figures(r) for r in body["rows"]] == [SALES, EAST, NORTH]
    assert figures(body["total"]) == {**SALES, "name": ""}


async def test_each_customer_has_what_was_confirmed_and_collected_without_targets(api, november):
    body = await report(await api("director"), "customer")
    first, second = body["rows"]
    assert first["key"] == november["first"]
    assert (first["confirmed"], first["collected"], first["refunded"]) == (
        "85000.00",
        "40000.00",
        "10000.00",
    )
    assert (first["target"], first["achieved_percent"]) == (None, None)
    assert (second["confirmed"], second["collected"], second["outstanding"]) == (
        "70000.00",
        "20000.00",
        "70000.00",
    )


async def test_a_quarter_counts_every_confirmation_of_its_months(api, november):
    body = await report(await api("director"), "person", "quarter", "2026-Q4")
    people = {r["name"]: r for r in body["rows"]}
    assert people["Wang Fang"]["confirmed"] == "135000.00"  # A and B (31 Oct)
    assert people["Wang Fang"]["achieved_percent"] == "135.00"
    assert people["Chen Jie"]["confirmed"] == "95000.00"  # D and E (1 Dec)
    assert people["Wang Fang"]["collected"] == "57000.00"


async def test_a_rep_sees_only_their_own_row(api, november):
    sales = await api("sales")
    assert [figures(r) for r in (await report(sales, "person"))["rows"]] == [WANG]
    assert (await report(sales, "department"))["rows"] == []
    customers = (await report(sales, "customer"))["rows"]
    assert [(r["key"], r["confirmed"], r["collected"]) for r in customers] == [
        (november["first"], "85000.00", "30000.00"),
        (november["second"], "0.00", "20000.00"),  # B: confirmed in October, paid in November
    ]


async def test_a_manager_sees_their_department_tree_and_its_people_only(api, november):
    manager = await api("sales_manager")
    assert [figures(r) for r in (await report(manager, "person"))["rows"]] == [LIU, WANG]
    departments = await report(manager, "department")
    assert [figures(r) for r in departments["rows"]] == [EAST]
    assert figures(departments["total"]) == {**EAST, "name": ""}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "week", "value": "2026-11"}, "The period must be month, quarter or year."),
        ({"period": "month", "value": "2026-13"}, "2026-13 is not a month: write it as 2026-11."),
        ({"period": "quarter", "value": "2026-Q5"}, "2026-Q5 is not a quarter: write it as"),
        ({"period": "year", "value": "26"}, "26 is not a year: write it as 2026."),
        ({"period": "month", "value": "2026-11", "by": "region"}, "The report is by person,"),
    ],
)
async def test_a_period_or_grouping_the_report_does_not_know_is_refused(api, params, message):
    answer = await (await api("director")).get("/api/v1/reports/performance", params=params)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(message)


async def test_the_page_shows_the_figures_and_a_rep_only_their_own(browser_session, november):
    director = await browser_session("director")
    page = await director.get("/reports/performance?period=month&value=2026-11&by=department")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f'<tr data-row="{november["East China office"]}" data-depth="1">' in text
    assert "¥155,000.00" in text and "59.62 %" in text
    rep = html.unescape(
        (await (await browser_session("sales")).get("/reports/performance?value=2026-11")).text
    )
    assert "Wang Fang" in rep and "Chen Jie" not in rep and "Liu Yang" not in rep
    refused = await director.get("/reports/performance?period=month&value=2026-13")
    assert refused.status_code == 422
    assert "2026-13 is not a month" in html.unescape(refused.text)


@needs_catalog
async def test_the_performance_page_speaks_chinese(browser_session, november):
    client = await chinese_session(browser_session, "director")
    page = await client.get("/reports/performance?period=month&value=2026-11")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "业绩" in text and "完成率" in text and "差额" in text
