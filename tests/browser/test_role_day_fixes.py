"""Issue 18's defects 1, 2, 5 and 8 in a real browser (Debian's Chromium), in English and in
Chinese: the page after Submit shows the submitted order, the language picked on the login page
survives signing in, a draft whose delivery date has passed is not submitted, and installments
due later are told apart from money overdue or due today."""

from __future__ import annotations

import functools
import re
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from playwright.async_api import Browser, expect
from sqlalchemy import select

from models.tables import Order
from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, TIMEOUT_MS, SignIn
from tests.conftest import DEMO_PASSWORD
from tests.web.conftest import api  # noqa: F401 - the API client fixture
from tests.web.test_due_labels import LAST_MONTH, NEXT_MONTH, SOON, TODAY, accepted_order
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.web.test_orders_api import order_body

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING), needs_catalog]

# The words each test looks for, by interface language.
WORDS = {
    "en": {
        "submit": "Submit",
        "costing": "Cost estimate",
        "draft": "Draft",
        "not_submitted": "Not submitted for approval yet.",
        "date_refused": "The requested delivery date",
    },
    "zh_CN": {
        "submit": "提交",
        "costing": "预估成本",
        "draft": "草稿",
        "not_submitted": "尚未提交审批",
        "date_refused": "要求交货日期",
    },
}


@pytest.fixture
def login(sign_in: SignIn) -> SignIn:
    """login("sales", "zh_CN") -> signed in through the Chinese login form of a zh-CN browser."""
    return functools.partial(sign_in, width=1366, height=900)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
async def test_the_page_after_submit_shows_the_order_in_cost_estimate(
    login: SignIn,
    api,  # noqa: F811
    worker,
    language: str,
) -> None:
    words = WORDS[language]
    number = (await (await api("sales")).post("/api/v1/orders", json=order_body())).json()["number"]
    page = await login("sales", language)
    await page.goto(f"/orders/{number}")
    await expect(page.locator("h1")).to_contain_text(words["draft"])
    await page.get_by_role("button", name=words["submit"], exact=True).click()
    await page.wait_for_url(re.compile(rf"/orders/{number}$"))
    # No reload: the page the submit led to already shows the workflow's first step.
    await expect(page.locator("h1")).to_contain_text(words["costing"])
    await expect(page.locator("h1")).not_to_contain_text(words["draft"])
    await expect(page.get_by_text(words["not_submitted"])).to_have_count(0)


async def test_chinese_picked_on_the_login_page_stays_after_signing_in(
    browser: Browser, live_server: str
) -> None:
    context = await browser.new_context(base_url=live_server, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = await context.new_page()
        await page.goto("/login")
        await page.get_by_role("link", name="简体中文").click()
        await page.get_by_label("用户名").fill("sales")
        await page.get_by_label("密码").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="登录", exact=True).click()
        await page.wait_for_url(f"{live_server}/")
        assert await page.locator("html").get_attribute("lang") == "zh-CN"
        await expect(page.locator("h1")).to_contain_text("我的待办")
    finally:
        await context.close()


async def test_a_chinese_browser_gets_the_chinese_interface_after_signing_in(
    login: SignIn,
) -> None:
    page = await login("finance", "zh_CN")  # seeded user: no language saved in the profile
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    await expect(page.locator("h1")).to_contain_text("我的待办")


@pytest.mark.parametrize("language", ["en", "zh_CN"])
async def test_a_draft_whose_delivery_date_has_passed_is_not_submitted(
    login: SignIn,
    api,  # noqa: F811
    session_factory,
    worker,
    language: str,
) -> None:
    words = WORDS[language]
    number = (await (await api("sales")).post("/api/v1/orders", json=order_body())).json()["number"]
    async with session_factory() as session:  # saved while its date was ahead
        order = await session.scalar(select(Order).where(Order.number == number))
        assert order is not None
        order.requested_delivery_on = TODAY - timedelta(days=1)
        await session.commit()
    page = await login("sales", language)
    await page.goto(f"/orders/{number}")
    await page.get_by_role("button", name=words["submit"], exact=True).click()
    await expect(page.get_by_text(words["date_refused"]).first).to_be_visible()
    await page.goto(f"/orders/{number}")
    await expect(page.locator("h1")).to_contain_text(words["draft"])
    async with session_factory() as session:
        stored = await session.scalar(select(Order).where(Order.number == number))
        assert stored is not None and stored.stage == "draft"


DUE_WORDS = {
    "en": (
        "Overdue since {last} (31 day(s))",
        "Due today",
        "Due on {soon}",
        "Not yet due (due on {later})",
    ),
    "zh_CN": ("自 {last} 起逾期（31 天）", "今日到期", "{soon} 到期", "未到期（{later} 到期）"),
}


@pytest.mark.parametrize("language", ["en", "zh_CN"])
async def test_installments_due_later_are_not_labelled_like_money_due_today(
    login: SignIn,
    api,  # noqa: F811
    session_factory,
    language: str,
) -> None:
    number = await accepted_order(api, session_factory)
    page = await login("sales", language)
    await page.goto(f"/orders/{number}")

    def on(day: date) -> str:
        return format_date(day, format="medium", locale=language)

    dates = {"last": on(LAST_MONTH), "soon": on(SOON), "later": on(NEXT_MONTH)}
    expected = [text.format(**dates) for text in DUE_WORDS[language]]
    shown = [
        " ".join((await page.locator(f'tr[data-installment="{p}"] td').last.inner_text()).split())
        for p in (1, 2, 3, 4)
    ]
    assert shown == expected
