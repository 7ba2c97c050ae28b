"""Returns on the order page (English and Chinese): each return with its lines and status, the
net total beside the total once something came back, the money going back; the "Request a
return" form after dispatch for those who may ask, its refusals next to the line or field
they are about (translated), nothing changed after a refusal; and the warehouse's
receive_return to-do page."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.web.conftest import csrf_of
from tests.web.test_collection_api import complete
from tests.web.test_i18n import (  # the fixture needs_catalog names
    choose_language,
    needs_catalog,
    zh_catalog_compiled,  # noqa: F401
)
from tests.web.test_orders_api import todo_of
from tests.web.test_returns_api import (
    dispatched_order,
    dispatched_through_the_workflow,
    order_of,
    return_rows,
    write_return,
)


def text_of(response: httpx.Response) -> str:
    words = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(words))


def section(response: httpx.Response, element_id: str) -> str:
    """The text from the element with this id to the next h2 (a section of the page)."""
    found = re.search(rf'id="{element_id}".*?(?=<h2|\Z)', response.text, re.S)
    assert found, element_id
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", found[0])))


# --- the returns as the order page shows them ---------------------------------------------------


async def test_the_order_page_shows_each_return_and_the_net_total_in_english(
    browser_session, api, session_factory
):
    order = await dispatched_order(api, session_factory)
    await write_return(session_factory, order)

    page = await (await browser_session("sales")).get(f"/orders/{order.number}")

    assert page.status_code == 200
    text = text_of(page)
    assert "Net total CN¥16,480.00 (CN¥11,920.00 came back)" in text
    returns = section(page, "returns")
    assert "Return 1 Closed: the rest will not come back" in returns
    assert "Two arrived damaged" in returns and "Asked by" in returns
    assert "PUMP-10" in returns and "CN¥8,500.00" in returns and "CN¥3,420.00" in returns
    assert "Value come back: CN¥11,920.00" in returns
    assert "The rest will not come back: “The fourth valve was lost in transit”" in returns
    assert "Money going back" in returns and "CN¥1,000.00" in returns
    assert 'class="return-lines stacking"' in page.text  # cards on a phone


@needs_catalog
async def test_the_order_page_shows_the_returns_in_chinese(browser_session, api, session_factory):
    order = await dispatched_order(api, session_factory)
    await write_return(session_factory, order)
    client = await browser_session("sales")
    await choose_language(client, "zh_CN")

    page = await client.get(f"/orders/{order.number}")

    text = text_of(page)
    assert "净额 ¥16,480.00 （已退回 ¥11,920.00）" in text
    returns = section(page, "returns")
    assert "退货 1 已关闭：剩余部分不再退回" in returns
    assert "退回金额：¥11,920.00" in returns and "已入库" in returns and "已报废" in returns


async def test_an_order_nothing_came_back_of_shows_no_net_total(
    browser_session, api, session_factory
):
    order = await dispatched_order(api, session_factory, stage="fulfilment")

    page = await (await browser_session("warehouse")).get(f"/orders/{order.number}")

    assert page.status_code == 200
    assert "Net total" not in text_of(page) and 'id="returns"' not in page.text


async def test_a_rep_gets_no_page_for_another_reps_order_with_returns(
    browser_session, api, session_factory
):
    order = await dispatched_order(api, session_factory)
    await write_return(session_factory, order)

    page = await (await browser_session("sales2")).get(f"/orders/{order.number}")

    assert page.status_code == 404 and "Two arrived damaged" not in page.text


# --- the "Request a return" form --------------------------------------------------------------


def line_row(response: httpx.Response, line_id: int) -> str:
    """The text of the line's row of the request form (its card on a phone)."""
    form = response.text[response.text.index('class="return-request') :]
    found = re.search(rf'<tr data-line="{line_id}">.*?</tr>', form, re.S)
    assert found, line_id
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", found[0])))


async def post_return(client, number: str, quantities: dict[int, str], reason: str = "Damaged"):
    page = await client.get(f"/orders/{number}")
    form = {"csrf_token": csrf_of(page.text), "reason": reason, "action_key": "k1"}
    for n, (line_id, quantity) in enumerate(quantities.items()):
        form[f"line-{n}-id"] = str(line_id)
        form[f"line-{n}-quantity"] = quantity
    return await client.post(f"/orders/{number}/returns", data=form)


async def test_the_owner_gets_the_form_with_what_can_still_come_back_of_each_line(
    browser_session, api, session_factory
):
    order = await dispatched_order(api, session_factory)
    await write_return(session_factory, order)  # 1 pump and 3 valves back, the 4th closed

    page = await (await browser_session("sales")).get(f"/orders/{order.number}")

    assert "Request a return" in page.text
    assert line_row(page, order.pump).startswith(" PUMP-10 · ")
    assert " 2 pcs 1 " in line_row(page, order.pump)  # dispatched 2, 1 can still come back
    assert " 10 pcs 7 " in line_row(page, order.valve)
    assert 'class="return-request stacking"' in page.text


@pytest.mark.parametrize("username", ["warehouse", "finance", "pricing"])
async def test_roles_that_may_not_ask_get_no_form(browser_session, api, session_factory, username):
    order = await dispatched_order(api, session_factory)

    page = await (await browser_session(username)).get(f"/orders/{order.number}")

    assert page.status_code == 200 and "Request a return" not in page.text


async def test_an_order_not_dispatched_has_no_form(browser_session, api, session_factory):
    order = await dispatched_order(api, session_factory, stage="confirmed")

    page = await (await browser_session("sales")).get(f"/orders/{order.number}")

    assert "Request a return" not in page.text


async def test_more_than_can_come_back_is_refused_next_to_the_line_and_nothing_is_written(
    browser_session, api, session_factory
):
    order = await dispatched_order(api, session_factory)
    client = await browser_session("sales")

    page = await post_return(client, order.number, {order.pump: "3", order.valve: ""})

    assert page.status_code == 422
    assert f"Line {order.pump}: 3 is more than the 2 that can still come back" in line_row(
        page, order.pump
    )
    assert 'id="form-error"' not in page.text  # said once, next to the line
    assert 'name="line-0-quantity" value="3"' in page.text  # as typed
    assert "Damaged</textarea>" in page.text
    assert await return_rows(session_factory, order) == 0


async def test_a_missing_reason_and_a_quantity_that_is_no_number_are_said_where_they_are(
    browser_session, api, session_factory
):
    order = await dispatched_order(api, session_factory)
    client = await browser_session("sales")

    no_reason = await post_return(client, order.number, {order.pump: "1"}, reason=" ")
    not_a_number = await post_return(client, order.number, {order.valve: "two"})
    nothing = await post_return(client, order.number, {order.pump: "", order.valve: ""})

    assert no_reason.status_code == 422
    assert re.search(
        r'id="return-error">Say why the goods come back\.</div>\s*<label for="return-reason"',
        no_reason.text,
    )
    assert not_a_number.status_code == 422
    assert "VALVE-3: “two” is not a quantity." in line_row(not_a_number, order.valve)
    assert nothing.status_code == 422
    assert re.search(
        r'id="return-error">Say which lines come back and how many of each\.</div>\s*<table',
        nothing.text,
    )
    assert await return_rows(session_factory, order) == 0


@needs_catalog
async def test_a_refusal_on_the_form_is_said_in_chinese(browser_session, api, session_factory):
    order = await dispatched_order(api, session_factory)
    client = await browser_session("sales")
    await choose_language(client, "zh_CN")

    page = await post_return(client, order.number, {order.pump: "3"})

    assert page.status_code == 422
    assert "3" in line_row(page, order.pump) and "申请退货" in page.text
    assert "Line " not in line_row(page, order.pump)  # translated
    assert await return_rows(session_factory, order) == 0


async def test_the_warehouse_posting_the_form_is_refused_and_nothing_is_written(
    browser_session, api, session_factory
):
    order = await dispatched_order(api, session_factory)
    warehouse = await browser_session("warehouse")

    page = await post_return(warehouse, order.number, {order.pump: "1"})

    assert page.status_code == 403
    assert (
        "Only the order's owner, a manager above them, ops or service can ask for a return."
        in text_of(page)
    )
    assert await return_rows(session_factory, order) == 0


async def test_a_rep_posting_for_another_reps_order_gets_404(browser_session, api, session_factory):
    order = await dispatched_order(api, session_factory)
    rep = await browser_session("sales2")
    csrf = csrf_of((await rep.get("/")).text)

    page = await rep.post(
        f"/orders/{order.number}/returns",
        data={"csrf_token": csrf, "line-0-id": str(order.pump), "line-0-quantity": "1"},
    )

    assert page.status_code == 404
    assert await return_rows(session_factory, order) == 0


# --- through the workflow: asked on the order page, received on the warehouse's to-do page ----


async def receive_form(client, todo_id: int, fields: dict[str, str]) -> httpx.Response:
    page = await client.get(f"/todos/{todo_id}")
    return await client.post(
        f"/todos/{todo_id}/complete", data={"csrf_token": csrf_of(page.text), **fields}
    )


def receipt_row(response: httpx.Response, line_id: int) -> str:
    form = response.text[response.text.index('class="receive-return') :]
    found = re.search(rf'<tr data-line="{line_id}">.*?</tr>', form, re.S)
    assert found, line_id
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", found[0])))


@pytest.mark.own_test_server
async def test_the_owner_asks_on_the_order_page_and_the_warehouse_receives_on_the_todo_page(
    browser_session, api, worker, session_factory
):
    number, lines = await dispatched_through_the_workflow(api)
    pump, valve = lines["PUMP-10"], lines["VALVE-3"]
    owner = await browser_session("sales")

    sent = await post_return(owner, number, {pump: "1", valve: "4"}, reason="Arrived damaged")
    assert sent.status_code == 303, sent.text
    page = await owner.get(sent.headers["location"])
    assert "The return is asked for; it waits for approval." in text_of(page)
    assert "Return 1 Waiting for approval" in section(page, "returns")
    manager = await api("sales_manager")
    await complete(
        manager, await todo_of(manager, number, "approve_return"), {"outcome": "approve"}
    )

    warehouse = await browser_session("warehouse")
    todo = await todo_of(await api("warehouse"), number, "receive_return")
    shown = await warehouse.get(f"/todos/{todo['id']}")
    assert "Arrived damaged" in text_of(shown)
    assert " 1 pcs " in receipt_row(shown, pump) and " 4 pcs " in receipt_row(shown, valve)
    assert 'class="receive-return stacking"' in shown.text

    too_many = await receive_form(
        warehouse, todo["id"], {"outcome": "received", f"received-{pump}-restock": "2"}
    )
    assert too_many.status_code == 422
    assert f"Line {pump}: 2 received is more than the 1 still expected back." in receipt_row(
        too_many, pump
    )
    assert 'id="form-error"' not in too_many.text  # said next to the line only
    assert f'name="received-{pump}-restock" value="2"' in too_many.text
    no_number = await receive_form(
        warehouse, todo["id"], {"outcome": "received", f"received-{valve}-scrap": "one"}
    )
    assert no_number.status_code == 422
    assert f"Line {valve}: “one” is not a quantity." in receipt_row(no_number, valve)
    no_reason = await receive_form(
        warehouse, todo["id"], {"outcome": "received", "close_rest": "1"}
    )
    assert no_reason.status_code == 422
    assert "Say why the rest of the return will not come back." in text_of(no_reason)
    assert (await order_of(await api("sales"), number))["returned"] == "0.00"  # nothing changed

    done = await receive_form(
        warehouse,
        todo["id"],
        {
            "outcome": "received",
            f"received-{pump}-restock": "1",
            f"received-{valve}-restock": "2",
            f"received-{valve}-scrap": "1",
        },
    )
    assert done.status_code == 303, done.text
    order = await order_of(await api("sales"), number)
    assert (order["returned"], order["net_total"]) == ("11920.00", "16480.00")
    assert order["returns"][0]["status"] == "receiving"  # the 4th valve still expected
    again = await todo_of(await api("warehouse"), number, "receive_return")
    assert again["id"] != todo["id"]
    page = await owner.get(f"/orders/{number}")
    assert "Net total CN¥16,480.00 (CN¥11,920.00 came back)" in text_of(page)
    assert "Return 1 Partly received" in section(page, "returns")
