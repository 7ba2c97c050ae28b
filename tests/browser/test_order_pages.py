"""The order pages in a real browser (Debian's Chromium), used the way people use them: sign in,
enter an order, submit it, estimate its cost, reject, revise, resubmit and approve it. The
workflow runs in the background, so pages are reloaded (a bounded number of times) until its
progress shows."""

from __future__ import annotations

import asyncio
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, SignIn

# Delivery dates the order form takes whenever the tests run (not in the past).
DELIVERY = (date.today() + timedelta(days=60)).isoformat()
LATER_DELIVERY = (date.today() + timedelta(days=90)).isoformat()

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)

CUSTOMER = "Shanghai Precision Machinery Co."
PUMP = "PUMP-10 · Hydraulic pump HP-10 (CN¥8,500.00)"  # as the product picker lists them
VALVE = "VALVE-3 · Control valve CV-3 (CN¥1,200.00)"
ORDER_URL = re.compile(r"/orders/(SO-\d{4}-\d{5,})$")  # tests number from high ranges


async def snap(page: Page, name: str) -> None:
    """A screenshot under $O2C_SCREENSHOT_DIR (when set), for looking at the pages."""
    folder = os.environ.get("O2C_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=f"{folder}/{name}.png", full_page=True)


async def reload_until(page: Page, locator: Locator, *, seconds: float = 10) -> None:
    """Reload the page until the locator shows (the workflow catches up in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await locator.count():
        if loop.time() > deadline:
            raise AssertionError(f"{page.url} never showed {locator} within {seconds} s")
        await asyncio.sleep(0.1)
        await page.reload()


def summary(page: Page, name: str) -> Locator:
    """A figure of the order summary by its caption, e.g. summary(page, "Total")."""
    return page.locator("dl > div").filter(has=page.get_by_text(name, exact=True)).locator("dd")


def todo_row(page: Page, number: str, what: str) -> Locator:
    return (
        page.locator("tbody tr")
        .filter(has=page.get_by_role("link", name=number, exact=True))
        .filter(has=page.get_by_role("link", name=what, exact=True))
    )


async def open_todo(page: Page, number: str, what: str) -> None:
    """From the inbox, open the to-do `what` on order `number` once the workflow has opened it."""
    await page.goto("/")
    row = todo_row(page, number, what)
    await reload_until(page, row)
    await row.get_by_role("link", name=what, exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"{what} · {number}")


async def fill_line(page: Page, n: int, product: str, quantity: str, discount: str = "") -> None:
    await page.get_by_label(f"Product {n}", exact=True).select_option(label=product)
    await page.get_by_label(f"Quantity {n}", exact=True).fill(quantity)
    if discount:
        await page.get_by_label(f"Discount % {n}", exact=True).fill(discount)


async def enter_order(page: Page) -> str:
    """The sales rep enters the standard order and saves the draft; its number."""
    await page.get_by_role("link", name="New order").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("New order")
    await page.get_by_label("Customer").select_option(label=CUSTOMER)
    await page.get_by_label("Requested delivery date").fill(DELIVERY)
    await fill_line(page, 1, PUMP, "2")
    await fill_line(page, 2, VALVE, "10", discount="5")
    await page.get_by_role("radio", name="Whole-order discount %").check()
    await page.get_by_role("textbox", name="Whole-order discount %").fill("10")
    await page.get_by_role("button", name="Save draft").click()
    await page.wait_for_url(ORDER_URL)
    number = ORDER_URL.search(page.url).group(1)
    await expect(page.get_by_role("status")).to_have_text(f"Order {number} is saved.")
    return number


async def test_sales_rep_enters_an_order_and_submitting_it_sends_it_to_cost_estimate(
    sign_in: SignIn,
):
    rep = await sign_in("sales")
    await expect(rep.get_by_role("heading", level=1)).to_contain_text("My to-dos")
    number = await enter_order(rep)

    # 2 × 8,500 + 10 × 1,200 less 5 % = 28,400; less 10 % on the whole order = 25,560
    await expect(rep.get_by_role("heading", level=1)).to_have_text(f"Order {number} Draft")
    await expect(summary(rep, "Total")).to_have_text("CN¥25,560.00")
    await expect(summary(rep, "List price total")).to_have_text("CN¥29,000.00")
    await expect(summary(rep, "Customer")).to_have_text(CUSTOMER)
    lines = rep.locator("table").first.locator("tbody tr")
    await expect(lines).to_have_count(2)
    await expect(lines.nth(0)).to_contain_text("PUMP-10")
    await expect(lines.nth(1)).to_contain_text("5 %")
    await expect(lines.nth(1).locator("td").last).to_have_text("CN¥10,260.00")
    await snap(rep, "order-draft")

    await rep.get_by_role("button", name="Submit", exact=True).click()
    await expect(rep.get_by_role("status")).to_have_text(f"Order {number} is submitted.")
    await reload_until(rep, rep.get_by_role("heading", name=f"Order {number} Cost estimate"))
    await expect(summary(rep, "Stage")).to_have_text("Cost estimate")
    await expect(rep.get_by_role("button", name="Submit", exact=True)).to_have_count(0)
    await snap(rep, "order-costing")


async def test_rejected_order_is_revised_resubmitted_and_approved_in_a_second_round(
    sign_in: SignIn,
):
    rep = await sign_in("sales")
    number = await enter_order(rep)
    await rep.get_by_role("button", name="Submit", exact=True).click()
    await expect(rep.get_by_role("status")).to_have_text(f"Order {number} is submitted.")

    # Pricing: unit costs come prefilled from the standard cost; freight is added by hand.
    pricing = await sign_in("pricing")
    estimate = todo_row(pricing, number, "Estimate the cost")
    await reload_until(pricing, estimate)
    await expect(estimate).to_contain_text("CN¥25,560.00")
    await snap(pricing, "inbox-pricing")
    await open_todo(pricing, number, "Estimate the cost")
    await expect(pricing.get_by_label("Unit cost PUMP-10")).to_have_value("5100.00")
    await expect(pricing.get_by_label("Unit cost VALVE-3")).to_have_value("650.00")
    await pricing.get_by_label("Freight").fill("400")
    await snap(pricing, "todo-estimate")
    await pricing.get_by_role("button", name="Confirm the estimate").click()
    await pricing.wait_for_url(re.compile(r"/$"))
    await expect(pricing.get_by_role("status")).to_have_text("Done. The to-do is closed.")
    await expect(estimate).to_have_count(0)

    # The manager cannot reject without saying why; nothing changes until they do.
    manager = await sign_in("sales_manager")
    await open_todo(manager, number, "Approve the order")
    await expect(summary(manager, "Expected cost")).to_have_text("CN¥17,100.00")
    await manager.get_by_role("button", name="Reject").click()
    await expect(manager.get_by_role("alert")).to_contain_text("needs a comment")
    await expect(summary(manager, "Stage")).to_have_text("Approval")
    await snap(manager, "todo-reject-without-comment")
    await manager.goto("/")
    await expect(todo_row(manager, number, "Approve the order")).to_have_count(1)
    await todo_row(manager, number, "Approve the order").get_by_role("link").first.click()
    await manager.get_by_label("Comment (required to reject)").fill("Discount on valves too deep")
    await manager.get_by_role("button", name="Reject").click()
    await manager.wait_for_url(re.compile(r"/$"))
    await expect(todo_row(manager, number, "Approve the order")).to_have_count(0)

    # The rep is asked to revise, lowers the whole-order discount and resubmits.
    await open_todo(rep, number, "Revise and resubmit the order")
    await expect(rep.get_by_text("Discount on valves too deep")).to_be_visible()
    await snap(rep, "todo-revise")
    await rep.get_by_role("link", name="Edit the order").click()
    discount = rep.get_by_role("textbox", name="Whole-order discount %")
    await expect(discount).to_have_value("10")
    await discount.fill("5")
    await rep.get_by_role("button", name="Save draft").click()
    await rep.wait_for_url(re.compile(f"/orders/{number}$"))
    await expect(summary(rep, "Stage")).to_have_text("Revising")
    await expect(summary(rep, "Total")).to_have_text("CN¥26,980.00")  # 28,400 less 5 %
    await rep.get_by_role("button", name="Resubmit").click()
    await expect(rep.get_by_role("status")).to_contain_text("submitted")

    # Round 2: the manager approves and the order is confirmed.
    await open_todo(manager, number, "Approve the order")
    await expect(summary(manager, "Total")).to_have_text("CN¥26,980.00")
    await manager.get_by_role("button", name="Approve").click()
    await manager.wait_for_url(re.compile(r"/$"))
    await snap(manager, "inbox-manager-after")

    await rep.goto(f"/orders/{number}")
    await reload_until(
        rep, rep.get_by_role("heading", name=re.compile(rf"Order {number} (Confirmed|Fulfilment)"))
    )
    rounds = rep.locator(".card").filter(has_text=re.compile(r"^\s*Round \d"))
    await expect(rounds).to_have_count(2)
    await expect(rounds.nth(0)).to_contain_text("Round 1")
    await expect(rounds.nth(0)).to_contain_text(re.compile("rejected", re.I))
    await expect(rounds.nth(0)).to_contain_text("Discount on valves too deep")
    await expect(rounds.nth(1)).to_contain_text("Round 2")
    await expect(rounds.nth(1)).to_contain_text(re.compile("approved", re.I))
    timeline = rep.locator("ul.timeline li")
    for event, times in [
        ("Submitted", 1),
        ("Cost estimated", 1),
        ("Approval requested", 2),
        ("Rejected", 1),
        ("Resubmitted", 1),
        ("Approved", 1),
        ("Order confirmed", 1),
    ]:
        await expect(timeline.filter(has=rep.get_by_text(event, exact=True))).to_have_count(times)
    await expect(rep.get_by_text("expected cost")).to_have_count(0)  # sales reps see no costs
    await snap(rep, "order-confirmed")


async def test_order_form_refuses_bad_input_with_a_readable_message_and_keeps_the_values(
    sign_in: SignIn,
):
    rep = await sign_in("sales")
    await rep.get_by_role("link", name="New order").click()
    await rep.get_by_label("Customer").select_option(label=CUSTOMER)
    await rep.get_by_label("Requested delivery date").fill(LATER_DELIVERY)
    await rep.get_by_role("radio", name="Whole-order discount %").check()
    await rep.get_by_role("textbox", name="Whole-order discount %").fill("3")
    await rep.get_by_role("button", name="Save draft").click()

    error = rep.get_by_role("alert")
    await expect(error).to_contain_text(re.compile(r"at least (1|one) line", re.I))
    await expect(error).not_to_contain_text(re.compile(r"Traceback|\{|'type'|Internal Server"))
    await expect(rep.get_by_role("heading", level=1)).to_have_text("New order")
    await expect(rep.get_by_label("Customer")).to_have_value(re.compile(r"^\d+$"))
    await expect(rep.get_by_label("Customer").locator("option:checked")).to_have_text(CUSTOMER)
    await expect(rep.get_by_label("Requested delivery date")).to_have_value(LATER_DELIVERY)
    await expect(rep.get_by_role("radio", name="Whole-order discount %")).to_be_checked()
    await expect(rep.get_by_role("textbox", name="Whole-order discount %")).to_have_value("3")
    await snap(rep, "form-no-lines")

    await fill_line(rep, 1, PUMP, "-2", discount="4")
    await fill_line(rep, 2, VALVE, "5")
    await rep.get_by_role("button", name="Save draft").click()
    await expect(error).to_contain_text("Line 1: the quantity must be greater than zero.")
    await expect(rep.get_by_label("Product 1", exact=True).locator("option:checked")).to_have_text(
        PUMP
    )
    await expect(rep.get_by_label("Quantity 1", exact=True)).to_have_value("-2")
    await expect(rep.get_by_label("Discount % 1", exact=True)).to_have_value("4")
    await expect(rep.get_by_label("Quantity 2", exact=True)).to_have_value("5")
    await expect(rep.get_by_role("textbox", name="Whole-order discount %")).to_have_value("3")
    await snap(rep, "form-negative-quantity")

    await rep.goto("/orders")
    await expect(rep.get_by_text("No orders match.")).to_be_visible()  # nothing was saved


async def test_order_form_names_the_bad_line_the_way_people_count_them(sign_in: SignIn):
    rep = await sign_in("sales")
    await rep.get_by_role("link", name="New order").click()
    await rep.get_by_label("Customer").select_option(label=CUSTOMER)
    await fill_line(rep, 1, PUMP, "-2")
    await rep.get_by_role("button", name="Save draft").click()
    error = rep.get_by_role("alert")
    await expect(error).to_contain_text("Line 1: the quantity must be greater than zero.")
    assert "lines.0" not in await error.inner_text()
