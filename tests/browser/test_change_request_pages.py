"""A change request in a real browser (Debian's Chromium): the rep asks for one more pump from the
order page, checks the preview and sends it; the manager approves it from the inbox; the order
page shows revision 2 with its diff. Screenshots at desktop and phone width, in English and
Chinese, when $O2C_SCREENSHOT_DIR is set."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, SignIn
from tests.browser.test_order_pages import open_todo, reload_until, snap
from tests.web.conftest import api  # noqa: F401 - the API client, to confirm an order quickly
from tests.web.test_change_requests_api import price
from tests.web.test_collection_api import collecting_order

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


async def in_chinese(page: Page) -> None:
    await page.goto("/profile")
    await page.locator("select#locale").select_option("zh_CN")
    await page.locator("form[action='/profile'] button[type=submit]").click()
    await expect(page.get_by_role("status")).to_have_text("语言设置已保存。")


async def test_a_rep_asks_for_one_more_pump_the_manager_approves_and_the_order_shows_revision_2(
    sign_in: SignIn,
    api,  # noqa: F811
):
    number = await collecting_order(api)  # 2 pumps, 10 valves at 5 % off: 28,400.00, confirmed
    rep = await sign_in("sales")
    await rep.goto(f"/orders/{number}")
    await rep.get_by_text("Request a change", exact=True).click()
    quantity = rep.get_by_label("Quantity PUMP-10", exact=True)
    await expect(quantity).to_have_value("2")  # the form starts from the order as it is
    await quantity.fill("3")
    await rep.get_by_label("Why does the order change?").fill("The customer wants one more")
    await snap(rep, "change-form")
    await rep.set_viewport_size(PHONE)
    await snap(rep, "change-form-phone")
    await rep.set_viewport_size(DESKTOP)

    await rep.get_by_role("button", name="Preview the change").click()
    await expect(rep.get_by_role("heading", level=1)).to_have_text(f"Change to order {number}")
    pumps = rep.locator('tr[data-field="lines[PUMP-10].quantity"] td')
    await expect(pumps).to_have_text(["PUMP-10 · Quantity", "2", "3"])
    total = rep.locator('tr[data-field="total"] td')
    await expect(total).to_have_text(["Total", "CN¥28,400.00", "CN¥36,900.00"])
    await snap(rep, "change-preview")
    await rep.set_viewport_size(PHONE)
    await snap(rep, "change-preview-phone")
    await rep.set_viewport_size(DESKTOP)
    await rep.get_by_role("button", name="Send the change request").click()
    await expect(rep.get_by_role("status")).to_have_text(
        "The change request is sent; it waits for approval."
    )
    await expect(rep.locator('li[data-change-request="1"]')).to_contain_text(
        "Waiting for a decision"
    )
    await expect(rep.get_by_role("button", name="Withdraw")).to_be_visible()
    await snap(rep, "change-open")
    await price(api, number)  # one more pump: pricing estimate it first (their own test)

    manager = await sign_in("sales_manager")
    await open_todo(manager, number, "Approve a change to the order")
    await expect(manager.locator('tr[data-field="lines[PUMP-10].quantity"] td')).to_have_text(
        ["PUMP-10 · Quantity", "2", "3"]
    )
    await snap(manager, "change-todo")
    await manager.get_by_role("button", name="Approve", exact=True).click()
    await expect(manager.get_by_role("status")).to_have_text("Done. The to-do is closed.")

    await rep.goto(f"/orders/{number}")
    revision = rep.locator('.revision[data-revision="2"]')
    await reload_until(rep, revision)
    await expect(rep.locator("#revisions .badge")).to_have_text("Revision 2")
    await expect(revision.locator('tr[data-field="lines[PUMP-10].quantity"] td')).to_have_text(
        ["PUMP-10 · Quantity", "2", "3"]
    )
    await expect(revision.locator('tr[data-field="total"] td')).to_have_text(
        ["Total", "CN¥28,400.00", "CN¥36,900.00"]
    )
    await expect(rep.locator('li[data-change-request="1"]')).to_contain_text("Approved")
    await snap(rep, "change-revision-2")
    await rep.set_viewport_size(PHONE)
    await snap(rep, "change-revision-2-phone")

    await rep.set_viewport_size(DESKTOP)
    await in_chinese(rep)
    await rep.goto(f"/orders/{number}")
    await expect(rep.locator("#revisions")).to_contain_text("修订记录")
    await rep.get_by_text("申请变更", exact=True).click()
    await rep.get_by_label("数量 VALVE-3", exact=True).fill("12")
    await rep.get_by_label("为什么要变更订单？").fill("客户多要两个阀门")
    await snap(rep, "change-form-zh")
    await rep.get_by_role("button", name="预览变更").click()
    await expect(rep.get_by_role("heading", level=1)).to_have_text(f"订单 {number} 的变更")
    await expect(rep.locator('tr[data-field="lines[VALVE-3].quantity"] td')).to_have_text(
        ["VALVE-3 · 数量", "10", "12"]
    )
    await snap(rep, "change-preview-zh")
    await rep.set_viewport_size(PHONE)
    await snap(rep, "change-preview-zh-phone")
    await rep.set_viewport_size(DESKTOP)
    await rep.get_by_role("button", name="返回修改").click()
    await expect(rep.get_by_label("数量 VALVE-3", exact=True)).to_have_value("12")
    await snap(rep, "change-back-zh")
