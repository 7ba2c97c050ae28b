"""Operations' worklists in a real browser (Debian's Chromium), in English and in Chinese (issue
18, item 10): ops plan two shipments from one page, then confirm a milestone in place on
"Milestones due", each page showing what was done without a reload."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect
from temporalio.testing import WorkflowEnvironment

from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, SignIn
from tests.browser.test_order_pages import snap
from tests.browser.test_role_day_fixes import login  # noqa: F401 - signs in per language
from tests.web.conftest import ApiLogin, api  # noqa: F401 - the API client fixture
from tests.web.test_fulfilment_api import DOMESTIC, confirmed_order, workflow_today
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.web.test_orders_api import todo_of

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING), needs_catalog]

WORDS = {
    "en": {
        "plan_nav": "Plan shipments",
        "due_nav": "Milestones due",
        "milestones": {"picking": "Picking", "dispatch": "Dispatch", "arrival": "Arrival"},
        "tick": "Plan the shipment of {number}",
        "plan": "Plan the ticked shipments",
        "planned": "Planned: {first}, {second}.",
        "nothing_to_plan": "No shipment is waiting to be planned.",
        "confirm": "Confirm",
        "confirmed": "Order {number}: Picking is confirmed.",
    },
    "zh_CN": {
        "plan_nav": "批量安排发货",
        "due_nav": "待确认节点",
        "milestones": {"picking": "备货", "dispatch": "发货", "arrival": "到货"},
        "tick": "安排 {number} 的发货计划",
        "plan": "安排勾选的发货",
        "planned": "已安排计划：{first}, {second}。",
        "nothing_to_plan": "没有等待安排计划的发货。",
        "confirm": "确认",
        "confirmed": "订单 {number}：备货已确认。",
    },
}


async def shots(page: Page, name: str) -> None:
    """Screenshots at a laptop's width and a phone's (when O2C_SCREENSHOT_DIR is set)."""
    if not os.environ.get("O2C_SCREENSHOT_DIR"):
        return
    for width in (1366, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await snap(page, f"{name}-{width}")
    await page.set_viewport_size({"width": 1366, "height": 900})


@pytest.mark.parametrize("language", ["en", "zh_CN"])
async def test_ops_plan_two_shipments_from_one_page_and_confirm_a_milestone_in_place(
    login: SignIn,  # noqa: F811
    api: ApiLogin,  # noqa: F811
    env: WorkflowEnvironment,
    worker,
    language: str,
) -> None:
    words = WORDS[language]
    first, second = await confirmed_order(api), await confirmed_order(api)
    api_ops = await api("ops")
    for number in (first, second):
        await todo_of(api_ops, number, "plan_shipment")  # the shipment waits for its plan
    today = await workflow_today(env)

    ops = await login("ops", language)
    await ops.get_by_role("link", name=words["plan_nav"], exact=True).click()
    await ops.wait_for_url(re.compile(r"/plan-shipments$"))
    rows = ops.locator(".plan-row")
    await expect(rows).to_have_count(2)
    for days, number in enumerate((first, second), start=1):
        row = ops.locator(f'.plan-row[data-order="{number}"]')
        for offset, code in enumerate(DOMESTIC):
            on = today + timedelta(days=days + offset)
            await row.get_by_label(words["milestones"][code], exact=True).fill(on.isoformat())
        await row.get_by_label(words["tick"].format(number=number)).check()
    await shots(ops, f"plan-shipments-{language}")
    await ops.get_by_role("button", name=words["plan"], exact=True).click()
    await ops.wait_for_url(re.compile(r"/plan-shipments$"))
    await expect(ops.get_by_role("status")).to_have_text(
        words["planned"].format(first=first, second=second)
    )
    await expect(rows).to_have_count(0)
    await expect(ops.locator(".empty")).to_have_text(words["nothing_to_plan"])
    await shots(ops, f"plan-shipments-done-{language}")

    await ops.get_by_role("link", name=words["due_nav"], exact=True).click()
    await ops.wait_for_url(re.compile(r"/milestones/due$"))
    picking = ops.locator(f'tr.due-row[data-order="{first}"][data-milestone="picking"]')
    await expect(picking).to_contain_text(words["milestones"]["picking"])
    await expect(ops.locator("tr.due-row")).to_have_count(6)
    await shots(ops, f"milestones-due-{language}")
    await picking.get_by_role("button", name=words["confirm"], exact=True).click()
    await ops.wait_for_url(re.compile(r"/milestones/due$"))
    await expect(ops.get_by_role("status")).to_have_text(words["confirmed"].format(number=first))
    await expect(picking).to_have_count(0)  # the list shows it done: the row is gone
    await expect(ops.locator("tr.due-row")).to_have_count(5)
    await expect(
        ops.locator(f'tr.due-row[data-order="{second}"][data-milestone="picking"]')
    ).to_have_count(1)
    await shots(ops, f"milestones-due-confirmed-{language}")

    order = (await api_ops.get(f"/api/v1/orders/{first}")).json()
    assert [(m["code"], m["actual_date"] is not None) for m in order["milestones"]] == [
        ("picking", True),
        ("dispatch", False),
        ("arrival", False),
    ]
