"""Requesting a change on the order page: the form starts from the order as it is, for the owner
(or a manager above them) alone; its preview shows each difference before it is sent; a refusal
is said beside the form and changes nothing; the requester withdraws an open request. In English
and Chinese."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from models.tables import OrderChangeRequest
from tests.web.conftest import csrf_of
from tests.web.test_change_requests_api import price
from tests.web.test_collection_api import collecting_order
from tests.web.test_i18n import chinese_session, needs_catalog, text_of, zh_catalog_compiled
from tests.web.test_orders_api import todo_of

__all__ = ["zh_catalog_compiled"]  # the fixture, used by name


async def requests_of(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(OrderChangeRequest)) or 0


async def change_form(api, number: str, *, pumps: str = "3", reason: str = "") -> dict[str, str]:
    """The change form as the order page fills it in, with the pumps' quantity typed over."""
    order = (await (await api("sales")).get(f"/api/v1/orders/{number}")).json()
    form = {
        "adjustment": "none",
        "order_discount_percent": "",
        "target_total": "",
        "requested_delivery_date": order["requested_delivery_date"] or "",
        "reason": reason,
    }
    for i, line in enumerate(order["lines"]):
        pump = line["product_code"] == "PUMP-10"
        form |= {
            f"line-{i}-id": str(line["id"]),
            f"line-{i}-quantity": pumps if pump else line["quantity"],
            f"line-{i}-unit_price": line["unit_price"],
            f"line-{i}-discount_percent": line["discount_percent"],
        }
    return form


async def posted(page, url: str, form: dict[str, str]):
    csrf = csrf_of((await page.get(url.split("/change-requests")[0])).text)
    return await page.post(url, data={"csrf_token": csrf, **form})


async def test_only_the_owner_gets_the_change_form_starting_from_the_order_as_it_is(
    api, browser_session, worker, session_factory
):
    number = await collecting_order(api)
    owner = await browser_session("sales")
    page = text_of(await owner.get(f"/orders/{number}"))
    assert 'id="request-change"' in page and "Request a change" in page
    assert 'name="line-0-quantity" value="2"' in page  # the pumps as ordered
    assert 'name="line-1-discount_percent" value="5"' in page  # the valves' discount

    for role in ("warehouse", "follower"):
        other = await browser_session(role)
        shown = text_of(await other.get(f"/orders/{number}"))
        assert 'id="request-change"' not in shown, role
        form = await change_form(api, number, reason="More pumps")
        refused = await posted(other, f"/orders/{number}/change-requests/preview", form)
        assert refused.status_code == 403, role
        assert "Only the order's owner or a manager above them" in text_of(refused)
    assert await requests_of(session_factory) == 0


async def test_the_preview_shows_the_difference_and_sending_it_asks_the_manager(
    api, browser_session, worker, session_factory
):
    number = await collecting_order(api)
    owner = await browser_session("sales")
    form = await change_form(api, number, reason="The customer wants one more")

    preview = await posted(owner, f"/orders/{number}/change-requests/preview", form)

    assert preview.status_code == 200, preview.text
    page = text_of(preview)
    assert 'data-field="lines[PUMP-10].quantity"' in page and "PUMP-10 · Quantity" in page
    assert '<td data-label="Before">2</td><td data-label="After">3</td>' in page
    assert 'data-field="total"' in page  # money in the reader's locale (the API keeps "28400")
    before = '<td data-label="Before">CN¥28,400.00</td>'
    assert f'{before}<td data-label="After">CN¥36,900.00</td>' in page
    assert "Send the change request" in page and "Back" in page
    assert await requests_of(session_factory) == 0  # a preview writes nothing

    back = await posted(owner, f"/orders/{number}/change-requests", {**form, "action": "back"})
    assert back.status_code == 200
    assert "<details" in back.text and 'id="request-change" open' in back.text
    assert 'name="line-0-quantity" value="3"' in back.text  # as typed

    sent = await posted(owner, f"/orders/{number}/change-requests", {**form, "action": "send"})
    assert sent.status_code == 303, sent.text
    after = text_of(await owner.get(f"/orders/{number}"))
    assert "The change request is sent; it waits for approval." in after
    assert "Waiting for a decision" in after and "The customer wants one more" in after
    assert 'class="inline withdraw-change"' in after
    assert 'id="request-change"' not in after  # one open request at a time
    await price(api, number)  # a third pump: pricing are asked again first
    todo = await todo_of(await api("sales_manager"), number, "approve_change")
    assert todo["kind"] == "approve_change"
    manager_page = text_of(await (await browser_session("sales_manager")).get(f"/orders/{number}"))
    assert "withdraw-change" not in manager_page  # only whoever asked withdraws


async def test_a_change_without_a_reason_is_refused_beside_the_form_and_changes_nothing(
    api, browser_session, worker, session_factory
):
    number = await collecting_order(api)
    owner = await browser_session("sales")
    form = await change_form(api, number, reason="")

    for url in ("/change-requests/preview", "/change-requests"):
        refused = await posted(owner, f"/orders/{number}{url}", {**form, "action": "send"})
        assert refused.status_code == 422, url
        page = text_of(refused)
        assert 'id="change-error"' in page and "Say why the order changes." in page
        assert 'id="form-error"' not in page  # said beside the form, not at the top
        assert 'name="line-0-quantity" value="3"' in page  # what was typed stays

    unchanged = await posted(
        owner,
        f"/orders/{number}/change-requests/preview",
        {**form, "line-0-quantity": "2", "reason": "Nothing"},
    )
    assert unchanged.status_code == 422
    assert "The change request changes nothing." in text_of(unchanged)
    assert await requests_of(session_factory) == 0
    order = (await (await api("sales")).get(f"/api/v1/orders/{number}")).json()
    assert order["total"] == "28400.00" and order["change_requests"] == []


async def test_the_requester_withdraws_the_open_request_from_the_order_page(
    api, browser_session, worker
):
    number = await collecting_order(api)
    owner = await browser_session("sales")
    form = await change_form(api, number, reason="More pumps")
    sent = await posted(owner, f"/orders/{number}/change-requests", {**form, "action": "send"})
    assert sent.status_code == 303, sent.text
    [request] = (await (await api("sales")).get(f"/api/v1/orders/{number}")).json()[
        "change_requests"
    ]

    withdrawn = await posted(
        owner, f"/orders/{number}/change-requests/{request['id']}/withdraw", {}
    )

    assert withdrawn.status_code == 303, withdrawn.text
    for _ in range(100):
        page = text_of(await owner.get(f"/orders/{number}"))
        if "Withdrawn" in page:
            break
        await asyncio.sleep(0.05)
    assert "The change request is withdrawn; the order stays as it was." in page
    assert 'id="request-change"' in page  # the order takes a new request again


@needs_catalog
async def test_the_change_form_its_preview_and_its_refusal_in_chinese(
    api, browser_session, worker, session_factory
):
    number = await collecting_order(api)
    owner = await chinese_session(browser_session, "sales")
    page = text_of(await owner.get(f"/orders/{number}"))
    assert "申请变更" in page and "为什么要变更订单？" in page

    form = await change_form(api, number, reason="客户多要一台")
    preview = text_of(await posted(owner, f"/orders/{number}/change-requests/preview", form))
    assert f"订单 {number} 的变更" in preview and "发送变更申请" in preview
    assert "PUMP-10 · 数量" in preview and "变更前" in preview

    refused = await posted(
        owner, f"/orders/{number}/change-requests/preview", {**form, "reason": ""}
    )
    assert refused.status_code == 422
    assert "请说明订单变更的原因。" in text_of(refused)
    assert await requests_of(session_factory) == 0
