"""Issue 18, defects 3 and 6: a quantity or an amount left blank or not a number is refused with
a sentence written for a person, in their language (pages and API), next to the field it is
about, the field marked and what was typed kept; nothing changes."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.web.conftest import csrf_of
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled  # noqa: F401 (its fixture)
from tests.web.test_orders_api import PUMP, order_body, submitted_order, todo_of

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}

# (what is typed, the English sentence, the Chinese one)
QUANTITIES = [
    ("", "Line 1: give the quantity.", "第 1 行：请填写数量。"),
    ("abc", "Line 1: the quantity must be a number.", "第 1 行：数量必须是数字。"),
]
FREIGHTS = [
    ("abc", "The freight must be a number.", "运费必须是数字。"),
    ("-5", "The freight cannot be negative.", "运费不能为负数。"),
]


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


def language(headers: dict[str, str]) -> int:
    return 2 if headers is ZH else 1


async def order_count(client: httpx.AsyncClient) -> int:
    return (await client.get("/api/v1/orders")).json()["total"]


# --- the API -------------------------------------------------------------------------------------


@needs_catalog
@pytest.mark.parametrize("headers", [EN, ZH], ids=["en", "zh"])
@pytest.mark.parametrize(("typed", "english", "chinese"), QUANTITIES, ids=["blank", "letters"])
async def test_the_api_refuses_a_bad_quantity_in_the_callers_language_and_saves_nothing(
    api, headers, typed, english, chinese
):
    sales = await api("sales")
    before = await order_count(sales)
    body = order_body(lines=[{"product_id": PUMP, "quantity": typed}])
    response = await sales.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 422
    # the sentence for a person; `field` says where the field is, for the client
    assert response.json() == {
        "detail": english if headers is EN else chinese,
        "field": "lines[0].quantity",
    }
    assert await order_count(sales) == before


@needs_catalog
@pytest.mark.parametrize("headers", [EN, ZH], ids=["en", "zh"])
async def test_the_api_refuses_an_amount_that_is_not_a_number_in_the_callers_language(
    api, headers, worker
):
    _, number = await submitted_order(api)
    pricing = await api("pricing")
    todo = await todo_of(pricing, number, "estimate_cost")
    response = await pricing.post(
        f"/api/v1/todos/{todo['id']}/complete",
        json={"outcome": "estimated", "lines": [], "freight": "lots"},
        headers=headers,
    )
    assert response.status_code == 422
    expected = "The freight must be a number." if headers is EN else "运费必须是数字。"
    assert response.json() == {"detail": expected, "field": "freight"}
    assert (await todo_of(pricing, number, "estimate_cost"))["id"] == todo["id"]  # still open


@needs_catalog
async def test_a_query_parameter_out_of_range_is_said_in_words_in_chinese(api):
    finance = await api("finance")
    response = await finance.get("/api/v1/receivables?per_page=1000", headers=ZH)
    assert response.status_code == 422
    assert response.json() == {"detail": "每页条数不能大于 200。", "field": "per_page"}
    english = await finance.get("/api/v1/receivables?per_page=1000")
    assert english.json() == {
        "detail": "The number per page must be at most 200.",
        "field": "per_page",
    }


# --- the new-order page -------------------------------------------------------------------------


def field_tag(page: str, name: str) -> str:
    match = re.search(rf'<(?:input|select)[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert match, f"no field {name}"
    return match.group(0)


def said_under_line(page: str, name: str) -> str:
    """The refusal said in the row right under the field's line of the table."""
    tag = field_tag(page, name)
    end = page.index("</tr>", page.index(tag)) + len("</tr>")
    row = page[end : page.index("</tr>", end)]
    assert row.lstrip().startswith('<tr class="refused-row">'), row
    match = re.search(
        r'<div class="error-box field-error" role="alert" id="refused-message">([^<]*)</div>', row
    )
    assert match, row
    return match.group(1)


@needs_catalog
@pytest.mark.parametrize("headers", [EN, ZH], ids=["en", "zh"])
@pytest.mark.parametrize(("typed", "english", "chinese"), QUANTITIES, ids=["blank", "letters"])
async def test_the_new_order_form_says_a_bad_quantity_next_to_the_line_and_keeps_what_was_typed(
    api, browser_session, headers, typed, english, chinese
):
    sales = await browser_session("sales")
    sales.headers.update(headers)
    before = await order_count(await api("sales"))
    response = await sales.post(
        "/orders/new",
        data={
            "csrf_token": csrf_of((await sales.get("/orders/new")).text),
            "customer_id": "1",
            "requested_delivery_date": "",
            "adjustment": "none",
            "action": "save",
            "lines-0-product_id": str(PUMP),
            "lines-0-quantity": "2",
            "lines-0-unit_price": "8,000.00",
            "lines-1-product_id": "4",
            "lines-1-quantity": typed,
            "lines-1-discount_percent": "5",
        },
    )
    page = text_of(response)
    assert response.status_code == 422
    message = (english if headers is EN else chinese).replace("1", "2", 1)
    assert said_under_line(page, "lines-1-quantity") == message
    assert "Input should" not in page and 'id="form-error"' not in page  # not on top
    assert page.count('id="refused-message"') == 1  # said once
    field = field_tag(page, "lines-1-quantity")
    assert 'aria-invalid="true"' in field and "autofocus" in field
    assert 'aria-describedby="refused-message"' in field
    assert f'value="{typed}"' in field
    assert 'value="8,000.00"' in field_tag(page, "lines-0-unit_price")  # the rest kept too
    assert 'value="5"' in field_tag(page, "lines-1-discount_percent")
    assert "aria-invalid" not in field_tag(page, "lines-0-quantity")
    assert await order_count(await api("sales")) == before


@needs_catalog
@pytest.mark.parametrize("headers", [EN, ZH], ids=["en", "zh"])
async def test_the_new_order_form_marks_a_delivery_date_in_the_past(browser_session, headers):
    sales = await browser_session("sales")
    sales.headers.update(headers)
    response = await sales.post(
        "/orders/new",
        data={
            "csrf_token": csrf_of((await sales.get("/orders/new")).text),
            "customer_id": "1",
            "requested_delivery_date": "2020-01-02",
            "adjustment": "none",
            "action": "save",
            "lines-0-product_id": str(PUMP),
            "lines-0-quantity": "2",
        },
    )
    page = text_of(response)
    assert response.status_code == 422
    field = field_tag(page, "requested_delivery_date")
    assert 'aria-invalid="true"' in field and 'value="2020-01-02"' in field
    said = page[page.index(field) :].split("</div>", 2)[0]
    assert 'id="refused-message"' in said and "2020" in said


# --- a to-do's form -----------------------------------------------------------------------------


@needs_catalog
@pytest.mark.parametrize("headers", [EN, ZH], ids=["en", "zh"])
@pytest.mark.parametrize(("typed", "english", "chinese"), FREIGHTS, ids=["letters", "negative"])
async def test_the_estimate_form_says_a_bad_amount_next_to_it_and_keeps_what_was_typed(
    api, browser_session, worker, headers, typed, english, chinese
):
    _, number = await submitted_order(api)
    todo = await todo_of(await api("pricing"), number, "estimate_cost")
    pricing = await browser_session("pricing")
    pricing.headers.update(headers)
    form_page = await pricing.get(f"/todos/{todo['id']}")
    unit_costs = dict(re.findall(r'name="(unit_cost-\d+)" value="([^"]*)"', form_page.text))
    response = await pricing.post(
        f"/todos/{todo['id']}/complete",
        data={
            "csrf_token": csrf_of(form_page.text),
            "outcome": "estimated",
            **{name: "123.45" for name in unit_costs},
            "freight": typed,
            "installation": "800",
            "other": "0",
        },
    )
    page = text_of(response)
    assert response.status_code == 422
    field = field_tag(page, "freight")
    assert 'aria-invalid="true"' in field and "autofocus" in field
    assert f'value="{typed}"' in field
    said = page[page.index(field) :]
    assert said.startswith(field + '<div class="error-box field-error" role="alert"')
    assert f'id="refused-message">{english if headers is EN else chinese}</div>' in said
    assert 'value="800"' in field_tag(page, "installation")
    assert all('value="123.45"' in field_tag(page, name) for name in unit_costs)
    assert 'id="form-error"' not in page and page.count('id="refused-message"') == 1
    still = await todo_of(await api("pricing"), number, "estimate_cost")
    assert still["id"] == todo["id"]  # the to-do is still open, nothing estimated
