"""Returns on the order page (English and Chinese): each return with its lines and status, the
net total beside the total once something came back, the money going back; the "Request a
return" form after dispatch for those who may ask, its refusals next to the line or field
they are about (translated), nothing changed after a refusal; and the warehouse's
receive_return to-do page."""

from __future__ import annotations

import html
import re

import httpx

from tests.web.test_i18n import (  # the fixture needs_catalog names
    choose_language,
    needs_catalog,
    zh_catalog_compiled,  # noqa: F401
)
from tests.web.test_returns_api import dispatched_order, write_return


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
