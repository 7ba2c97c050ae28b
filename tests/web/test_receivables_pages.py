"""Receivables pages: the list with its filters, totals and paging (overdue orders red), the
aging table per customer with its totals row, the menu link, refused roles and bad input."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from tests.web.test_receivables_api import (
    BEIJING,
    EVERYONE,
    HANGZHOU,
    SHANGHAI,
    TIANJIN,
    TODAY,
    Book,
    write_book,
)
from web.api.receivables import receivables_today


@pytest.fixture
async def book(app, session_factory) -> Book:
    app.dependency_overrides[receivables_today] = lambda: TODAY
    return await write_book(session_factory)


def text_of(page) -> str:
    return html.unescape(page.text)


def rows_of(page_text: str) -> dict[str, str]:
    """The list's rows by order number, in page order."""
    return dict(re.findall(r'<tr data-order="([^"]+)"[^>]*>(.*?)</tr>', page_text, re.S))


def row_tags(page_text: str) -> dict[str, str]:
    """Each row's opening tag, by order number (where the overdue class is)."""
    return {
        m.group(1): m.group(0) for m in re.finditer(r'<tr data-order="([^"]+)"[^>]*>', page_text)
    }


def keys_of(book: Book, page_text: str) -> list[str]:
    by_number = {number: key for key, number in book.numbers.items()}
    return [by_number[number] for number in re.findall(r'<tr data-order="([^"]+)"', page_text)]


def aging_row(page_text: str, customer: str) -> dict[str, str]:
    """The amounts of one row of the aging table, by bucket."""
    match = re.search(rf'<tr data-customer="{customer}">(.*?)</tr>', page_text, re.S)
    assert match, f"no aging row for {customer}"
    return dict(re.findall(r'data-bucket="([^"]+)">([^<]+)<', match.group(1)))


# --- the list -------------------------------------------------------------------------------


async def test_the_sales_rep_sees_their_open_orders_with_overdue_ones_red(browser_session, book):
    sales = await browser_session("sales")
    home = await sales.get("/")
    assert 'href="/receivables"' in home.text  # the menu link
    page = await sales.get("/receivables")
    assert page.status_code == 200, page.text
    assert keys_of(book, page.text) == ["A", "I", "B"]
    tags = row_tags(page.text)
    assert 'class="overdue"' in tags[book.numbers["A"]]
    assert "overdue" not in tags[book.numbers["I"]]
    text = text_of(page)
    a = rows_of(text)[book.numbers["A"]]
    assert "health-red" in a
    assert "CN¥900.00" in a and "CN¥200.00" in a and ">40<" in a  # outstanding, overdue, days
    b = rows_of(text)[book.numbers["B"]]
    assert "no date yet" in b and "health-red" not in b
    assert 'id="total-outstanding">CN¥1,650.00<' in text
    assert 'id="total-overdue" class="late">CN¥200.00<' in text
    assert 'id="total-count">3<' in text
    assert 'name="owner_id"' not in text  # a rep sees their own: no owner to choose


async def test_finance_filters_overdue_orders_of_a_customer(browser_session, book):
    finance = await browser_session("finance")
    everyone = await finance.get("/receivables")
    assert keys_of(book, everyone.text) == EVERYONE
    assert 'name="owner_id"' in everyone.text
    overdue = await finance.get(
        "/receivables", params={"overdue": "1", "customer_id": str(book.customers[SHANGHAI])}
    )
    assert keys_of(book, overdue.text) == ["A", "D"]
    text = text_of(overdue)
    assert 'name="overdue" value="1" checked' in text
    assert f'<option value="{book.customers[SHANGHAI]}" selected>{SHANGHAI}</option>' in text
    assert 'id="total-outstanding">CN¥1,700.00<' in text
    # Blank filters, as the form sends them, mean "all".
    blank = await finance.get(
        "/receivables", params={"overdue": "", "customer_id": "", "owner_id": "", "page": ""}
    )
    assert keys_of(book, blank.text) == EVERYONE


async def test_the_list_pages_with_links_that_keep_the_filters(browser_session, book):
    manager = await browser_session("sales_manager")
    page = await manager.get("/receivables", params={"per_page": "2", "page": "2"})
    assert page.status_code == 200, page.text
    assert keys_of(book, page.text) == ["I", "B"]  # A, D on page 1
    text = text_of(page)
    assert "Page 2 of 2 · 4 orders" in text
    assert 'href="/receivables?overdue=&customer_id=&owner_id=&per_page=2&page=1"' in text
    assert "&page=3" not in text
    assert 'id="total-count">4<' in text  # over every page


# --- aging ----------------------------------------------------------------------------------


async def test_the_aging_table_has_a_row_per_customer_and_a_totals_row(browser_session, book):
    finance = await browser_session("finance")
    page = await finance.get("/receivables/aging")
    assert page.status_code == 200, page.text
    text = text_of(page)
    customers = re.findall(r'<tr data-customer="(\d+)">\s*<td><a [^>]*>([^<]+)</a>', text)
    assert [name for _, name in customers] == [BEIJING, HANGZHOU, SHANGHAI, TIANJIN]
    for heading in ("Not yet due", "1–30 days overdue", "Over 90 days overdue"):
        assert heading in text
    assert aging_row(text, str(book.customers[BEIJING])) == {
        "not_due": "CN¥100.00",
        "1-30": "CN¥1,000.00",
        "31-60": "CN¥200.00",
        "61-90": "CN¥200.00",
        "over_90": "CN¥100.00",
        "total": "CN¥1,600.00",
    }
    assert aging_row(text, "total") == {
        "not_due": "CN¥2,250.00",
        "1-30": "CN¥1,400.00",
        "31-60": "CN¥400.00",
        "61-90": "CN¥200.00",
        "over_90": "CN¥100.00",
        "total": "CN¥4,350.00",
    }
    assert f"as of {TODAY:%b} {TODAY.day}, {TODAY.year}" in text


async def test_a_sales_manager_sees_the_aging_of_their_department(browser_session, book):
    manager = await browser_session("sales_manager2")
    page = await manager.get("/receivables/aging")
    text = text_of(page)
    assert re.findall(r'<tr data-customer="(\d+)">', text) == [
        str(book.customers[BEIJING]),
        str(book.customers[HANGZHOU]),
    ]
    assert aging_row(text, "total")["total"] == "CN¥1,900.00"  # C, E and H
    later = await manager.get(
        "/receivables/aging", params={"customer_id": str(book.customers[HANGZHOU])}
    )
    assert aging_row(text_of(later), "total")["total"] == "CN¥300.00"


async def test_the_day_moves_the_money_between_buckets(app, browser_session, book):
    app.dependency_overrides[receivables_today] = lambda: TODAY + timedelta(days=31)
    finance = await browser_session("finance")
    text = text_of(await finance.get("/receivables/aging"))
    # A month on: A's "in 20 days" is 11 days late, D's "due today" 31; A's 40 and D's 30
    # days are 71 and 61.
    shanghai = aging_row(text, str(book.customers[SHANGHAI]))
    assert shanghai == {
        "not_due": "CN¥0.00",
        "1-30": "CN¥700.00",
        "31-60": "CN¥400.00",
        "61-90": "CN¥600.00",
        "over_90": "CN¥0.00",
        "total": "CN¥1,700.00",
    }


# --- who may look, and bad input ------------------------------------------------------------


@pytest.mark.parametrize("username", ["warehouse", "pricing", "ops"])
async def test_roles_without_receivables_get_no_link_and_a_403_page(
    browser_session, book, username
):
    client = await browser_session(username)
    assert 'href="/receivables"' not in (await client.get("/")).text
    for path in ("/receivables", "/receivables/aging"):
        page = await client.get(path)
        assert page.status_code == 403
        assert (
            "Receivables are for sales, sales managers, finance, directors and administrators."
            in text_of(page)
        )


async def test_an_administrator_may_look_without_a_menu_link(browser_session, book):
    admin = await browser_session("admin")
    assert 'href="/receivables"' not in (await admin.get("/admin/users")).text
    page = await admin.get("/receivables")
    assert keys_of(book, page.text) == EVERYONE


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=0", "page must be a whole number from 1 up."),
        ("page=abc", "page must be a whole number from 1 up."),
        ("per_page=1000", "per_page can be at most 200."),
        ("customer_id=abc", "customer_id must be a whole number from 1 up."),
        ("owner_id=-2", "owner_id must be a whole number from 1 up."),
    ],
)
async def test_bad_query_input_gets_a_400_page_that_says_what_is_wrong(
    browser_session, book, query, message
):
    finance = await browser_session("finance")
    page = await finance.get(f"/receivables?{query}")
    assert page.status_code == 400
    assert message in text_of(page)


async def test_the_pages_ask_for_a_sign_in(http, book):
    response = await http.get("/receivables")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/receivables"
