"""A partial dispatch in a real browser (Debian's Chromium), in English and in Chinese: an order
of 2 pumps and 10 valves reaches the warehouse through the real workflow; the clerk sends one
pump from the dispatch to-do's page on the day it left, the rest waits in the queue as a second
dispatch with its packing list, and the clerk sends it from the queue. With O2C_SCREENSHOT_DIR
set, the queue, the packing list (also as printed) and the dispatch to-do are photographed at
1366 and 390 px wide."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.async_api import Page, expect
from temporalio.testing import WorkflowEnvironment

from i18n import translations
from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, SignIn
from tests.browser.test_order_pages import snap
from tests.web.conftest import ApiLogin, api  # noqa: F401 - the API clients, shared with tests/web
from tests.web.test_fulfilment_api import complete, confirmed_order, planned, workflow_today
from tests.web.test_orders_api import todo_of

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)


async def speak(page: Page, locale: str) -> None:
    """The clerk picks the language in their profile."""
    if locale == "en":
        return
    await page.goto("/profile")
    await page.locator('select[name="locale"]').select_option(locale)
    await page.locator('form:has(select[name="locale"]) button[type="submit"]').click()
    await page.wait_for_load_state()


async def shots(page: Page, name: str, *, printed: bool = False) -> None:
    """The page at 1366 and 390 px wide (and as printed), when screenshots are asked for."""
    for width in (1366, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await snap(page, f"{name}-{width}")
        if printed:
            await page.emulate_media(media="print")
            await snap(page, f"{name}-{width}-print")
            await page.emulate_media(media="screen")
    await page.set_viewport_size({"width": 1366, "height": 900})


async def fill_dispatch(page: Page, scope, day: date, tracking: str) -> None:
    await scope.locator('input[name="dispatched_on"]').fill(day.isoformat())
    await scope.locator('input[name="carrier"]').fill("SF Express")
    await scope.locator('input[name="tracking_number"]').fill(tracking)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
async def test_the_warehouse_dispatches_part_of_an_order_then_the_rest(
    sign_in: SignIn,
    api: ApiLogin,  # noqa: F811
    env: WorkflowEnvironment,
    locale: str,
) -> None:
    _ = translations(locale).gettext
    number = await confirmed_order(api)  # 2 × PUMP-10, 10 × VALVE-3
    ops, warehouse = await api("ops"), await api("warehouse")
    today = await workflow_today(env)
    plan = await todo_of(ops, number, "plan_shipment")
    await complete(ops, plan, {"outcome": "planned", "milestones": planned(start=today)})
    first = await todo_of(warehouse, number, "confirm_dispatch")
    lines = {
        ln["product_code"]: ln["id"]
        for ln in (await ops.get(f"/api/v1/orders/{number}")).json()["lines"]
    }

    clerk = await sign_in("warehouse")
    await speak(clerk, locale)
    await clerk.goto("/shipments")
    card = clerk.locator(f'.card.shipment[data-order="{number}"]')
    await expect(card).to_contain_text(_("Ship to"))
    await expect(card.locator(".packing-list-link")).to_have_text(_("Packing list"))
    await shots(clerk, f"queue-{locale}")

    # one pump now, from the dispatch to-do's page
    await clerk.goto(f"/todos/{first['id']}")
    form = clerk.locator("form.card")
    await expect(form).to_contain_text(_("Dispatch now"))
    await shots(clerk, f"dispatch-todo-{locale}")
    await form.locator(f'input[name="dispatch-{lines["PUMP-10"]}"]').fill("1")
    await form.locator(f'input[name="dispatch-{lines["VALVE-3"]}"]').fill("0")
    await fill_dispatch(clerk, form, today, "SF-PART-1")
    await form.get_by_role("button", name=_("Confirm dispatch")).click()
    await expect(clerk.get_by_role("status")).to_have_text(_("Done. The to-do is closed."))

    # the rest waits in the queue as the second dispatch: 1 pump and 10 valves
    rest = await todo_of(warehouse, number, "confirm_dispatch")
    assert rest["id"] != first["id"]
    await clerk.goto("/shipments")
    await expect(card).to_contain_text(_("Dispatch %(n)s") % {"n": 2})
    await expect(card.locator(f'input[name="dispatch-{lines["PUMP-10"]}"]')).to_have_value("1")
    await expect(card.locator(f'input[name="dispatch-{lines["VALVE-3"]}"]')).to_have_value("10")

    # its packing list, as printed: no navigation, no buttons
    await card.locator(".packing-list-link").click()
    await expect(clerk.get_by_role("heading", level=1)).to_have_text(
        re.compile(rf"{_('Packing list')}\s*·\s*{number}")
    )
    await expect(clerk.locator("tr[data-line]")).to_have_count(2)
    await clerk.emulate_media(media="print")
    await expect(clerk.locator("header.top")).to_be_hidden()
    await clerk.emulate_media(media="screen")
    await shots(clerk, f"packing-list-{locale}", printed=True)

    # the rest leaves from the queue; the order's timeline says the first left in part
    await clerk.goto("/shipments")
    await fill_dispatch(clerk, card, today, "SF-PART-2")
    await card.get_by_role("button", name=_("Confirm dispatch")).click()
    await expect(clerk.get_by_role("status")).to_have_text(_("Dispatch confirmed."))
    await expect(clerk.locator(f'.card.shipment[data-order="{number}"]')).to_have_count(0)
    await todo_of(ops, number, "confirm_arrival")  # the arrival is asked once everything left
    await clerk.goto(f"/orders/{number}")
    await expect(clerk.locator("ul.timeline")).to_contain_text(_("Dispatched in part"))
    await expect(clerk.locator("ul.timeline")).to_contain_text("PUMP-10 × 1")
