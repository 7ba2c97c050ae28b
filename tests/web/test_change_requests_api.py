"""Change requests through the API: asked for, approved from the inbox and shown as revision 2;
withdrawn by whoever asked; and every refusal of the issue's list with its status and message,
changing nothing."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models.tables import OrderChangeRequest
from tests.web.test_cancellation_api import WHY, cancel
from tests.web.test_collection_api import collecting_order, complete, payment, register
from tests.web.test_orders_api import todo_of

# Each on a test server of its own: an order whose change is approved tells its collection.
pytestmark = pytest.mark.own_test_server


async def order_lines(client, number: str) -> list[dict]:
    return (await client.get(f"/api/v1/orders/{number}")).json()["lines"]


async def ask(client, number: str, body: dict, status: int = 202) -> dict:
    response = await client.post(f"/api/v1/orders/{number}/change-requests", json=body)
    assert response.status_code == status, response.text
    return response.json()


async def more_pumps(client, number: str, quantity: str = "3", **body) -> dict:
    """The order's lines as they are, with the pumps' quantity changed."""
    lines = [
        {
            "line_id": line["id"],
            "quantity": quantity if line["product_code"] == "PUMP-10" else line["quantity"],
            "unit_price": line["unit_price"],
            "discount_percent": line["discount_percent"],
        }
        for line in await order_lines(client, number)
    ]
    return {"reason": "The customer wants one more", "lines": lines, **body}


async def price(api, number: str) -> None:
    """Pricing estimate the open change of goods or quantities (from their inbox): each line at
    the unit cost already estimated where its goods stay, at standard cost where they change."""
    pricing = await api("pricing")
    todo = await todo_of(pricing, number, "estimate_cost")
    facts = todo["cost_facts"]
    lines = [
        {"line_id": line["line_id"], "unit_cost": line["unit_cost"] or line["standard_cost"]}
        for line in facts["lines"]
    ]
    body = {"outcome": "estimated", "lines": lines, "freight": facts["freight"]}
    await complete(pricing, todo, body)


async def requests_of(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(OrderChangeRequest)) or 0


async def revision_of(client, number: str, revision: int) -> dict:
    for _ in range(200):
        order = (await client.get(f"/api/v1/orders/{number}")).json()
        if order["revision"] == revision:
            return order
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number} never reached revision {revision}")


async def test_a_change_approved_from_the_inbox_becomes_revision_2_with_its_diff(api, worker):
    number = await collecting_order(api)
    sales, manager = await api("sales"), await api("sales_manager")

    asked = await ask(sales, number, await more_pumps(sales, number))

    assert asked["status"] == "open" and asked["change_request_number"] == 1
    await price(api, number)  # a third pump: pricing are asked again
    todo = await todo_of(manager, number, "approve_change")
    await complete(manager, todo, {"outcome": "approve"})
    order = await revision_of(sales, number, 2)
    assert order["total"] == "36900.00"  # 3 × 8,500 + 10 × 1,200 × 95 %
    [revision] = order["revisions"]
    assert {"field": "lines[PUMP-10].quantity", "before": "2", "after": "3"} in revision["changes"]
    assert order["change_requests"][0]["status"] == "approved"
    late = await sales.post(
        f"/api/v1/orders/{number}/change-requests/{asked['change_request_id']}/withdraw"
    )
    assert late.status_code == 409 and "decided already" in late.json()["detail"]


async def test_bad_change_requests_are_refused_with_a_clear_message_and_change_nothing(
    api, worker, session_factory
):
    number = await collecting_order(api)
    sales = await api("sales")
    body = await more_pumps(sales, number)
    for bad, status, message in [
        ({**body, "reason": " "}, 422, "Say why the order changes."),
        ({"reason": "Nothing"}, 422, "The change request changes nothing."),
    ]:
        assert message in (await ask(sales, number, bad, status))["detail"]
    # another rep does not see the order; others who see it may not change it
    assert (await ask(await api("sales2"), number, body, 404))["detail"]
    for role in ("follower", "warehouse", "pricing"):
        refused = await ask(await api(role), number, body, 403)
        assert "owner or a manager" in refused["detail"], role
    assert await requests_of(session_factory) == 0

    # a total below what was paid: a refund, not a change
    await register(sales, number, payment("28400.00", "ALL-1"))
    finance = await api("finance")
    await complete(
        finance, await todo_of(finance, number, "confirm_payment"), {"outcome": "confirm"}
    )
    fewer = await more_pumps(sales, number, quantity="1")
    refused = await ask(sales, number, fewer, 422)
    assert "already paid" in refused["detail"]
    assert await requests_of(session_factory) == 0


async def test_a_change_below_what_was_invoiced_is_refused_and_asks_for_a_credit_note(
    api, worker, session_factory
):
    number = await collecting_order(api)
    sales, finance = await api("sales"), await api("finance")
    applied = await sales.post(
        f"/api/v1/orders/{number}/invoice-requests", json={"amount": "28400.00"}
    )
    assert applied.status_code == 202, applied.text
    await complete(
        finance,
        await todo_of(finance, number, "issue_invoice"),
        {"outcome": "issued", "invoice_number": "FP-CHG-1"},
    )

    refused = await ask(sales, number, await more_pumps(sales, number, quantity="1"), 422)

    assert "already invoiced" in refused["detail"] and "credit note" in refused["detail"]
    assert await requests_of(session_factory) == 0
    assert (await sales.get(f"/api/v1/orders/{number}")).json()["total"] == "28400.00"


async def test_a_change_below_what_was_dispatched_is_refused_and_points_to_a_return(
    api, worker, session_factory
):
    number = await collecting_order(api)
    sales, ops, warehouse = await api("sales"), await api("ops"), await api("warehouse")
    plan = [
        {"code": code, "planned_date": (date.today() + timedelta(days=n)).isoformat()}
        for n, code in enumerate(("picking", "dispatch", "arrival"), start=1)
    ]
    await complete(
        ops, await todo_of(ops, number, "plan_shipment"), {"outcome": "planned", "milestones": plan}
    )
    await complete(
        warehouse,
        await todo_of(warehouse, number, "confirm_dispatch"),
        {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": "SF-CHG-1"},
    )

    refused = await ask(sales, number, await more_pumps(sales, number, quantity="1"), 422)

    assert "already dispatched" in refused["detail"] and "return" in refused["detail"]
    assert await requests_of(session_factory) == 0
    assert (await sales.get(f"/api/v1/orders/{number}")).json()["revision"] == 1


async def test_one_request_at_a_time_no_self_approval_and_withdrawal_by_the_requester_only(
    api, worker, session_factory
):
    number = await collecting_order(api)
    sales, manager = await api("sales"), await api("sales_manager")
    asked = await ask(manager, number, await more_pumps(manager, number))
    second = await ask(sales, number, await more_pumps(sales, number, "4"), 409)
    assert "still open" in second["detail"]
    await price(api, number)
    # The manager asked: the change goes to the manager above them, not to their own list.
    todo = await todo_of(await api("director"), number, "approve_change")
    refused = await complete(manager, todo, {"outcome": "approve"}, 403)
    assert refused["detail"] == "This to-do is not assigned to you."

    withdraw = f"/api/v1/orders/{number}/change-requests/{asked['change_request_id']}/withdraw"
    assert (await sales.post(withdraw)).status_code == 403
    done = await manager.post(withdraw)
    assert done.status_code == 202, done.text
    assert done.json()["status"] == "withdrawn"
    again = await manager.post(withdraw)  # sent again (its answer lost): the same answer
    assert again.status_code == 202 and again.json() == done.json()
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert order["revision"] == 1 and order["total"] == "28400.00"
    assert [c["status"] for c in order["change_requests"]] == ["withdrawn"]
    assert (
        await manager.post(f"/api/v1/orders/{number}/change-requests/999999/withdraw")
    ).status_code == 404


async def test_a_cancelled_order_can_no_longer_be_changed(api, worker, session_factory):
    number = await collecting_order(api)
    sales = await api("sales")
    await cancel(sales, number, WHY, 202)
    manager = await api("sales_manager")
    decide = await todo_of(manager, number, "approve_cancellation")
    await complete(manager, decide, {"outcome": "approve"})
    for _ in range(200):
        if (await sales.get(f"/api/v1/orders/{number}")).json()["stage"] == "cancelled":
            break
        await asyncio.sleep(0.05)
    refused = await ask(sales, number, await more_pumps(sales, number), 409)
    assert "cancelled" in refused["detail"]
    assert await requests_of(session_factory) == 0
