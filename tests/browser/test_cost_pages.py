"""Actual costs and the cost variance in a real browser (Debian's Chromium): an order is entered,
approved and paid in full through the API; ops record its costs on their to-do page (a negative
amount is refused and what was typed kept), finance approve them, the order is delivered through
the API, ops explain the variance above the threshold, the operations manager approves it and the
closed order's page shows the final figures to ops and none of them to the sales rep."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect
from temporalio.testing import WorkflowEnvironment

from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, SignIn
from tests.browser.test_order_pages import open_todo, reload_until, snap
from tests.web.conftest import ApiLogin, api  # noqa: F401 - the API clients, shared with tests/web
from tests.web.test_cost_pages import money
from tests.web.test_costs_api import deliver, paid_order

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)

CENT = Decimal("0.01")
INBOX = re.compile(r"/$")
DONE = "Done. The to-do is closed."
LAST_COSTS = "These are the last costs of this order"
EXPLANATION = "Air freight: the booked sea slot was lost"


async def fill_cost_row(page: Page, n: int, category: str, amount: str, reference: str) -> None:
    await page.get_by_label(f"Category {n}", exact=True).select_option(label=category)
    await page.get_by_label(f"Amount {n}", exact=True).fill(amount)
    await page.get_by_label(f"Supplier payment reference {n}", exact=True).fill(reference)


async def cost_row_shows(page: Page, n: int, category: str, amount: str, reference: str) -> None:
    """Row n of the cost form holds these values (as typed, after a refusal)."""
    chosen = page.get_by_label(f"Category {n}", exact=True).locator("option:checked")
    await expect(chosen).to_have_text(category)
    await expect(page.get_by_label(f"Amount {n}", exact=True)).to_have_value(amount)
    await expect(page.get_by_label(f"Supplier payment reference {n}", exact=True)).to_have_value(
        reference
    )


async def test_costs_are_recorded_approved_and_a_large_variance_explained_before_the_order_closes(
    sign_in: SignIn,
    api: ApiLogin,  # noqa: F811
    env: WorkflowEnvironment,
) -> None:
    # Paid in full, not delivered yet: ops are asked for the actual costs. They come to 10 %
    # above the estimate, twice the threshold of 5 %.
    number, _ = await paid_order(api, env)
    seen = (await (await api("ops")).get(f"/api/v1/orders/{number}")).json()
    expected = Decimal(seen["expected_cost"])
    goods = (expected * Decimal("0.8")).quantize(CENT)
    freight = (expected * Decimal("1.1")).quantize(CENT) - goods
    actual = goods + freight
    difference = actual - expected

    # Ops record the costs; a negative amount is refused and the rows come back as typed.
    ops = await sign_in("ops")
    await open_todo(ops, number, "Record the actual costs")
    await fill_cost_row(ops, 1, "Goods", str(goods), "SUP-1")
    await fill_cost_row(ops, 2, "Freight", f"-{freight}", "SUP-2")
    await ops.get_by_role("button", name="Record the costs").click()
    await expect(ops.get_by_role("alert")).to_have_text(
        "Item 2: the amount must be more than zero."
    )
    await expect(ops.get_by_role("heading", level=1)).to_have_text(
        f"Record the actual costs · {number}"
    )
    await cost_row_shows(ops, 1, "Goods", str(goods), "SUP-1")
    await cost_row_shows(ops, 2, "Freight", f"-{freight}", "SUP-2")
    await snap(ops, "todo-record-costs-refused")
    await ops.get_by_label("Amount 2", exact=True).fill(str(freight))
    await ops.get_by_label(LAST_COSTS).check()
    await ops.get_by_role("button", name="Record the costs").click()
    await ops.wait_for_url(INBOX)
    await expect(ops.get_by_role("status")).to_have_text(DONE)

    # Finance see the batch, marked as the last costs, and approve it.
    finance = await sign_in("finance")
    await open_todo(finance, number, "Approve actual costs")
    await expect(finance.locator('[data-cost="batch-total"]')).to_have_text(money(actual))
    items = finance.locator("table.cost-items tbody tr")
    await expect(items).to_have_count(2)
    await expect(items.nth(0)).to_contain_text("SUP-1")
    await expect(items.nth(1)).to_contain_text(money(freight))
    await expect(finance.locator(".final-batch")).to_have_text(
        "Operations say these are the last costs of this order."
    )
    await snap(finance, "todo-approve-costs")
    await finance.get_by_role("button", name="Approve the costs").click()
    await finance.wait_for_url(INBOX)
    await expect(finance.get_by_role("status")).to_have_text(DONE)

    # Delivered: ops compare expected and actual cost per category and must explain the variance.
    await deliver(api, env, number)
    await open_todo(ops, number, "Review the cost variance")
    variance = ops.locator("table.variance")
    await expect(variance.locator('tr[data-category="goods"]')).to_contain_text(money(goods))
    await expect(variance.locator('tr[data-category="freight"]')).to_contain_text(money(freight))
    total = variance.locator("tr.variance-total")
    for figure in (money(expected), money(actual), money(difference), "10 %"):
        await expect(total).to_contain_text(figure)
    await expect(ops.locator("p.threshold")).to_have_text(
        "The variance is above the threshold of 5 % of the expected cost."
    )
    explanation = ops.get_by_label("Explanation (required)")
    await expect(explanation).to_have_attribute("required", "")
    review_url = ops.url
    await ops.get_by_role("button", name="Confirm the review").click()
    # The browser does not send the form without an explanation…
    assert await explanation.evaluate("field => field.validity.valueMissing")
    assert ops.url == review_url
    await expect(ops.get_by_role("alert")).to_have_count(0)
    # …and the server refuses one of blanks.
    await explanation.fill("   ")
    await ops.get_by_role("button", name="Confirm the review").click()
    await expect(ops.get_by_role("alert")).to_have_text(
        "Explain the variance: it is above the threshold of 5 % of the expected cost."
    )
    await snap(ops, "todo-review-variance-refused")
    await explanation.fill(EXPLANATION)
    await ops.get_by_role("button", name="Confirm the review").click()
    await ops.wait_for_url(INBOX)
    await expect(ops.get_by_role("status")).to_have_text(DONE)

    # The operations manager reads the explanation and approves the variance.
    manager = await sign_in("ops_manager")
    await open_todo(manager, number, "Approve the cost variance")
    await expect(manager.locator(".variance-explanation")).to_contain_text(EXPLANATION)
    await expect(manager.locator("tr.variance-total")).to_contain_text(money(difference))
    await snap(manager, "todo-approve-variance")
    await manager.get_by_role("button", name="Approve the variance").click()
    await manager.wait_for_url(INBOX)
    await expect(manager.get_by_role("status")).to_have_text(DONE)

    # The closed order: ops see the final figures; the sales rep sees no cost at all.
    await ops.goto(f"/orders/{number}")
    final = ops.locator("#final-figures")
    await reload_until(ops, final)
    await expect(final.get_by_role("heading", name="Final figures")).to_be_visible()
    await expect(final.locator('[data-cost="expected-cost"]')).to_have_text(money(expected))
    await expect(final.locator('[data-cost="actual-cost"]')).to_have_text(money(actual))
    await expect(final.locator('[data-cost="variance"]')).to_have_text(
        f"{money(difference)} (10 %)"
    )
    await expect(final.locator(".variance-explanation")).to_contain_text(EXPLANATION)
    await expect(final.locator('tr[data-category="freight"]')).to_contain_text(money(freight))
    await snap(ops, "order-final-figures")

    rep = await sign_in("sales")
    await rep.goto(f"/orders/{number}")
    await expect(rep.get_by_role("heading", level=1)).to_contain_text(number)
    await expect(rep.get_by_text("Final figures")).to_have_count(0)
    await expect(rep.locator("[data-cost], table.variance, #actual-costs")).to_have_count(0)
    for hidden in (money(expected), money(actual), money(difference), EXPLANATION):
        await expect(rep.locator("body")).not_to_contain_text(hidden)
    await snap(rep, "order-closed-sales")
