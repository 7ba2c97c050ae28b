"""The warehouse's "Awaiting shipment" queue in a real browser (Debian's Chromium): two orders
reach the queue through the real workflow (entered, estimated, approved and planned through the
API), then the warehouse clerk signs in and confirms the dispatch of each from the queue page,
giving the carrier and the tracking number, until nothing is left waiting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory
from models.tables import Dispatch, Order, User
from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING, SignIn
from tests.browser.test_order_pages import snap
from tests.web.conftest import ApiLogin, api  # noqa: F401 - the API clients, shared with tests/web
from tests.web.test_fulfilment_api import complete, confirmed_order, planned, workflow_today
from tests.web.test_orders_api import todo_of

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)

CUSTOMER = "Shanghai Precision Machinery Co."
EMPTY = "Nothing is waiting for shipment."


def queued(page: Page) -> Locator:
    """The orders on the queue page, one card each."""
    return page.locator(".card.shipment")


def card(page: Page, number: str) -> Locator:
    return page.locator(f'.card.shipment[data-order="{number}"]')


async def queue_shows(page: Page, numbers: list[str]) -> None:
    """The queue lists exactly these orders, in this order, and counts them in its heading."""
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(rf"^\s*Awaiting shipment\s+{len(numbers)}\s*$")
    )
    await expect(queued(page)).to_have_count(len(numbers))
    for position, number in enumerate(numbers):
        await expect(queued(page).nth(position)).to_have_attribute("data-order", number)


async def dispatch(page: Page, number: str, carrier: str, tracking_number: str) -> None:
    """The clerk fills in the order's dispatch form on the queue and confirms it."""
    form = card(page, number)
    await form.get_by_label("Carrier").fill(carrier)
    await form.get_by_label("Tracking number").fill(tracking_number)
    await form.get_by_role("button", name="Confirm dispatch").click()
    await page.wait_for_url(re.compile(r"/shipments$"))
    await expect(page.get_by_role("status")).to_have_text("Dispatch confirmed.")


async def test_warehouse_dispatches_every_order_awaiting_shipment_until_the_queue_is_empty(
    sign_in: SignIn,
    api: ApiLogin,  # noqa: F811
    env: WorkflowEnvironment,
    session_factory: SessionFactory,
) -> None:
    # Two orders entered, estimated and approved; ops plan their domestic shipments, the first
    # to be dispatched a day before the second (the queue lists the earliest dispatch first).
    first, second = await confirmed_order(api), await confirmed_order(api)
    ops, warehouse = await api("ops"), await api("warehouse")
    today = await workflow_today(env)
    for days, number in enumerate((first, second), start=1):
        plan = await todo_of(ops, number, "plan_shipment")
        milestones = planned(start=today + timedelta(days=days))  # picking, dispatch, arrival
        await complete(ops, plan, {"outcome": "planned", "milestones": milestones})
        await todo_of(warehouse, number, "confirm_dispatch")  # the order is ready to go

    clerk = await sign_in("warehouse")
    await clerk.goto("/shipments")
    await queue_shows(clerk, [first, second])
    for number in (first, second):
        await expect(card(clerk, number)).to_contain_text(CUSTOMER)
        await expect(card(clerk, number).locator("tbody tr").first).to_contain_text("PUMP-10")
    await expect(clerk.get_by_text(EMPTY)).to_have_count(0)
    await snap(clerk, "shipments-queue")

    await dispatch(clerk, first, "SF Express", "SF1234567890")
    await queue_shows(clerk, [second])
    await snap(clerk, "shipments-queue-one-left")

    await dispatch(clerk, second, "JD Logistics", "JD0098765432")
    await queue_shows(clerk, [])
    await expect(clerk.locator(".empty")).to_have_text(EMPTY)
    await snap(clerk, "shipments-queue-empty")

    async with session_factory() as session:
        clerk_id = await session.scalar(select(User.id).where(User.username == "warehouse"))
        dispatches = (
            await session.execute(
                select(Order.number, Dispatch.round, Dispatch.carrier, Dispatch.tracking_number)
                .join(Order, Order.id == Dispatch.order_id)
                .order_by(Order.number)
            )
        ).all()
        assert [tuple(row) for row in dispatches] == [
            (first, 1, "SF Express", "SF1234567890"),
            (second, 1, "JD Logistics", "JD0098765432"),
        ]
        dispatched_by = (await session.scalars(select(Dispatch.dispatched_by_id))).all()
        assert dispatched_by == [clerk_id, clerk_id]
        statuses = dict(
            (
                await session.execute(
                    select(Order.number, Order.shipment_status).where(
                        Order.number.in_([first, second])
                    )
                )
            ).all()
        )
        assert statuses == {first: "in_transit", second: "in_transit"}
