"""Refunds and credit notes of cancelled orders in the receivables (API and page, English and
Chinese), each user seeing only their scope's figures; and the cost variance report's revenue
net of credit notes (API and page), cancelled orders left out."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.models.test_refund_figures import BEIJING, write_refund_book
from tests.web.test_i18n import (  # the fixture needs_catalog names
    choose_language,
    needs_catalog,
    zh_catalog_compiled,  # noqa: F401
)


def text_of(response: httpx.Response) -> str:
    words = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(words))


def figure(response: httpx.Response, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', response.text)
    assert found, element_id
    return html.unescape(found[1]).strip()


MONEY_BACK = ("refunds_due", "refunds_due_count", "refunded", "credit_notes_due", "credited")


@pytest.mark.parametrize(
    ("username", "expected", "listed"),
    [
        ("finance", ("1100.00", 2, "400.00", "300.00", "1200.00"), ["R1", "R2"]),
        ("sales", ("600.00", 1, "400.00", "0.00", "1000.00"), ["R1"]),
        ("sales2", ("500.00", 1, "0.00", "300.00", "200.00"), ["R2"]),
        ("sales_manager", ("600.00", 1, "400.00", "0.00", "1000.00"), ["R1"]),
    ],
)
async def test_the_receivables_api_shows_refunds_and_credit_notes_in_the_users_scope_only(
    api, session_factory, username, expected, listed
):
    book = await write_refund_book(session_factory)

    answer = (await (await api(username)).get("/api/v1/receivables")).json()

    assert tuple(answer["money_back"][k] for k in MONEY_BACK) == expected
    assert [r["order_number"] for r in answer["money_back"]["refunds"]] == [
        book.numbers[k] for k in listed
    ]
    assert answer["totals"]["outstanding"] == "0.00"  # cancelled orders have no money open
    assert answer["items"] == []


async def test_the_customer_filter_applies_to_the_refund_figures(api, session_factory):
    book = await write_refund_book(session_factory)
    finance = await api("finance")

    answer = (
        await finance.get("/api/v1/receivables", params={"customer_id": book.customers[BEIJING]})
    ).json()

    assert tuple(answer["money_back"][k] for k in MONEY_BACK) == (
        "500.00",
        1,
        "0.00",
        "300.00",
        "200.00",
    )
    [due] = answer["money_back"]["refunds"]
    assert (due["order_number"], due["customer"]["name"], due["amount"]) == (
        book.numbers["R2"],
        BEIJING,
        "500.00",
    )


@pytest.mark.parametrize("username", ["pricing", "ops", "warehouse"])
async def test_roles_without_receivables_get_no_refund_figures(api, session_factory, username):
    await write_refund_book(session_factory)
    refused = await (await api(username)).get("/api/v1/receivables")
    assert refused.status_code == 403
    assert "money_back" not in refused.text


async def test_the_receivables_page_shows_the_money_going_back_in_english(
    browser_session, session_factory
):
    book = await write_refund_book(session_factory)

    page = await (await browser_session("finance")).get("/receivables")

    assert page.status_code == 200
    assert "Money going back to customers of cancelled orders" in text_of(page)
    assert figure(page, "total-refunds-due") == "CN¥1,100.00"
    assert figure(page, "total-refunded") == "CN¥400.00"
    assert figure(page, "total-credit-notes-due") == "CN¥300.00"
    assert figure(page, "total-credited") == "CN¥1,200.00"
    assert f'data-refund-order="{book.numbers["R1"]}"' in page.text
    assert f'data-refund-order="{book.numbers["R2"]}"' in page.text


async def test_a_sales_rep_sees_only_their_own_orders_refunds_on_the_page(
    browser_session, session_factory
):
    book = await write_refund_book(session_factory)

    page = await (await browser_session("sales")).get("/receivables")

    assert figure(page, "total-refunds-due") == "CN¥600.00"
    assert figure(page, "total-credited") == "CN¥1,000.00"
    assert book.numbers["R1"] in page.text
    assert book.numbers["R2"] not in page.text


@needs_catalog
async def test_the_receivables_page_shows_the_money_going_back_in_chinese(
    browser_session, session_factory
):
    await write_refund_book(session_factory)
    finance = await browser_session("finance")
    await choose_language(finance, "zh_CN")

    page = await finance.get("/receivables")

    assert page.status_code == 200
    words = text_of(page)
    assert "退还给已取消订单客户的款项" in words
    assert "待退款" in words and "已开红字发票" in words and "待开红字发票" in words
    assert figure(page, "total-refunds-due") == "¥1,100.00"


# -- the cost variance report ------------------------------------------------------------------


async def test_the_cost_report_gives_revenue_net_of_credit_notes_and_leaves_cancelled_out(
    api, browser_session, session_factory
):
    book = await write_refund_book(session_factory)

    answer = (await (await api("ops")).get("/api/v1/reports/cost-variance")).json()

    [row] = answer["items"]  # the cancelled order X is not there, though it has a closing date
    assert row["order_number"] == book.numbers["C1"]
    assert (row["total"], row["credited"], row["revenue"]) == ("2000.00", "200.00", "1800.00")
    page = await (await browser_session("ops")).get("/reports/cost-variance")
    assert page.status_code == 200
    assert "CN¥1,800.00" in text_of(page)
    assert "CN¥2,000.00 less CN¥200.00 credited" in text_of(page)
    assert book.numbers["X"] not in page.text


@needs_catalog
async def test_the_cost_report_page_renders_the_net_revenue_in_chinese(
    browser_session, session_factory
):
    await write_refund_book(session_factory)
    ops = await browser_session("ops")
    await choose_language(ops, "zh_CN")

    page = await ops.get("/reports/cost-variance")

    assert page.status_code == 200
    assert "¥2,000.00 减去红字发票 ¥200.00" in text_of(page)
