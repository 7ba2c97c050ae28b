"""Deciding from the e-mail in a real browser (Debian's Chromium): the director, not signed in,
opens the link in their approval mail and approves the order there."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, TIMEOUT_MS
from tests.browser.test_order_pages import snap, summary
from tests.web.conftest import api  # noqa: F401 - the API clients, shared with tests/web
from tests.web.test_decision_links import approval_of, link_in_mail, todo_now, user_id
from tests.web.test_orders_api import PUMP, order_body, todo_of
from tests.web.test_todos_api import estimated

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)


async def test_director_approves_from_the_mail_link_without_signing_in(
    browser: Browser,
    live_server: str,
    api,  # noqa: F811
    session_factory,
):
    # A 25 % line discount needs the director's approval after the sales manager's (stage 2).
    sales = await api("sales")
    body = order_body(lines=[{"product_id": PUMP, "quantity": "2", "discount_percent": "25"}])
    number = (await sales.post("/api/v1/orders", json=body)).json()["number"]
    assert (await sales.post(f"/api/v1/orders/{number}/submit")).status_code == 202
    await estimated(api, number)
    manager = await api("sales_manager")
    first = await todo_of(manager, number, "approve")
    decided = await manager.post(
        f"/api/v1/todos/{first['id']}/complete", json={"outcome": "approve"}
    )
    assert decided.status_code == 200, decided.text
    path = await link_in_mail(session_factory, number, "director")
    todo = await approval_of(session_factory, number, "director")

    context = await browser.new_context(
        base_url=live_server, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = await context.new_page()
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Approve or reject order {number}"
        )
        asked = page.get_by_text("Zhou Wei, your approval is asked")
        await expect(asked).to_be_visible()
        await expect(summary(page, "Total")).to_have_text("CN¥12,750.00")  # 2 × 8,500 less 25 %
        await expect(page.locator("tbody tr").first).to_contain_text("25 %")
        await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        await snap(page, "decision-link")

        await page.get_by_role("button", name="Approve").click()
        await expect(page.get_by_role("status")).to_have_text(
            f"Thank you — you approved order {number}."
        )
        await snap(page, "decision-link-done")

        # The link signed nobody in: the inbox still asks to sign in.
        await page.goto("/")
        await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        await context.close()

    done = await todo_now(session_factory, todo.id)
    assert (done.status, done.outcome) == ("done", "approve")
    assert done.completed_by_id == await user_id(session_factory, "director")
