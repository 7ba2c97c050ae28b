"""The cost variance report page: the table by the size of the variance with its totals, the
filters (and the form showing them), the category's columns, paging links that keep the
filters, the menu link, refused roles and bad input."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from tests.web.test_cost_report_api import (
    BY_VARIANCE,
    FIRST_DAY,
    SHANGHAI,
    TODAY,
    Book,
    write_book,
)
from web.api.reports import report_today

PATH = "/reports/cost-variance"


@pytest.fixture
async def book(app, session_factory) -> Book:
    app.dependency_overrides[report_today] = lambda: TODAY
    return await write_book(session_factory)


def text_of(page) -> str:
    return html.unescape(page.text)


def rows_of(page_text: str) -> dict[str, str]:
    """The table's rows by order number, in page order."""
    return dict(re.findall(r'<tr data-order="([^"]+)"[^>]*>(.*?)</tr>', page_text, re.S))


def keys_of(book: Book, page_text: str) -> list[str]:
    by_number = {number: key for key, number in book.numbers.items()}
    return [by_number[number] for number in re.findall(r'<tr data-order="([^"]+)"', page_text)]


def figures_of(row: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([^"]+)">([^<]+)<', row))


# --- the table ------------------------------------------------------------------------------


async def test_ops_see_the_closed_orders_by_variance_with_figures_and_totals(browser_session, book):
    ops = await browser_session("ops")
    home = await ops.get("/")
    assert f'href="{PATH}"' in home.text  # the menu link
    page = await ops.get(PATH)
    assert page.status_code == 200, page.text
    assert keys_of(book, page.text) == BY_VARIANCE
    text = text_of(page)
    d = rows_of(text)[book.numbers["D"]]
    for shown in (
        "Hangzhou Green Foods Ltd.",
        "Wang Fang",
        "East China office",
        "CN¥1,500.00",  # the revenue
        "CN¥800.00",  # expected
        "CN¥1,600.00",  # actual
        "Steel prices rose.",
        f'href="/orders/{book.numbers["D"]}"',
    ):
        assert shown in d, shown
    assert figures_of(d) == {"variance": "CN¥800.00", "variance_percent": "100 %"}
    assert 'class="num late" data-figure="variance"' in d  # cost more than expected: red
    b = rows_of(text)[book.numbers["B"]]
    assert figures_of(b) == {"variance": "-CN¥600.00", "variance_percent": "-11.32 %"}
    assert "late" not in b
    assert 'id="total-count">7<' in text
    assert 'id="total-expected">CN¥13,600.00<' in text
    assert 'id="total-actual">CN¥13,940.00<' in text
    assert 'id="total-variance" class="late">CN¥340.00 <span class="muted">(2.5 %)' in text
    assert "total-category" not in text  # no category asked for
    # The form shows the default period.
    assert f'name="closed_from" value="{FIRST_DAY}"' in text
    assert f'name="closed_to" value="{TODAY}"' in text


@pytest.mark.parametrize("username", ["ops_manager", "director"])
async def test_the_operations_manager_and_the_director_see_it_too(browser_session, book, username):
    client = await browser_session(username)
    assert f'href="{PATH}"' in (await client.get("/")).text
    page = await client.get(PATH)
    assert keys_of(book, page.text) == BY_VARIANCE


async def test_a_category_adds_its_columns_and_ranks_by_them(browser_session, book):
    ops = await browser_session("ops")
    page = await ops.get(PATH, params={"category": "freight"})
    assert page.status_code == 200, page.text
    assert keys_of(book, page.text) == ["C", "A", "B", "D", "F", "G", "I"]
    text = text_of(page)
    for heading in ("Freight: expected", "Freight: actual", "Freight: variance"):
        assert heading in text
    assert '<option value="freight" selected>Freight</option>' in text
    c = figures_of(rows_of(text)[book.numbers["C"]])
    assert c == {
        "variance": "CN¥300.00",
        "variance_percent": "11.54 %",
        "category_expected": "CN¥100.00",
        "category_actual": "CN¥400.00",
        "category_difference": "CN¥300.00",
    }
    assert 'id="total-category-expected">CN¥600.00<' in text
    assert 'id="total-category-actual">CN¥850.00<' in text
    assert 'id="total-category-difference" class="late">CN¥250.00<' in text


async def test_filters_keep_their_orders_and_show_in_the_form(browser_session, book):
    director = await browser_session("director")
    shanghai = await director.get(PATH, params={"customer_id": str(book.customers[SHANGHAI])})
    assert keys_of(book, shanghai.text) == ["C", "A"]
    assert f'<option value="{book.customers[SHANGHAI]}" selected>{SHANGHAI}</option>' in text_of(
        shanghai
    )
    owner = await director.get(PATH, params={"owner_id": str(book.users["sales"])})
    assert keys_of(book, owner.text) == ["D", "A", "F"]
    assert f'<option value="{book.users["sales"]}" selected>' in owner.text
    east = book.departments["East China office"]
    office = await director.get(PATH, params={"department_id": str(east)})
    assert keys_of(book, office.text) == ["D", "C", "A", "F"]
    # The department choices are a tree: the offices under Sales, indented.
    assert re.search(
        rf'<option value="{east}" selected>\u00a0\u00a0East China office<', office.text
    )
    sales = await director.get(PATH, params={"department_id": str(book.departments["Sales"])})
    assert keys_of(book, sales.text) == BY_VARIANCE
    period = await director.get(
        PATH,
        params={
            "closed_from": str(TODAY - timedelta(days=30)),
            "closed_to": str(TODAY - timedelta(days=5)),
        },
    )
    assert keys_of(book, period.text) == ["B", "C", "G"]
    assert f'name="closed_from" value="{TODAY - timedelta(days=30)}"' in period.text
    # Blank filters, as the form sends them, mean the defaults.
    blank = await director.get(
        PATH,
        params={
            "closed_from": "",
            "closed_to": "",
            "category": "",
            "customer_id": "",
            "owner_id": "",
            "department_id": "",
            "page": "",
            "per_page": "",
        },
    )
    assert keys_of(book, blank.text) == BY_VARIANCE
    nothing = await director.get(PATH, params={"customer_id": "99999"})
    assert keys_of(book, nothing.text) == []
    assert "No order closed in this period matches the filters." in text_of(nothing)


async def test_the_report_pages_with_links_that_keep_the_filters(browser_session, book):
    ops = await browser_session("ops")
    page = await ops.get(PATH, params={"category": "goods", "per_page": "3", "page": "2"})
    assert page.status_code == 200, page.text
    # Goods: D 800 more, B 600 less, A 100 more (page 1), I 50 less, F 10 less, C as expected
    # (page 2), G as expected (page 3).
    assert keys_of(book, page.text) == ["I", "F", "C"]
    text = text_of(page)
    assert "Page 2 of 3 · 7 orders" in text
    base = (
        f"{PATH}?closed_from={FIRST_DAY}&closed_to={TODAY}&category=goods&customer_id="
        "&owner_id=&department_id=&per_page=3"
    )
    assert f'href="{base}&page=1"' in text
    assert f'href="{base}&page=3"' in text
    assert 'id="total-count">7<' in text  # over every page
    last = await ops.get(PATH, params={"category": "goods", "per_page": "3", "page": "3"})
    assert keys_of(book, last.text) == ["G"]
    assert "&page=4" not in last.text


# --- who may look, and bad input ------------------------------------------------------------


@pytest.mark.parametrize(
    "username", ["sales", "sales_manager", "follower", "finance", "pricing", "warehouse", "admin"]
)
async def test_everyone_else_gets_no_link_and_a_403_page(browser_session, book, username):
    client = await browser_session(username)
    assert f'href="{PATH}"' not in (await client.get("/")).text
    page = await client.get(PATH)
    assert page.status_code == 403
    assert "The cost variance report is for business operations and directors." in text_of(page)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("closed_from=yesterday", "closed_from must be a date such as 2026-06-30."),
        ("closed_to=2026-02-30", "closed_to must be a date such as 2026-06-30."),
        (
            "closed_from=2026-06-10&closed_to=2026-06-01",
            "The period cannot end on 2026-06-01, before it begins on 2026-06-10.",
        ),
        ("category=labour", "Choose a cost category from the list."),
        ("customer_id=abc", "customer_id must be a whole number from 1 up."),
        ("department_id=0", "department_id must be a whole number from 1 up."),
        ("page=0", "page must be a whole number from 1 up."),
        ("per_page=1000", "per_page can be at most 200."),
    ],
)
async def test_bad_input_gets_a_400_page_that_says_what_is_wrong(
    browser_session, book, query, message
):
    ops = await browser_session("ops")
    page = await ops.get(f"{PATH}?{query}")
    assert page.status_code == 400
    assert message in text_of(page)


async def test_the_page_asks_for_a_sign_in(http, book):
    response = await http.get(PATH)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={PATH}"
