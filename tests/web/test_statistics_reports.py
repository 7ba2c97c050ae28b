"""Customer statistics and order statistics over a hand-built set of orders written straight
into the database (no workflow needed to count them), with every expected figure written out.

The company's time zone is Asia/Shanghai (UTC+8); the period is 2026-01-01 to 2026-03-31.

- S1 sales (East office), Shanghai Precision (A, East China), confirmed Jan 31 23:30 Shanghai:
  Components 10,000; paid 4,000 (installments 4,000 paid, 6,000 open); invoiced 5,000.
- S2 sales, Hangzhou Green Foods (B, East China), confirmed Feb 1 00:10 Shanghai (Jan 31 in
  UTC): Machines 15,000 + Consumables 5,000, of which 2,000 came back; paid 20,000, refunded
  2,000; invoiced 20,000, a 2,000 credit note for the return.
- S3 sales2 (North office), Beijing Northern Logistics (A, North China), Mar 15: Machines
  50,000, all open.
- S4 sales2, Tianjin Port Equipment (C): confirmed Feb 10, then cancelled: never counted.
- S5 sales, Shanghai Precision, confirmed Dec 31 23:59 Shanghai: before the period.
- S6 follower (East office), Shanghai Precision, confirmed Mar 31 23:00 Shanghai (15:00 UTC):
  Components 1,000 open; invoiced 1,000, a 100 credit note crediting no return.
- S7 sales, a draft: not counted.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.tables import (
    CreditNote,
    Customer,
    Installment,
    Order,
    OrderLine,
    OrderReturn,
    OrderReturnLine,
    Product,
    Refund,
    User,
)
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401
from web.api.reports import report_today

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-03-31"}
D = Decimal


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Sale:
    """An order as the data set writes it: who, for whom, when confirmed (UTC), its lines
    (product code, amount) and its money."""

    number: str
    owner: str
    customer: str
    confirmed_at: datetime | None
    lines: list[tuple[str, str]]
    stage: str = "collection"
    paid: str = "0"
    invoiced: str = "0"
    installments: list[tuple[str, str]] = field(default_factory=list)  # amount, paid
    returned: dict[str, str] = field(default_factory=dict)  # product code -> value back
    refunded: str | None = None
    credit_notes: list[tuple[str, bool]] = field(default_factory=list)  # amount, for a return


SALES = [
    Sale("SO-2026-90001", "sales", "Shanghai Precision Machinery Co.", utc("2026-01-31T15:30"),
         [("PUMP-10", "10000")], paid="4000", invoiced="5000",
         installments=[("4000", "4000"), ("6000", "0")]),
    Sale("SO-2026-90002", "sales", "Hangzhou Green Foods Ltd.", utc("2026-01-31T16:10"),
         [("LATHE-50", "15000"), ("OIL-20", "5000")], paid="20000", invoiced="20000",
         installments=[("18000", "20000")], returned={"OIL-20": "2000"}, refunded="2000",
         credit_notes=[("2000", True)]),
    Sale("SO-2026-90003", "sales2", "Beijing Northern Logistics", utc("2026-03-15T04:00"),
         [("ROBOT-1", "50000")], installments=[("50000", "0")]),
    Sale("SO-2026-90004", "sales2", "Tianjin Port Equipment", utc("2026-02-10T02:00"),
         [("CNC-200", "30000")], stage="cancelled"),
    Sale("SO-2025-90005", "sales", "Shanghai Precision Machinery Co.", utc("2025-12-31T15:59"),
         [("PUMP-10", "7000")]),
    Sale("SO-2026-90006", "follower", "Shanghai Precision Machinery Co.", utc("2026-03-31T15:00"),
         [("VALVE-3", "1000")], invoiced="1000", installments=[("1000", "0")],
         credit_notes=[("100", False)]),
    Sale("SO-2026-90007", "sales", "Shanghai Precision Machinery Co.", None,
         [("PUMP-10", "9000")], stage="draft"),
]  # fmt: skip


async def write_sale(session, sale: Sale) -> Order:
    owner = await session.scalar(select(User).where(User.username == sale.owner))
    customer = await session.scalar(select(Customer).where(Customer.name == sale.customer))
    total = sum((D(amount) for _, amount in sale.lines), D(0))
    at = sale.confirmed_at or utc("2026-01-01T00:00")
    order = Order(
        number=sale.number, customer_id=customer.id, owner_id=owner.id,
        department_id=owner.department_id, shipping_mode="domestic", list_total=total,
        total=total, stage=sale.stage, paid=D(sale.paid), invoiced=D(sale.invoiced),
        returned=sum((D(v) for v in sale.returned.values()), D(0)), created_at=at,
        updated_at=at, submitted_at=sale.confirmed_at, confirmed_at=sale.confirmed_at,
    )  # fmt: skip
    session.add(order)
    await session.flush()
    back = None
    if sale.returned:
        back = OrderReturn(order_id=order.id, number=1, status="received", reason="damaged",
                           requested_at=at, value=order.returned)  # fmt: skip
        session.add(back)
        await session.flush()
    for position, (code, amount) in enumerate(sale.lines, start=1):
        product = await session.scalar(select(Product).where(Product.code == code))
        line = OrderLine(order_id=order.id, position=position, product_id=product.id,
                         quantity=D(1), unit_price=D(amount), amount=D(amount))  # fmt: skip
        session.add(line)
        await session.flush()
        if back is not None and code in sale.returned:
            session.add(OrderReturnLine(return_id=back.id, order_line_id=line.id, quantity=D(1),
                                        received=D(1), unit_net_price=D(sale.returned[code]),
                                        amount=D(sale.returned[code])))  # fmt: skip
    for position, (amount, paid) in enumerate(sale.installments, start=1):
        session.add(Installment(order_id=order.id, position=position, percent=D(50),
                                trigger="confirmation", amount=D(amount), paid=D(paid),
                                settled=D(paid) >= D(amount)))  # fmt: skip
    if sale.refunded:
        session.add(Refund(order_id=order.id, number=1, todo_key=f"{sale.number}/refund",
                           due=D(sale.refunded), amount=D(sale.refunded), status="refunded",
                           created_at=at))  # fmt: skip
    for n, (amount, for_return) in enumerate(sale.credit_notes, start=1):
        session.add(CreditNote(order_id=order.id, todo_key=f"{sale.number}/credit/{n}",
                               return_id=back.id if for_return and back else None,
                               amount=D(amount), status="issued", number=f"CN-{sale.number}-{n}",
                               created_at=at))  # fmt: skip
    return order


@pytest.fixture
async def sales_data(session_factory, app):
    async with session_factory() as session:
        for sale in SALES:
            await write_sale(session, sale)
        await session.commit()
    app.dependency_overrides[report_today] = lambda: datetime(2026, 4, 15).date()
    yield
    app.dependency_overrides.pop(report_today, None)


def figures(**values: str | int) -> dict[str, str | int]:
    """Figures as the API writes them: money with two decimals."""
    return {k: v if isinstance(v, int) else f"{D(v):.2f}" for k, v in values.items()}


def money_of(row: dict) -> dict[str, str | int]:
    return {k: v if k == "orders" else f"{D(v):.2f}" for k, v in row["figures"].items()}


# --- customer statistics ------------------------------------------------------------------------


async def test_customer_statistics_per_customer_count_net_figures_in_the_period(api, sales_data):
    director = await api("director")
    response = await director.get("/api/v1/reports/customers", params={**PERIOD, "by": "customer"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"] == PERIOD
    rows = {row["customer"]: money_of(row) for row in body["rows"]}
    # S3 alone; S4 (cancelled) is not counted.
    assert rows.pop("Beijing Northern Logistics") == figures(
        orders=1, amount="50000", returned="0", collected="0", outstanding="50000", invoiced="0"
    )
    # S2: 20,000 less 2,000 back (its credit note credits the return: not taken off twice);
    # collected 20,000 paid less 2,000 refunded; invoiced 20,000 less 2,000 credited.
    assert rows.pop("Hangzhou Green Foods Ltd.") == figures(
        orders=1, amount="18000", returned="2000", collected="18000", outstanding="0",
        invoiced="18000",
    )  # fmt: skip
    # S1 + S6 (confirmed 23:00 on the period's last day in Shanghai); S5 (Dec 31) is before.
    # S6's 100 credit note credits no return: 1,000 - 100 = 900; invoiced 5,000 + 900.
    assert rows.pop("Shanghai Precision Machinery Co.") == figures(
        orders=2, amount="10900", returned="0", collected="4000", outstanding="7000",
        invoiced="5900",
    )  # fmt: skip
    assert rows == {}
    assert [row["customer"] for row in body["rows"]] == [
        "Beijing Northern Logistics",  # the largest amount first
        "Hangzhou Green Foods Ltd.",
        "Shanghai Precision Machinery Co.",
    ]
    assert {k: v if k == "orders" else f"{D(v):.2f}" for k, v in body["totals"].items()} == (
        figures(orders=4, amount="78900", returned="2000", collected="22000",
                outstanding="57000", invoiced="23900")
    )  # fmt: skip


async def test_customer_statistics_per_level_sum_their_customers(api, sales_data):
    director = await api("director")
    response = await director.get("/api/v1/reports/customers", params=PERIOD)
    rows = {row["level"]: money_of(row) for row in response.json()["rows"]}
    assert rows == {
        # Beijing (S3) + Shanghai (S1, S6)
        "A": figures(orders=3, amount="60900", returned="0", collected="4000",
                     outstanding="57000", invoiced="5900"),
        "B": figures(orders=1, amount="18000", returned="2000", collected="18000",
                     outstanding="0", invoiced="18000"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        # A rep: their own orders S1, S2 (S6 is the follower's).
        ("sales", {"Shanghai Precision Machinery Co.": (1, "10000.00"),
                   "Hangzhou Green Foods Ltd.": (1, "18000.00")}),
        # East's manager: their office's S1, S2 and S6, not North's S3.
        ("sales_manager", {"Shanghai Precision Machinery Co.": (2, "10900.00"),
                           "Hangzhou Green Foods Ltd.": (1, "18000.00")}),
        ("sales_manager2", {"Beijing Northern Logistics": (1, "50000.00")}),
    ],
)  # fmt: skip
async def test_customer_statistics_show_only_the_users_scope(api, sales_data, username, expected):
    client = await api(username)
    response = await client.get("/api/v1/reports/customers", params={**PERIOD, "by": "customer"})
    assert response.status_code == 200, response.text
    found = {
        row["customer"]: (row["figures"]["orders"], f"{D(row['figures']['amount']):.2f}")
        for row in response.json()["rows"]
    }
    assert found == expected


# --- order statistics ---------------------------------------------------------------------------


def totals_of(body: dict) -> list[tuple[str, int, str]]:
    return [(g["group"], g["orders"], f"{D(g['amount']):.2f}") for g in body["groups"]]


def months_of(group: dict) -> dict[str, tuple[int, str]]:
    return {
        m["month"]: (m["orders"], f"{D(m['amount']):.2f}") for m in group["months"] if m["orders"]
    }


async def test_order_statistics_count_each_order_in_its_month_of_confirmation(api, sales_data):
    director = await api("director")
    response = await director.get("/api/v1/reports/orders", params={**PERIOD, "by": "department"})
    assert response.status_code == 200, response.text
    body = response.json()
    groups = {g["group"]: months_of(g) for g in body["groups"]}
    # S2 was confirmed at 00:10 on Feb 1 in Shanghai (still Jan 31 in UTC): February.
    assert groups == {
        "North China office": {"2026-03": (1, "50000.00")},
        "East China office": {
            "2026-01": (1, "10000.00"),
            "2026-02": (1, "18000.00"),
            "2026-03": (1, "900.00"),
        },
    }
    assert [g["group"] for g in body["groups"]] == ["North China office", "East China office"]
    assert [m["month"] for m in body["months"]] == ["2026-01", "2026-02", "2026-03"]
    assert [(m["orders"], f"{D(m['amount']):.2f}") for m in body["months"]] == [
        (1, "10000.00"),
        (1, "18000.00"),
        (2, "50900.00"),
    ]
    assert (body["orders"], f"{D(body['amount']):.2f}") == (4, "78900.00")


async def test_order_statistics_by_customer_level_and_region(api, sales_data):
    director = await api("director")
    by_level = await director.get(
        "/api/v1/reports/orders", params={**PERIOD, "by": "customer_level"}
    )
    assert {g["group"]: months_of(g) for g in by_level.json()["groups"]} == {
        "A": {"2026-01": (1, "10000.00"), "2026-03": (2, "50900.00")},  # S1; S3 + S6
        "B": {"2026-02": (1, "18000.00")},
    }
    by_region = await director.get("/api/v1/reports/orders", params={**PERIOD, "by": "region"})
    assert totals_of(by_region.json()) == [
        ("North China", 1, "50000.00"),
        ("East China", 3, "28900.00"),
    ]


async def test_order_statistics_by_product_category_take_returns_off_their_lines(api, sales_data):
    director = await api("director")
    response = await director.get(
        "/api/v1/reports/orders", params={**PERIOD, "by": "product_category"}
    )
    body = response.json()
    assert {g["group"]: months_of(g) for g in body["groups"]} == {
        "Machines": {"2026-02": (1, "15000.00"), "2026-03": (1, "50000.00")},  # S2, S3
        "Components": {"2026-01": (1, "10000.00"), "2026-03": (1, "1000.00")},  # S1, S6
        "Consumables": {"2026-02": (1, "3000.00")},  # S2's 5,000 less the 2,000 back
    }
    # S2 counts once in February though it has lines of two categories. A credit note
    # crediting no return (S6's 100) belongs to no category: the lines' 79,000 in all.
    assert [m["orders"] for m in body["months"]] == [1, 1, 2]
    assert (body["orders"], f"{D(body['amount']):.2f}") == (4, "79000.00")


async def test_order_statistics_show_a_rep_only_their_own_orders(api, sales_data):
    rep = await api("sales")
    response = await rep.get("/api/v1/reports/orders", params={**PERIOD, "by": "department"})
    assert totals_of(response.json()) == [("East China office", 2, "28000.00")]  # S1 + S2
    manager = await api("sales_manager2")
    response = await manager.get("/api/v1/reports/orders", params={**PERIOD, "by": "region"})
    assert [(g["group"], g["orders"]) for g in response.json()["groups"]] == [("North China", 1)]


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "english", "chinese"),
    [
        ("customers", {"date_from": "2026-13-01"}, "date_from must be a date such as 2026-06-30.",
         "date_from 必须是日期"),
        ("orders", {"date_from": "2026-03-01", "date_to": "2026-01-31"},
         "The period cannot end on 2026-01-31, before it begins on 2026-03-01.", "2026-01-31"),
        ("orders", {"date_from": "2020-01-01", "date_to": "2026-03-31"},
         "A report covers at most 36 months; 2020-01-01 to 2026-03-31 is longer.", "36"),
        ("orders", {"by": "colour"}, "The report cannot be broken down by “colour”", "colour"),
        ("customers", {"by": "region"}, "choose one of: level, customer", "level, customer"),
    ],
)  # fmt: skip
@needs_catalog
async def test_a_period_or_breakdown_the_report_does_not_know_is_refused_in_both_languages(
    api, sales_data, path, params, english, chinese
):
    director = await api("director")
    response = await director.get(f"/api/v1/reports/{path}", params=params)
    assert response.status_code == 422, response.text
    assert english in response.json()["detail"]
    response = await director.get(
        f"/api/v1/reports/{path}", params=params, headers={"Accept-Language": "zh-CN"}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert chinese in detail and re.search(r"[\u4e00-\u9fff]", detail), detail


@pytest.mark.parametrize("path", ["customers", "orders"])
async def test_pricing_warehouse_and_service_have_no_statistics(api, browser_session, path):
    for username in ("pricing", "warehouse", "service"):
        client = await api(username)
        response = await client.get(f"/api/v1/reports/{path}")
        assert response.status_code == 403, response.text
        assert "statistics are for" in response.json()["detail"]
    page = await (await browser_session("warehouse")).get(f"/reports/{path}")
    assert page.status_code == 403


# --- the pages ----------------------------------------------------------------------------------


def text_of(response) -> str:
    return html.unescape(response.text)


def svg_texts(page: str) -> list[str]:
    svg = re.search(r"<svg.*?</svg>", page, re.S)
    assert svg, "the page has no chart"
    assert "<script" not in svg.group(0)
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg.group(0))]


async def test_the_customer_statistics_page_has_a_chart_and_every_figure_in_a_table(
    browser_session, sales_data
):
    client = await browser_session("director")
    response = await client.get("/reports/customers", params={**PERIOD, "by": "customer"})
    assert response.status_code == 200, response.text
    page = text_of(response)
    texts = svg_texts(page)
    assert {"Amount", "Collected", "Outstanding", "Hangzhou Green Foods Ltd."} <= set(texts)
    row = re.search(r'<tr data-row="Shanghai Precision Machinery Co.">.*?</tr>', page, re.S)
    assert row
    cells = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', row.group(0)))
    assert cells == {
        "orders": "2", "amount": "CN¥10,900.00", "returned": "CN¥0.00",
        "collected": "CN¥4,000.00", "outstanding": "CN¥7,000.00", "invoiced": "CN¥5,900.00",
    }  # fmt: skip


@needs_catalog
async def test_the_order_statistics_page_speaks_chinese_in_its_chart_and_table(
    browser_session, sales_data
):
    client = await chinese_session(browser_session, "director")
    response = await client.get("/reports/orders", params={**PERIOD, "by": "department"})
    assert response.status_code == 200, response.text
    page = text_of(response)
    assert "订单统计" in page
    texts = svg_texts(page)
    assert {"2026年1月", "2026年2月", "2026年3月"} <= set(texts)
    assert any("按月净额" in t for t in texts), texts
    totals = re.search(r'<tr data-row="totals">.*?</tr>', page, re.S)
    assert totals and "¥78,900.00" in totals.group(0)
    english = await (await browser_session("sales_manager")).get(
        "/reports/orders", params={**PERIOD, "by": "region"}
    )
    texts = svg_texts(text_of(english))
    assert {"Jan 2026", "Mar 2026", "East China"} <= set(texts)
    assert "North China" not in text_of(english)  # the manager's scope: East only
