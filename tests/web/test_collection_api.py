"""Collection and invoicing through the JSON API and the real workflow: the owner registers
payments, finance confirm or reject them and the money is allocated oldest due first; the owner
or finance apply for invoices and finance issue them. Every refusal changes nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from models.tables import (
    Customer,
    Invoice,
    Order,
    OutboxMail,
    Payment,
    PaymentAllocation,
    Todo,
)
from tests.web.test_fulfilment_api import refused
from tests.web.test_orders_api import order_body, submitted_order, todo_of
from tests.web.test_todos_api import estimated

TODAY = datetime.now(UTC).date()
# 28,400.00: 30 % due on confirmation, 70 % on a fixed date ten days ago (overdue at once).
OVERDUE_SINCE = TODAY - timedelta(days=10)
OVERDUE_PLAN = [
    {"percent": "30", "trigger": "confirmation", "offset_days": 0},
    {
        "percent": "70",
        "trigger": "fixed_date",
        "offset_days": 0,
        "fixed_date": OVERDUE_SINCE.isoformat(),
    },
]
OWNER_MAIL = "sales@o2c.example.com"
# The to-dos of an order's money (the shipment's open beside them, in their own time).
MONEY_TODOS = ("confirm_payment", "collect", "issue_invoice")


def overdue_days() -> int:
    """How late installment 2 of OVERDUE_PLAN is, as the order page counts (the server's day)."""
    return (date.today() - OVERDUE_SINCE).days


async def collecting_order(api, plan: list[dict[str, Any]] | None = None) -> str:
    """An order entered, estimated and approved through the API, waiting until its collection
    has fixed the installments (the first is due on confirmation)."""
    sales = await api("sales")
    body = order_body(payment_plan=plan) if plan else order_body()
    created = await sales.post("/api/v1/orders", json=body)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    submitted = await sales.post(f"/api/v1/orders/{number}/submit")
    assert submitted.status_code == 202, submitted.text
    await estimated(api, number)
    manager = await api("sales_manager")
    approve = await todo_of(manager, number, "approve")
    decided = await manager.post(
        f"/api/v1/todos/{approve['id']}/complete", json={"outcome": "approve"}
    )
    assert decided.status_code == 200, decided.text
    for _ in range(200):
        order = (await sales.get(f"/api/v1/orders/{number}")).json()
        if order["installments"][0]["due_date"] is not None:
            return number
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number}: the collection never fixed its installments")


def payment(amount: str, reference: str, **overrides: Any) -> dict[str, Any]:
    return {
        "amount": amount,
        "received_on": TODAY.isoformat(),
        "method": "bank_transfer",
        "reference": reference,
        **overrides,
    }


async def register(client, number: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/api/v1/orders/{number}/payments", json=body)
    assert response.status_code == 202, response.text
    return response.json()


async def complete(client, todo: dict, body: dict, status: int = 200) -> dict:
    response = await client.post(f"/api/v1/todos/{todo['id']}/complete", json=body)
    assert response.status_code == status, response.text
    return response.json()


async def money_snapshot(session_factory, number: str) -> dict[str, Any]:
    """What a refused action must leave as it was."""
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        payments = await session.execute(
            select(Payment.number, Payment.amount, Payment.status).where(
                Payment.order_id == order.id
            )
        )
        invoices = await session.execute(
            select(Invoice.request_number, Invoice.status, Invoice.invoice_number).where(
                Invoice.order_id == order.id
            )
        )
        todos = await session.execute(
            select(Todo.id, Todo.kind, Todo.status).where(
                Todo.order_id == order.id, Todo.kind.in_(MONEY_TODOS)
            )
        )
        allocations = await session.scalar(
            select(func.count())
            .select_from(PaymentAllocation)
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(Payment.order_id == order.id)
        )
        return {
            "paid": order.paid,
            "invoiced": order.invoiced,
            "collection_status": order.collection_status,
            "payments": sorted(payments),
            "invoices": sorted(invoices),
            "todos": sorted(todos),
            "allocations": allocations,
        }


async def todo_row(session_factory, todo_id: int) -> Todo:
    async with session_factory() as session:
        return await session.get(Todo, todo_id)


# --- payments -------------------------------------------------------------------------------


async def test_a_confirmed_payment_is_allocated_to_the_oldest_due_installment_first(
    api, worker, session_factory
):
    number = await collecting_order(api, OVERDUE_PLAN)
    sales, finance = await api("sales"), await api("finance")
    collect = await todo_of(sales, number, "collect")  # installment 2 was due ten days ago
    await refused(
        sales,
        f"/api/v1/todos/{collect['id']}/complete",
        {"outcome": "paid"},
        409,
        "This to-do closes by itself once the installment is paid.",
    )
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert order["collection_status"] == "overdue"
    first, second = order["installments"]
    assert (first["amount"], second["amount"]) == ("8520.00", "19880.00")
    assert second["status"] == "overdue" and second["overdue_days"] == overdue_days()
    assert second["due_date"] == OVERDUE_SINCE.isoformat()

    registered = await register(sales, number, payment("10000.00", "TT-001"))
    assert registered["stage"] == "collection"
    confirm = await todo_of(finance, number, "confirm_payment")
    await complete(sales, confirm, {"outcome": "confirm"}, 403)
    done = await complete(finance, confirm, {"outcome": "confirm"})
    # Sent again (its answer lost): the same answer, and the money is counted once.
    assert await complete(finance, confirm, {"outcome": "confirm"}) == done
    assert (await complete(finance, confirm, {"outcome": "reject", "comment": "x"}, 409))[
        "detail"
    ] == "This to-do is no longer open."
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert (order["paid"], order["outstanding"]) == ("10000.00", "18400.00")
    first, second = order["installments"]
    assert (first["paid"], second["paid"]) == ("0.00", "10000.00")  # the older one first
    assert second["status"] == "overdue"
    [paid_in] = order["payments"]
    assert paid_in["status"] == "confirmed" and paid_in["decided_by"]["username"] == "finance"
    assert (await todo_row(session_factory, collect["id"])).status == "open"  # 9,880 still open

    await register(sales, number, payment("18400.00", "TT-002"))
    confirm = await todo_of(finance, number, "confirm_payment")
    await complete(finance, confirm, {"outcome": "confirm"})
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert (order["paid"], order["outstanding"]) == ("28400.00", "0.00")
    assert [(i["paid"], i["status"]) for i in order["installments"]] == [
        ("8520.00", "paid"),
        ("19880.00", "paid"),
    ]
    assert order["collection_status"] == "paid"
    closed = await todo_row(session_factory, collect["id"])
    assert (closed.status, closed.outcome) == ("done", "paid")
    kinds = [e["kind"] for e in order["timeline"]]
    assert kinds.count("payment_confirmed") == 2 and "fully_paid" in kinds
    await refused(
        sales,
        f"/api/v1/orders/{number}/payments",
        payment("1.00", "TT-003"),
        409,
        f"Order {number} is paid in full.",
    )


async def test_a_rejected_payment_tells_the_owner_why_and_allocates_nothing(
    api, worker, session_factory
):
    number = await collecting_order(api)
    sales, finance = await api("sales"), await api("finance")
    await register(sales, number, payment("5000.00", "TT-REJ", method="cheque"))
    confirm = await todo_of(finance, number, "confirm_payment")
    before = await money_snapshot(session_factory, number)
    body = await complete(finance, confirm, {"outcome": "reject", "comment": "  "}, 422)
    assert body["detail"] == "Say why the payment is rejected."
    assert await money_snapshot(session_factory, number) == before

    await complete(finance, confirm, {"outcome": "reject", "comment": "No such cheque arrived"})
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    [rejected] = order["payments"]
    assert rejected["status"] == "rejected"
    assert rejected["comment"] == "No such cheque arrived"
    assert (order["paid"], order["outstanding"]) == ("0.00", "28400.00")
    assert order["installments"][0]["paid"] == "0.00"
    after = await money_snapshot(session_factory, number)
    assert after["allocations"] == 0 and after["paid"] == 0
    async with session_factory() as session:
        bodies = list(
            await session.scalars(
                select(OutboxMail.body).where(OutboxMail.to_address == OWNER_MAIL)
            )
        )
    assert any("No such cheque arrived" in b for b in bodies), bodies


async def test_payments_that_break_a_rule_are_refused_and_change_nothing(
    api, worker, session_factory
):
    number = await collecting_order(api)
    sales = await api("sales")
    path = f"/api/v1/orders/{number}/payments"
    before = await money_snapshot(session_factory, number)
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    cases = [
        (payment("0", "TT-1"), 422, "The amount must be more than zero."),
        (payment("-5.00", "TT-1"), 422, "The amount must be more than zero."),
        (
            payment("100.00", "TT-1", received_on=tomorrow),
            422,
            "The payment cannot be received in the future.",
        ),
        (payment("100.00", "  "), 422, "Give the payment's reference."),
        (
            payment("100.00", "TT-1", method="barter"),
            422,
            "The method must be one of: bank_transfer, bank_acceptance_bill, cash, cheque, other.",
        ),
        (
            payment("28400.01", "TT-1"),
            422,
            "The amount is more than is left to pay: 28,400.00 (outstanding less payments "
            "waiting for finance).",
        ),
    ]
    for body, status, detail in cases:
        await refused(sales, path, body, status, detail)
    no_reference = {k: v for k, v in payment("100.00", "x").items() if k != "reference"}
    missing = await sales.post(path, json=no_reference)
    assert missing.status_code == 422 and "reference" in missing.json()["detail"]
    for intruder in ("follower", "sales_manager", "finance"):  # they see it, they don't own it
        await refused(
            await api(intruder),
            path,
            payment("100.00", "TT-1"),
            403,
            "Only the order's owner registers its payments.",
        )
    other_rep = await (await api("sales2")).post(path, json=payment("100.00", "TT-1"))
    assert other_rep.status_code == 404  # not in a sales rep's scope at all
    assert await money_snapshot(session_factory, number) == before

    await register(sales, number, payment("20000.00", "TT-A"))
    waiting = await money_snapshot(session_factory, number)
    await refused(
        sales,
        path,
        payment("10000.00", "TT-B"),
        422,
        "The amount is more than is left to pay: 8,400.00 (outstanding less payments waiting "
        "for finance).",
    )
    await refused(
        sales,
        path,
        payment("100.00", " tt-a "),
        422,
        "A payment with the reference tt-a is already registered for this order.",
    )
    assert await money_snapshot(session_factory, number) == waiting
    assert [p[2] for p in waiting["payments"]] == ["pending"]
    assert [(t[1], t[2]) for t in waiting["todos"]] == [("confirm_payment", "open")]


async def test_nothing_is_paid_or_invoiced_before_the_order_is_confirmed(api, session_factory):
    sales, number = await submitted_order(api)  # waiting for pricing (no worker needed)
    before = await money_snapshot(session_factory, number)
    await refused(
        sales,
        f"/api/v1/orders/{number}/payments",
        payment("100.00", "TT-1"),
        409,
        f"Order {number} is not confirmed yet.",
    )
    await refused(
        sales,
        f"/api/v1/orders/{number}/invoice-requests",
        {"amount": "100.00"},
        409,
        f"Order {number} is not confirmed yet.",
    )
    assert await money_snapshot(session_factory, number) == before


# --- invoices -------------------------------------------------------------------------------


async def test_an_invoice_applied_for_by_the_owner_is_issued_by_finance_with_its_number(
    api, worker, session_factory
):
    number = await collecting_order(api)
    sales, finance = await api("sales"), await api("finance")
    path = f"/api/v1/orders/{number}/invoice-requests"
    await refused(
        await api("warehouse"),
        path,
        {"amount": "100.00"},
        403,
        "Only the order's owner or finance apply for its invoices.",
    )
    applied = await sales.post(path, json={"amount": "10000.00"})
    assert applied.status_code == 202, applied.text
    issue = await todo_of(finance, number, "issue_invoice")
    async with session_factory() as session:
        customer = await session.get(Customer, 1)
        invoice = await session.scalar(select(Invoice).join(Order).where(Order.number == number))
        assert (invoice.title, invoice.tax_number, invoice.address) == (
            customer.invoice_title,
            customer.tax_number,
            customer.address,
        )
        assert invoice.status == "requested"
    before = await money_snapshot(session_factory, number)
    await refused(
        sales,
        path,
        {"amount": "18400.01"},
        422,
        "The amount is more than can still be invoiced: 18,400.00 (total less invoiced and "
        "applied for).",
    )
    body = await complete(finance, issue, {"outcome": "issued", "invoice_number": " "}, 422)
    assert body["detail"] == "Give the invoice number."
    body = await complete(finance, issue, {"outcome": "reject"}, 422)
    assert body["detail"] == "Say why the invoice is not issued."
    await complete(sales, issue, {"outcome": "issued", "invoice_number": "INV-1"}, 403)
    assert await money_snapshot(session_factory, number) == before

    await complete(finance, issue, {"outcome": "issued", "invoice_number": "INV-2026-0001"})
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert order["invoiced"] == "10000.00"
    [issued] = order["invoices"]
    assert (issued["status"], issued["invoice_number"]) == ("issued", "INV-2026-0001")
    assert issued["requested_by"]["username"] == "sales"

    by_finance = await finance.post(
        path, json={"amount": "18400.00", "title": "Shanghai branch", "address": "Pudong"}
    )
    assert by_finance.status_code == 202, by_finance.text
    order = (await finance.get(f"/api/v1/orders/{number}")).json()
    assert order["invoice_pending"] == "18400.00" and order["not_invoiced"] == "18400.00"
    assert order["invoices"][1]["title"] == "Shanghai branch"


async def test_an_invoice_number_used_on_another_order_is_refused_and_the_todo_stays_open(
    api, worker, session_factory
):
    first, second = await asyncio.gather(collecting_order(api), collecting_order(api))
    sales, finance = await api("sales"), await api("finance")
    for number in (first, second):
        applied = await sales.post(
            f"/api/v1/orders/{number}/invoice-requests", json={"amount": "1000.00"}
        )
        assert applied.status_code == 202, applied.text
    issue_first = await todo_of(finance, first, "issue_invoice")
    await complete(finance, issue_first, {"outcome": "issued", "invoice_number": "INV-7"})
    issue_second = await todo_of(finance, second, "issue_invoice")
    before = await money_snapshot(session_factory, second)
    body = await complete(
        finance, issue_second, {"outcome": "issued", "invoice_number": "INV-7"}, 422
    )
    assert body["detail"] == "Invoice number INV-7 is already used."
    assert await money_snapshot(session_factory, second) == before
    assert (await todo_row(session_factory, issue_second["id"])).status == "open"

    await complete(finance, issue_second, {"outcome": "reject", "comment": "Wrong tax number"})
    order = (await sales.get(f"/api/v1/orders/{second}")).json()
    [rejected] = order["invoices"]
    assert (rejected["status"], rejected["comment"]) == ("rejected", "Wrong tax number")
    assert order["invoiced"] == "0.00" and order["invoice_pending"] == "0.00"
