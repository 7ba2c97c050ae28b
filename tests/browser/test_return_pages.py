"""A return in a real browser (Debian's Chromium): the rep asks for one pump and four valves back
from the order page, the manager approves, and the warehouse receive them on their to-do page
(one pump and two valves restocked, one valve scrapped; asking to restock more than expected is
refused next to its line first); the order page then shows the return and the net total.
Screenshots at desktop and phone width, in English and Chinese, when $O2C_SCREENSHOT_DIR is
set."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, SignIn
from tests.browser.test_change_request_pages import DESKTOP, PHONE, in_chinese
from tests.browser.test_order_pages import open_todo, reload_until, snap, summary
from tests.web.conftest import api  # noqa: F401 - the API client, to dispatch an order quickly
from tests.web.test_collection_api import complete
from tests.web.test_orders_api import todo_of
from tests.web.test_returns_api import dispatched_through_the_workflow

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING),
    # the received return tells the order's collection its smaller installments
    pytest.mark.own_test_server,
]


async def both_widths(page: Page, name: str) -> None:
    await snap(page, name)
    await page.set_viewport_size(PHONE)
    await snap(page, f"{name}-phone")
    await page.set_viewport_size(DESKTOP)


async def test_the_warehouse_receive_a_return_part_restocked_part_scrapped(
    sign_in: SignIn,
    api,  # noqa: F811
):
    number, lines = await dispatched_through_the_workflow(api)  # 2 pumps, 10 valves: 28,400.00
    pump, valve = lines["PUMP-10"], lines["VALVE-3"]
    rep = await sign_in("sales")
    await rep.goto(f"/orders/{number}")
    await rep.get_by_text("Request a return", exact=True).click()
    await rep.get_by_label("Quantity coming back PUMP-10", exact=True).fill("1")
    await rep.get_by_label("Quantity coming back VALVE-3", exact=True).fill("4")
    await rep.get_by_label("Why do the goods come back?").fill("Arrived damaged")
    await both_widths(rep, "return-form")
    await rep.get_by_role("button", name="Send the return request").click()
    await expect(rep.get_by_role("status")).to_have_text(
        "The return is asked for; it waits for approval."
    )
    await expect(rep.locator('[data-return="1"] .badge')).to_have_text("Waiting for approval")
    manager = await api("sales_manager")
    await complete(
        manager, await todo_of(manager, number, "approve_return"), {"outcome": "approve"}
    )

    warehouse = await sign_in("warehouse")
    await open_todo(warehouse, number, "Receive returned goods")
    await expect(warehouse.locator(".return-reason")).to_have_text("Arrived damaged")
    await warehouse.get_by_label("Restocked PUMP-10", exact=True).fill("2")
    await warehouse.get_by_role("button", name="Record what came back").click()
    refused = warehouse.locator(f'tr[data-line="{pump}"] .field-error')
    await expect(refused).to_have_text(
        f"Line {pump}: 2 received is more than the 1 still expected back."
    )
    await both_widths(warehouse, "return-receive-refused")
    await warehouse.get_by_label("Restocked PUMP-10", exact=True).fill("1")
    await warehouse.get_by_label("Restocked VALVE-3", exact=True).fill("2")
    await warehouse.get_by_label("Scrapped VALVE-3", exact=True).fill("1")
    await both_widths(warehouse, "return-receive")
    await warehouse.get_by_role("button", name="Record what came back").click()
    await expect(warehouse.get_by_role("status")).to_have_text("Done. The to-do is closed.")

    await rep.goto(f"/orders/{number}")
    await reload_until(rep, rep.locator('[data-return="1"][data-status="receiving"]'))
    await expect(summary(rep, "Net total")).to_contain_text("CN¥16,480.00")
    valves = rep.locator(f'[data-return="1"] tr[data-line="{valve}"] td')
    await expect(valves).to_have_text(
        ["VALVE-3 · Control valve CV-3", "4 pcs", "3", "2", "1", "CN¥1,140.00", "CN¥3,420.00"]
    )
    await rep.locator("#returns").scroll_into_view_if_needed()
    await both_widths(rep, "return-on-order")

    # The fourth valve is still expected: the warehouse's next to-do, in Chinese.
    await in_chinese(warehouse)
    await open_todo(warehouse, number, "接收退货")
    await expect(warehouse.locator(f'tr[data-line="{valve}"]')).to_contain_text("1")
    await warehouse.get_by_label("已报废 VALVE-3", exact=True).fill("two")
    await warehouse.get_by_role("button", name="记录退回的货物").click()
    await expect(warehouse.locator(f'tr[data-line="{valve}"] .field-error')).to_have_text(
        f"第 {valve} 行：“two”不是有效的数量。"
    )
    await both_widths(warehouse, "return-receive-zh")
    await in_chinese(rep)
    await rep.goto(f"/orders/{number}")
    await expect(rep.locator("#returns")).to_have_text("退货")
    await both_widths(rep, "return-on-order-zh")
