"""Finance's inbox in a real browser (Debian's Chromium), issue 18 defect 7 and items 10 and 14:
two payments registered on one order are two rows that say their own amount, method and
reference, in English and in Chinese; a click on a column header sorts the inbox and says so.
Screenshots of finance's and ops' inboxes, the orders list and the order page at 1366 and
390 px, in both languages, when $O2C_SCREENSHOT_DIR is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, SignIn
from tests.browser.test_change_request_pages import in_chinese
from tests.web.conftest import api  # noqa: F401 - the API client, to reach collection quickly
from tests.web.test_collection_api import collecting_order, payment, register
from tests.web.test_orders_api import todo_of

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)

WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


async def at_both_widths(page: Page, name: str) -> None:
    """Screenshots at 1366 and 390 px; at 390 px nothing may make the page wider."""
    folder = os.environ.get("O2C_SCREENSHOT_DIR")
    for size, suffix in ((WIDE, ""), (PHONE, "-390")):
        await page.set_viewport_size(size)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=f"{folder}/{name}{suffix}.png", full_page=True)
        if size is PHONE:
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{name} is {width} px wide on a phone"
    await page.set_viewport_size(WIDE)


def payment_rows(page: Page, number: str):
    return page.locator('tr[data-kind="confirm_payment"]').filter(
        has=page.get_by_role("link", name=number, exact=True)
    )


async def test_finance_tells_two_payments_of_one_order_apart_and_sorts_the_inbox(
    sign_in: SignIn,
    api,  # noqa: F811
):
    number = await collecting_order(api)  # 28,400.00, confirmed, its collection running
    sales = await api("sales")
    await register(sales, number, payment("5000.00", "TT-001"))
    await register(sales, number, payment("3000.00", "CHQ-77", method="cheque"))
    await todo_of(await api("finance"), number, "confirm_payment")

    finance = await sign_in("finance")
    await finance.set_viewport_size(WIDE)
    await finance.goto("/")
    rows = payment_rows(finance, number)
    await expect(rows).to_have_count(2)
    about = rows.locator(".about")
    await expect(about.nth(0)).to_contain_text("Payment 1: CN¥5,000.00")
    await expect(about.nth(0)).to_contain_text("Bank transfer")
    await expect(about.nth(0)).to_contain_text("ref. TT-001")
    await expect(about.nth(1)).to_contain_text("Payment 2: CN¥3,000.00")
    await expect(about.nth(1)).to_contain_text("Cheque")
    await expect(about.nth(1)).to_contain_text("ref. CHQ-77")
    await at_both_widths(finance, "inbox-finance-en")

    # the newest first, by the Since header; the header says how the inbox is sorted
    since = finance.locator('th[data-sort="since"]')
    await expect(since).to_have_attribute("aria-sort", "ascending")
    await since.get_by_role("link").click()
    await expect(since).to_have_attribute("aria-sort", "descending")
    await expect(finance).to_have_url(f"{finance.url.split('?')[0]}?sort=since&dir=desc")
    await expect(about.nth(0)).to_contain_text("Payment 2: CN¥3,000.00")
    await expect(about.nth(1)).to_contain_text("Payment 1: CN¥5,000.00")
    # narrowed to payments: the sort stays
    await finance.get_by_label("What is asked").select_option("confirm_payment")
    await finance.get_by_role("button", name="Filter").click()
    await expect(finance.locator('th[data-sort="since"]')).to_have_attribute(
        "aria-sort", "descending"
    )
    await expect(finance.locator("table.inbox tbody tr")).to_have_count(2)

    await in_chinese(finance)
    await finance.goto("/")
    about = payment_rows(finance, number).locator(".about")
    await expect(about.nth(0)).to_contain_text("付款 1：¥5,000.00")
    await expect(about.nth(0)).to_contain_text("银行转账")
    await expect(about.nth(0)).to_contain_text("参考号 TT-001")
    await expect(about.nth(1)).to_contain_text("付款 2：¥3,000.00")
    await expect(about.nth(1)).to_contain_text("支票")
    await expect(about.nth(1)).to_contain_text("参考号 CHQ-77")
    await at_both_widths(finance, "inbox-finance-zh")

    ops = await sign_in("ops")
    await ops.goto("/")
    await expect(ops.locator('tr[data-kind="plan_shipment"]').first).to_be_visible()
    await at_both_widths(ops, "inbox-ops-en")
    await ops.goto("/orders")
    await at_both_widths(ops, "orders-en")
    await ops.goto(f"/orders/{number}")
    await at_both_widths(ops, "order-en")
    await in_chinese(ops)
    await ops.goto("/")
    await at_both_widths(ops, "inbox-ops-zh")
    await ops.goto("/orders?sort=total&dir=desc")
    await expect(ops.locator('th[data-sort="total"]')).to_have_attribute("aria-sort", "descending")
    await at_both_widths(ops, "orders-zh")
    await ops.goto(f"/orders/{number}")
    await at_both_widths(ops, "order-zh")
