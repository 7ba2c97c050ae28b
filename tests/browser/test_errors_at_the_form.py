"""Issue 18, defects 3 and 6 in a real browser (Debian's Chromium), in English and in Chinese: a
quantity or an amount that is not a number is refused with a sentence in the person's language,
said next to the field on screen (not at the top of a long page), the field marked and focused,
and what was typed still there."""

from __future__ import annotations

import functools

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, SignIn
from tests.web.conftest import api  # noqa: F401 - the API client fixture
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.web.test_orders_api import submitted_order, todo_of

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING), needs_catalog]

WORDS = {
    "en": {
        "save": "Save draft",
        "quantity": "Line 2: the quantity must be a number.",
        "estimate": "Confirm the estimate",
        "freight": "The freight must be a number.",
    },
    "zh_CN": {
        "save": "保存草稿",
        "quantity": "第 2 行：数量必须是数字。",
        "estimate": "确认预估成本",
        "freight": "运费必须是数字。",
    },
}


NEAR_PX = 120  # the message is this close to its field, above or below it


@pytest.fixture
def login(sign_in: SignIn) -> SignIn:
    """login("sales", "zh_CN") -> signed in through the Chinese login form of a zh-CN
    browser, on a laptop's short screen."""
    return functools.partial(sign_in, width=1366, height=700)


async def said_next_to(page: Page, field: Locator, message: str) -> None:
    """The refusal is on screen beside the field, which is marked, focused and on screen."""
    said = page.locator("#refused-message")
    await expect(said).to_have_text(message)
    await expect(said).to_be_in_viewport(ratio=1)  # wholly on screen
    await expect(field).to_be_in_viewport(ratio=1)
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_be_focused()
    field_box, said_box = await field.bounding_box(), await said.bounding_box()
    assert field_box and said_box
    gap = max(
        said_box["y"] - (field_box["y"] + field_box["height"]), field_box["y"] - said_box["y"]
    )
    assert gap < NEAR_PX, (field_box, said_box)
    await expect(page.locator("#form-error")).to_have_count(0)  # not also at the top


@pytest.mark.parametrize("language", ["en", "zh_CN"])
async def test_a_quantity_that_is_not_a_number_is_said_at_its_line_of_the_new_order_form(
    login, language
):
    page = await login("sales", language)
    await page.goto("/orders/new")
    await page.locator("#customer_id").select_option("1")
    await page.locator("[name=lines-0-product_id]").select_option("3")
    await page.locator("[name=lines-0-quantity]").fill("2")
    await page.locator("[name=lines-0-unit_price]").fill("8000")
    await page.locator("[name=lines-1-product_id]").select_option("4")
    await page.locator("[name=lines-1-quantity]").fill("a few")
    await page.locator("[name=lines-1-discount_percent]").fill("5")
    await page.get_by_role("button", name=WORDS[language]["save"]).click()

    field = page.locator("[name=lines-1-quantity]")
    await said_next_to(page, field, WORDS[language]["quantity"])
    await expect(field).to_have_value("a few")  # what was typed stays
    await expect(page.locator("[name=lines-0-unit_price]")).to_have_value("8000")
    await expect(page.locator("[name=lines-1-discount_percent]")).to_have_value("5")
    await expect(page.locator("[name=lines-1-product_id]")).to_have_value("4")
    await expect(page.locator("[name=lines-0-quantity]")).not_to_have_attribute(
        "aria-invalid", "true"
    )
    assert page.url.endswith("/orders/new")  # nothing saved: no order page to go to


@pytest.mark.parametrize("language", ["en", "zh_CN"])
async def test_an_amount_that_is_not_a_number_is_said_at_the_field_of_the_estimate_to_do(
    login,
    api,  # noqa: F811 - the fixture
    language,
):
    _, number = await submitted_order(api)
    todo = await todo_of(await api("pricing"), number, "estimate_cost")
    page = await login("pricing", language)
    await page.goto(f"/todos/{todo['id']}")
    await page.locator("#freight").fill("lots")
    await page.locator("#installation").fill("800")
    await page.get_by_role("button", name=WORDS[language]["estimate"]).click()

    field = page.locator("#freight")
    await said_next_to(page, field, WORDS[language]["freight"])
    await expect(field).to_have_value("lots")
    await expect(page.locator("#installation")).to_have_value("800")
    still = await todo_of(await api("pricing"), number, "estimate_cost")
    assert still["id"] == todo["id"]  # still open: nothing estimated
