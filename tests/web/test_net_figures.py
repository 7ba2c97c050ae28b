"""Figures net of returns in the API and on the pages, English and Chinese: the receivables and
the aging with what came back (each user their scope only), a return's refund in the money
going back, the cost variance report and a closed order's final figures on the net revenue; and
the return freight recorded, approved, compared and closed through the real workflow."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from models.tables import Order, OrderCostVariance
from tests.models.test_net_figures import BEIJING, SHANGHAI, TODAY, NetBook, write_net_book
from tests.web.test_costs_api import deliver, item, paid_order
from tests.web.test_fulfilment_api import complete
from tests.web.test_i18n import (  # the fixture needs_catalog names
    choose_language,
    needs_catalog,
    zh_catalog_compiled,  # noqa: F401
)
from tests.web.test_orders_api import todo_of
from web.api.receivables import receivables_today

D = Decimal


@pytest.fixture
async def book(app, session_factory) -> NetBook:
    """The net book (tests/models/test_net_figures.py), counted on its own day, with C1's
    closing rows per category (the return freight among them)."""
    app.dependency_overrides[receivables_today] = lambda: TODAY
    written = await write_net_book(session_factory)
    async with session_factory() as session:
        for category, expected, actual in (
            ("goods", "2800.00", "2850.00"),
            ("return_freight", "0.00", "150.00"),
        ):
            session.add(
                OrderCostVariance(
                    order_id=written.ids["C1"], category=category, expected=D(expected),
                    actual=D(actual), difference=D(actual) - D(expected),
                )
            )  # fmt: skip
        await session.commit()
    return written


def text_of(response) -> str:
    words = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(words))


def figure(response, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', response.text)
    assert found, element_id
    return html.unescape(found[1]).strip()


def row_of(response, attribute: str, key: str) -> str:
    found = re.search(rf'<tr {attribute}="{key}".*?</tr>', response.text, re.S)
    assert found, key
    return found[0]


def cell(row: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', row)
    assert found, name
    return html.unescape(found[1]).strip()


# -- receivables and aging ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "listed", "returned", "refunds_due"),
    [
        ("finance", ["N2", "N4", "N1"], "240.00", "200.00"),
        ("sales", ["N4", "N1"], "240.00", "200.00"),
        ("sales2", ["N2"], "0.00", "0.00"),
        ("sales_manager", ["N4", "N1"], "240.00", "200.00"),
    ],
)
async def test_the_receivables_api_is_net_of_returns_in_each_users_scope(
    api, book, username, listed, returned, refunds_due
):
    answer = (await (await api(username)).get("/api/v1/receivables")).json()

    assert [r["order_number"] for r in answer["items"]] == [book.numbers[k] for k in listed]
    assert answer["totals"]["returned"] == returned
    assert answer["money_back"]["refunds_due"] == refunds_due  # N3's return's refund
    rows = {r["order_number"]: r for r in answer["items"]}
    if book.numbers["N1"] in rows:
        n1 = rows[book.numbers["N1"]]
        assert (n1["total"], n1["returned"], n1["net_total"], n1["paid"], n1["outstanding"]) == (
            "1000.00",
            "200.00",
            "800.00",
            "300.00",
            "500.00",  # net total less paid: the return came off once
        )


async def test_the_aging_api_shows_what_came_back_per_customer_and_in_all(api, book):
    answer = (await (await api("finance")).get("/api/v1/receivables/aging")).json()

    by_customer = {r["customer"]["name"]: r for r in answer["customers"]}
    assert (by_customer[SHANGHAI]["total"], by_customer[SHANGHAI]["returned"]) == (
        "1060.00",
        "240.00",
    )
    assert by_customer[BEIJING]["returned"] == "0.00"
    assert (answer["total"]["total"], answer["total"]["returned"]) == ("3060.00", "240.00")
    mine = (await (await api("sales2")).get("/api/v1/receivables/aging")).json()
    assert [r["customer"]["name"] for r in mine["customers"]] == [BEIJING]
    assert mine["total"]["returned"] == "0.00"


async def test_the_receivables_page_shows_what_came_back_per_order_and_in_all(
    browser_session, book
):
    page = await (await browser_session("finance")).get("/receivables")

    assert page.status_code == 200
    assert figure(page, "total-returned") == "CN¥240.00"
    assert figure(page, "total-outstanding") == "CN¥3,060.00"
    n1 = row_of(page, "data-order", book.numbers["N1"])
    assert (cell(n1, "returned"), cell(n1, "net_total")) == ("CN¥200.00", "CN¥800.00")
    assert cell(row_of(page, "data-order", book.numbers["N2"]), "returned") == "—"
    words = text_of(page)
    assert "Money going back to customers of cancelled orders and returns" in words
    assert "Value returned" in words and "Net total" in words
    assert figure(page, "total-refunds-due") == "CN¥200.00"
    assert f'data-refund-order="{book.numbers["N3"]}"' in page.text


async def test_a_sales_reps_receivables_pages_show_only_their_own_orders_figures(
    browser_session, book
):
    rep = await browser_session("sales2")

    page = await rep.get("/receivables")
    aging = await rep.get("/receivables/aging")

    assert figure(page, "total-returned") == "CN¥0.00"
    assert figure(page, "total-refunds-due") == "CN¥0.00"
    for other in ("N1", "N3", "N4"):
        assert book.numbers[other] not in page.text
    assert book.numbers["N2"] in page.text
    assert f'data-customer="{book.customers[SHANGHAI]}"' not in aging.text
    assert cell(row_of(aging, "data-customer", "total"), "returned") == "CN¥0.00"


async def test_the_aging_page_shows_what_came_back_per_customer(browser_session, book):
    page = await (await browser_session("finance")).get("/receivables/aging")

    assert page.status_code == 200
    shanghai = row_of(page, "data-customer", str(book.customers[SHANGHAI]))
    assert cell(shanghai, "returned") == "CN¥240.00"
    assert cell(row_of(page, "data-customer", "total"), "returned") == "CN¥240.00"
    assert "Net of returns" in text_of(page)


@needs_catalog
async def test_the_receivables_pages_say_the_net_figures_in_chinese(browser_session, book):
    finance = await browser_session("finance")
    await choose_language(finance, "zh_CN")

    page = await finance.get("/receivables")
    aging = await finance.get("/receivables/aging")

    words = text_of(page)
    assert "退还给已取消订单客户的款项（含退货）" in words
    assert "退货金额" in words and "净额" in words
    assert figure(page, "total-returned") == "¥240.00"
    assert "已扣除退货" in text_of(aging) and "退货金额" in text_of(aging)


# -- the cost variance report and the closed order's figures ----------------------------------


async def test_the_cost_report_api_gives_the_net_revenue_and_ranks_return_freight(api, book):
    ops = await api("ops")

    answer = (await ops.get("/api/v1/reports/cost-variance")).json()
    by_category = (
        await ops.get("/api/v1/reports/cost-variance", params={"category": "return_freight"})
    ).json()

    [row] = answer["items"]
    assert row["order_number"] == book.numbers["C1"]
    assert {k: row[k] for k in ("total", "returned", "credited", "credited_for_returns")} == {
        "total": "5000.00",
        "returned": "1000.00",
        "credited": "700.00",
        "credited_for_returns": "600.00",
    }
    assert row["revenue"] == "3900.00"  # the return's credit note is not subtracted again
    [freight] = by_category["items"]
    assert freight["category"] == {
        "category": "return_freight",
        "expected": "0.00",
        "actual": "150.00",
        "difference": "150.00",
        "percent": None,
    }


async def test_the_cost_report_page_says_how_the_net_revenue_comes_about(browser_session, book):
    ops = await browser_session("ops")

    page = await ops.get("/reports/cost-variance")
    freight = await ops.get("/reports/cost-variance", params={"category": "return_freight"})

    words = text_of(page)
    assert "CN¥3,900.00" in words
    assert "CN¥5,000.00 less CN¥1,000.00 returned and CN¥100.00 credited" in words
    assert '<option value="return_freight"' in page.text
    assert "Return freight: actual" in text_of(freight)


@needs_catalog
async def test_the_cost_report_page_says_the_net_revenue_in_chinese(browser_session, book):
    ops = await browser_session("ops")
    await choose_language(ops, "zh_CN")

    page = await ops.get("/reports/cost-variance")

    assert "¥5,000.00 减去退货 ¥1,000.00 和红字发票 ¥100.00" in text_of(page)
    assert "退货运费" in text_of(page)


async def test_a_closed_orders_final_figures_are_on_its_net_revenue(api, browser_session, book):
    number = book.numbers["C1"]

    answer = (await (await api("ops")).get(f"/api/v1/orders/{number}")).json()
    page = await (await browser_session("ops")).get(f"/orders/{number}")

    assert (answer["revenue"], answer["actual_margin"]) == ("3900.00", "900.00")
    assert page.status_code == 200, page.text
    words = text_of(page)
    assert "Net revenue" in words
    assert "CN¥5,000.00 less CN¥1,000.00 returned and CN¥100.00 credited" in words
    margin = re.search(r'data-cost="actual-margin">([^<]*)<', page.text)
    assert margin and html.unescape(margin[1]) == "CN¥900.00"
    assert 'data-category="return_freight"' in page.text


async def test_a_rep_sees_neither_another_reps_closed_order_nor_their_own_costs(api, book):
    other = await (await api("sales")).get(f"/api/v1/orders/{book.numbers['C1']}")
    own = (await (await api("sales2")).get(f"/api/v1/orders/{book.numbers['C1']}")).json()
    report = await (await api("sales2")).get("/api/v1/reports/cost-variance")

    assert other.status_code == 404
    assert "actual_margin" not in own and "actual_cost" not in own
    assert report.status_code == 403


# -- the return freight through the workflow ---------------------------------------------------


async def test_return_freight_is_recorded_compared_on_the_net_revenue_and_closes_the_order(
    api, browser_session, worker, env, session_factory
):
    number, order = await paid_order(api, env)
    ops, finance = await api("ops"), await api("finance")
    expected = D((await ops.get(f"/api/v1/orders/{number}")).json()["expected_cost"])
    # The record form offers the return freight, in the page's words.
    form = await (await browser_session("ops")).get(f"/orders/{number}")
    assert '<option value="return_freight"' in form.text and "Return freight" in form.text

    record = await todo_of(ops, number, "record_actual_costs")
    await complete(
        ops,
        record,
        {
            "outcome": "recorded",
            "items": [
                item("goods", str(expected), "SUP-1"),
                item("return_freight", "120.00", "SUP-RF-1"),
            ],
            "final": True,
        },
    )
    await complete(
        finance, await todo_of(finance, number, "approve_actual_costs"), {"outcome": "approve"}
    )
    # What came back of it, as a return leaves it (the return workflow is not needed here).
    async with session_factory() as session:
        await session.execute(
            update(Order).where(Order.number == number).values(returned=D("1000.00"))
        )
        await session.commit()
    await deliver(api, env, number)

    review = await todo_of(ops, number, "review_variance")
    facts = review["cost_facts"]
    freight = next(c for c in facts["categories"] if c["category"] == "return_freight")
    assert (freight["expected"], freight["actual"]) == ("0.00", "120.00")
    total = D(order["total"])
    assert (facts["order_total"], facts["returned"], facts["revenue"]) == (
        f"{total:.2f}",
        "1000.00",
        f"{total - 1000:.2f}",
    )
    assert D(facts["actual_margin"]) == total - 1000 - expected - 120
    todo_page = await (await browser_session("ops")).get(f"/todos/{review['id']}")
    assert "Return freight" in text_of(todo_page) and "Net revenue" in text_of(todo_page)
    await complete(ops, review, {"outcome": "reviewed", "explanation": "Freight of the return"})
    if facts["above_threshold"]:  # the operations manager approves it first
        manager = await api("ops_manager")
        decide = await todo_of(manager, number, "approve_variance")
        await complete(manager, decide, {"outcome": "approve"})

    closed = (await ops.get(f"/api/v1/orders/{number}")).json()
    assert closed["stage"] == "closed"
    assert closed["revenue"] == f"{total - 1000:.2f}"
    assert D(closed["actual_margin"]) == total - 1000 - expected - 120
    variances = {v["category"]: v for v in closed["cost_variances"]}
    assert variances["return_freight"]["actual"] == "120.00"
    async with session_factory() as session:
        rows = await session.scalars(
            select(OrderCostVariance.category).where(
                OrderCostVariance.order_id
                == (select(Order.id).where(Order.number == number).scalar_subquery())
            )
        )
        assert "return_freight" in set(rows)
