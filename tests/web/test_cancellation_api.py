"""Cancelling through the API and the order page: before confirmation at once, after it through
the manager's approval and finance's refund and credit note, and every refusal with its status
and message, changing nothing."""

from __future__ import annotations

import asyncio
import html
from datetime import date

import pytest
from sqlalchemy import func, select

from models.tables import Cancellation, Order
from tests.web.conftest import csrf_of
from tests.web.test_collection_api import collecting_order, complete, payment, register
from tests.web.test_orders_api import submitted_order, todo_of

# Each on a test server of its own: a cancelled order's children end and others' timers stay.
pytestmark = pytest.mark.own_test_server
WHY = {"reason_code": "customer_request", "reason": "The project was stopped"}


async def cancel(client, number: str, body: dict, status: int) -> dict:
    response = await client.post(f"/api/v1/orders/{number}/cancel", json=body)
    assert response.status_code == status, response.text
    return response.json()


async def cancellations(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(Cancellation)) or 0


async def stage_of(client, number: str, stage: str) -> dict:
    for _ in range(200):
        order = (await client.get(f"/api/v1/orders/{number}")).json()
        if order["stage"] == stage:
            return order
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number} never reached {stage}: {order['stage']}")


async def test_an_order_before_confirmation_is_cancelled_at_once_with_its_reason(
    api, worker, session_factory
):
    sales, number = await submitted_order(api)
    await todo_of(await api("pricing"), number, "estimate_cost")

    done = await cancel(sales, number, WHY, 202)

    assert done == {"number": number, "stage": "cancelled", "todo_key": ""}
    order = await stage_of(sales, number, "cancelled")
    assert order["cancellation"]["reason_code"] == "customer_request"
    assert order["cancellation"]["reason"] == "The project was stopped"
    assert order["cancellation"]["status"] == "cancelled"
    assert order["cancellation"]["requested_by"]["username"] == "sales"
    assert order["refunds"] == [] and order["credit_notes"] == [] and order["refunded"] == "0.00"
    assert "cancelled" in [e["kind"] for e in order["timeline"]]
    listed = (await sales.get("/api/v1/orders", params={"stage": "cancelled"})).json()
    assert [o["number"] for o in listed["items"]] == [number]


async def test_bad_cancellations_are_refused_with_a_clear_message_and_change_nothing(
    api, worker, session_factory
):
    sales, number = await submitted_order(api)
    await todo_of(await api("pricing"), number, "estimate_cost")
    for body, message in [
        ({"reason_code": "customer_request", "reason": " "}, "Say why the order is cancelled."),
        ({"reason": "No"}, "Choose the reason for the cancellation."),
        ({"reason_code": "whim", "reason": "No"}, "The reason code must be one of"),
    ]:
        refused = await cancel(sales, number, body, 422)
        assert message in refused["detail"]
    # another rep does not see the order; others who see it may not cancel it
    assert (await cancel(await api("sales2"), number, WHY, 404))["detail"]
    for role in ("follower", "pricing", "finance"):
        refused = await cancel(await api(role), number, WHY, 403)
        assert "owner or a manager" in refused["detail"], role
    assert await cancellations(session_factory) == 0

    await cancel(await api("sales_manager"), number, WHY, 202)  # the owner's manager may
    await stage_of(sales, number, "cancelled")
    twice = await cancel(sales, number, WHY, 409)
    assert twice["detail"] == "The order is cancelled already."
    assert await cancellations(session_factory) == 1


async def test_a_draft_cannot_be_cancelled_it_is_not_submitted(api):
    sales = await api("sales")
    from tests.web.test_orders_api import order_body

    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    assert "not submitted" in (await cancel(sales, number, WHY, 409))["detail"]


async def test_once_the_cost_review_began_an_order_cannot_be_cancelled(api, session_factory):
    sales = await api("sales")
    from tests.web.test_orders_api import order_body

    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    async with session_factory() as session:  # accepted, paid: its costs are being compared
        order = await session.scalar(select(Order).where(Order.number == number))
        order.stage = "cost_review"
        await session.commit()
    refused = await cancel(sales, number, WHY, 409)
    assert refused["detail"] == (
        "The order's cost review has begun: it can no longer be cancelled; a return takes goods"
        " back."
    )
    assert await cancellations(session_factory) == 0


async def test_a_paid_and_invoiced_order_is_cancelled_after_approval_refunded_and_credited(
    api, worker, session_factory
):
    number = await collecting_order(api)
    sales, finance = await api("sales"), await api("finance")
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    total = order["total"]
    await register(sales, number, payment(total, "ALL-1"))
    await complete(
        finance, await todo_of(finance, number, "confirm_payment"), {"outcome": "confirm"}
    )
    applied = await sales.post(f"/api/v1/orders/{number}/invoice-requests", json={"amount": total})
    assert applied.status_code == 202, applied.text
    await complete(
        finance,
        await todo_of(finance, number, "issue_invoice"),
        {"outcome": "issued", "invoice_number": "FP-0001"},
    )

    asked = await cancel(sales, number, WHY, 202)
    assert asked["todo_key"].endswith("/cancel/1/approve") and asked["stage"] == "fulfilment"
    assert await cancel(sales, number, WHY, 202) == asked  # sent again: the same action
    again = {"reason_code": "duplicate", "reason": "Entered twice"}
    assert "waiting for approval" in (await cancel(sales, number, again, 409))["detail"]
    manager = await api("sales_manager")
    approval = await todo_of(manager, number, "approve_cancellation")
    no_reason = await complete(manager, approval, {"outcome": "reject"}, 422)
    assert "Say why the cancellation is rejected." in no_reason["detail"]
    await complete(manager, approval, {"outcome": "approve"})

    order = await stage_of(sales, number, "cancelled")
    assert order["cancellation"]["status"] == "refunding"
    assert [(r["amount"], r["status"]) for r in order["refunds"]] == [(total, "pending")]
    assert [(n["amount"], n["status"], n["number"]) for n in order["credit_notes"]] == [
        (total, "requested", None)
    ]
    refund = await todo_of(finance, number, "confirm_refund")
    above = f"{float(total) + 1:.2f}"
    refused = await complete(
        finance,
        refund,
        {"outcome": "refunded", "amount": above, "paid_on": date.today().isoformat(),
         "method": "bank_transfer", "reference": "RF-1"},
        422,
    )  # fmt: skip
    assert "more than the money received" in refused["detail"]
    await complete(
        finance,
        refund,
        {"outcome": "refunded", "amount": total, "paid_on": date.today().isoformat(),
         "method": "bank_transfer", "reference": "RF-1"},
    )  # fmt: skip
    note = await todo_of(finance, number, "issue_credit_note")
    taken = await complete(
        finance, note, {"outcome": "issued", "credit_note_number": "FP-0001"}, 422
    )
    assert "Credit note number FP-0001 is already used." in taken["detail"]
    await complete(finance, note, {"outcome": "issued", "credit_note_number": "HZ-0001"})
    for _ in range(200):
        order = (await sales.get(f"/api/v1/orders/{number}")).json()
        if order["cancellation"]["status"] == "cancelled":
            break
        await asyncio.sleep(0.05)
    assert order["cancellation"]["status"] == "cancelled"
    assert order["refunded"] == total
    assert order["credit_notes"][0]["number"] == "HZ-0001"
    receivables = (await finance.get("/api/v1/receivables")).json()
    assert number not in [row["order_number"] for row in receivables["items"]]

    # Invoices and credit notes share their numbers: no invoice may carry HZ-0001 now.
    other = await collecting_order(api)
    applied = await sales.post(f"/api/v1/orders/{other}/invoice-requests", json={"amount": "10"})
    assert applied.status_code == 202, applied.text
    issue = await todo_of(finance, other, "issue_invoice")
    taken = await complete(finance, issue, {"outcome": "issued", "invoice_number": "HZ-0001"}, 422)
    assert taken["detail"] == "Invoice number HZ-0001 is already used."


async def test_the_order_page_cancels_with_a_reason_and_refuses_without_one(
    api, browser_session, worker
):
    _, number = await submitted_order(api)
    await todo_of(await api("pricing"), number, "estimate_cost")
    page = await browser_session("sales")
    shown = await page.get(f"/orders/{number}")
    assert 'id="cancel-order"' in shown.text
    csrf = csrf_of(shown.text)

    refused = await page.post(
        f"/orders/{number}/cancel", data={"csrf_token": csrf, "reason_code": "", "reason": "x"}
    )
    assert refused.status_code == 422
    assert "Choose the reason for the cancellation." in html.unescape(refused.text)

    pricing_page = await browser_session("pricing")
    assert 'id="cancel-order"' not in (await pricing_page.get(f"/orders/{number}")).text
    forbidden = await pricing_page.post(
        f"/orders/{number}/cancel",
        data={"csrf_token": csrf_of((await pricing_page.get(f"/orders/{number}")).text), **WHY},
    )
    assert forbidden.status_code == 403

    done = await page.post(f"/orders/{number}/cancel", data={"csrf_token": csrf, **WHY})
    assert done.status_code == 303
    for _ in range(100):
        after = html.unescape((await page.get(f"/orders/{number}")).text)
        if "The project was stopped" in after:
            break
        await asyncio.sleep(0.05)
    assert 'id="cancellation"' in after and "The customer asked" in after
    assert 'id="cancel-order"' not in after
