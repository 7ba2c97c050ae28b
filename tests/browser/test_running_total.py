"""The new-order form's running figures in a real browser (Debian's Chromium), in English and
Chinese: a rep types two lines with a line discount and a whole-order discount, and each
line's amount, the discount line under the lines, the order's total, how far it is below the
list price and the customer's exposure against its credit limit follow each keystroke; a third
pump takes the customer over its limit and the warning shows. The draft saved has the total the
form showed. Screenshots at 1366 and 390 px wide when $O2C_SCREENSHOT_DIR is set."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from models.tables import Customer, Order
from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, SignIn
from tests.browser.test_change_request_pages import in_chinese
from tests.browser.test_order_pages import snap
from tests.conftest import DEMO_PASSWORD
from tests.web.conftest import api  # noqa: F401 - the API client, to enter the confirmed order
from tests.web.test_orders_api import DELIVERY, PUMP, VALVE, order_body

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# What each language shows for the same typing (the server's money format for the locale).
WORDS = {
    "en": {
        "money": "CN¥{}",
        "minus": "-CN¥{}",
        "below": "below the list price",
        "over": "Over the customer's credit limit of CN¥60,000.00 by CN¥3,455.00.",
        "saved": "is saved.",
    },
    "zh_CN": {
        "money": "¥{}",
        "minus": "-¥{}",
        "below": "低于目录价",
        "over": "超出客户信用额度 ¥60,000.00 共 ¥3,455.00。",
        "saved": "已保存",
    },
}


@pytest.fixture
async def customer_near_its_limit(api, session_factory):  # noqa: F811
    """Customer 1 with a credit limit of 60,000.00 and a confirmed order of 28,400.00 open."""
    created = await (await api("sales")).post("/api/v1/orders", json=order_body())
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == created.json()["number"]))
        order.stage = "fulfilment"
        customer = await session.get(Customer, 1)
        customer.credit_limit = Decimal("60000.00")
        await session.commit()


async def both_widths(page: Page, name: str) -> None:
    await page.set_viewport_size(DESKTOP)
    await snap(page, name)
    await page.set_viewport_size(PHONE)
    await snap(page, f"{name}-phone")
    await page.set_viewport_size(DESKTOP)


def amount_of(page: Page, row: int):
    return page.locator("td.line-amount").nth(row)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
async def test_the_running_total_follows_the_lines_as_they_are_typed(
    sign_in: SignIn, customer_near_its_limit, language: str
):
    words = WORDS[language]
    money, minus = words["money"].format, words["minus"].format
    rep = await sign_in("sales")
    if language == "zh_CN":
        await in_chinese(rep)
    await rep.goto("/orders/new")
    figures, footer = rep.locator("#order-figures"), rep.locator("tfoot.running-total")
    await expect(figures).to_be_visible()  # the script shows what it computes
    await rep.locator("#customer_id").select_option("1")
    await rep.locator("#requested_delivery_date").fill(DELIVERY)

    await rep.locator('[name="lines-0-product_id"]').select_option(str(PUMP))
    await rep.locator('[name="lines-0-quantity"]').fill("2")
    await expect(amount_of(rep, 0)).to_have_text(money("17,000.00"))
    await expect(footer.locator('[data-figure="order-total"]')).to_have_text(money("17,000.00"))
    await rep.locator('[name="lines-1-product_id"]').select_option(str(VALVE))
    await rep.locator('[name="lines-1-quantity"]').fill("10")
    await rep.locator('[name="lines-1-discount_percent"]').fill("5")
    await expect(amount_of(rep, 1)).to_have_text(money("11,400.00"))
    await expect(footer.locator('[data-figure="order-total"]')).to_have_text(money("28,400.00"))
    await expect(footer.locator(".figure-order-discount")).to_be_hidden()

    await rep.locator('input[name="adjustment"][value="discount"]').check()
    await rep.locator('[name="order_discount_percent"]').fill("5")
    await expect(footer.locator(".figure-order-discount")).to_be_visible()
    await expect(footer.locator('[data-figure="order-discount-percent"]')).to_have_text("5 %")
    await expect(footer.locator('[data-figure="order-discount"]')).to_have_text(minus("1,420.00"))
    await expect(footer.locator('[data-figure="subtotal"]')).to_have_text(money("28,400.00"))
    await expect(amount_of(rep, 0)).to_have_text(money("16,150.00"))
    await expect(amount_of(rep, 1)).to_have_text(money("10,830.00"))
    await expect(footer.locator('[data-figure="order-total"]')).to_have_text(money("26,980.00"))
    await expect(figures.locator('[data-figure="list-total"]')).to_contain_text(words["below"])
    # exposure 28,400.00 + this order 26,980.00 = 55,380.00 of 60,000.00: within the limit
    await expect(figures.locator('[data-figure="credit"]')).to_contain_text(
        f"{money('55,380.00')} / {money('60,000.00')}"
    )
    await expect(figures.locator('[data-figure="credit-warning"]')).to_be_hidden()
    assert "5100" not in await rep.content()  # a rep's page carries no standard cost
    await both_widths(rep, f"order-form-two-lines-{language}")

    # A third pump: 36,900.00 less 5 % = 35,055.00, and 28,400.00 + 35,055.00 is over 60,000.00.
    await rep.locator('[name="lines-0-quantity"]').fill("3")
    await expect(footer.locator('[data-figure="order-total"]')).to_have_text(money("35,055.00"))
    warning = figures.locator('[data-figure="credit-warning"]')
    await expect(warning).to_be_visible()
    await expect(warning).to_have_text(words["over"])
    await both_widths(rep, f"order-form-over-limit-{language}")

    await rep.locator('button[name="action"][value="save"]').click()
    await expect(rep.get_by_role("status")).to_contain_text(words["saved"])
    # The saved draft has the total the form showed, the discount under its lines.
    await expect(rep.locator("tfoot.whole-order-price tr").last).to_contain_text(money("35,055.00"))
    await expect(rep.locator("tfoot.whole-order-price .whole-order-discount")).to_contain_text(
        minus("1,845.00")
    )
    await snap(rep, f"order-page-discount-{language}")


async def test_without_javascript_the_form_is_the_plain_form(browser, live_server):
    context = await browser.new_context(
        base_url=live_server, java_script_enabled=False, viewport=DESKTOP
    )
    page = await context.new_page()
    try:
        await page.goto("/login")
        await page.locator("#username").fill("sales")
        await page.locator("#password").fill(DEMO_PASSWORD)
        await page.locator("form button[type=submit]").click()
        await page.goto("/orders/new")
        await expect(page.locator('[name="lines-0-quantity"]')).to_be_visible()
        await expect(page.locator("#order-figures")).to_be_hidden()
        await expect(page.locator("tfoot.running-total")).to_be_hidden()
        assert await page.locator("td.line-amount").count() == 0
    finally:
        await context.close()
