"""Actual costs, the variance review and closing through the JSON API and the real workflow:
ops record cost batches once the first payment is confirmed, finance approve or reject them,
ops review the variance when the order is delivered and paid, the operations manager approves a
large one, and the order closes. Every refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from models.tables import ActualCost, CostBatch, Order, OutboxMail, Todo
from tests.web.test_collection_api import collecting_order, payment, register
from tests.web.test_fulfilment_api import complete, planned, workflow_today
from tests.web.test_orders_api import todo_of

COST_TODOS = ("record_actual_costs", "approve_actual_costs", "review_variance", "approve_variance")


async def paid_order(api, env) -> tuple[str, dict[str, Any]]:
    """A confirmed order whose customer paid in full (finance confirmed it): ops are asked for
    the actual costs; the goods are not delivered yet."""
    number = await collecting_order(api)
    sales, finance = await api("sales"), await api("finance")
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    today = await workflow_today(env)
    await register(sales, number, payment(order["total"], "BANK-1", received_on=today.isoformat()))
    confirm = await todo_of(finance, number, "confirm_payment")
    await complete(finance, confirm, {"outcome": "confirm"})
    return number, order


async def deliver(api, env, number: str) -> dict:
    """Plan, dispatch and arrival: the order is accepted (nothing needs installation)."""
    ops, warehouse = await api("ops"), await api("warehouse")
    today = await workflow_today(env)
    plan = await todo_of(ops, number, "plan_shipment")
    await complete(
        ops, plan, {"outcome": "planned", "milestones": planned(start=today + timedelta(days=1))}
    )
    dispatch = await todo_of(warehouse, number, "confirm_dispatch")
    await complete(
        warehouse,
        dispatch,
        {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": "SF1"},
    )
    arrival = await todo_of(ops, number, "confirm_arrival")
    return await complete(ops, arrival, {"outcome": "arrived", "actual_date": today.isoformat()})


def item(category: str, amount: str, reference: str) -> dict[str, str]:
    return {"category": category, "amount": amount, "supplier_payment_reference": reference}


async def cost_snapshot(session_factory, number: str) -> dict[str, Any]:
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        todos = await session.execute(
            select(Todo.kind, Todo.status)
            .where(Todo.order_id == order.id, Todo.kind.in_(COST_TODOS))
            .order_by(Todo.id)
        )
        return {
            "stage": order.stage,
            "actual_cost": order.actual_cost,
            "batches": await session.scalar(
                select(func.count()).select_from(CostBatch).where(CostBatch.order_id == order.id)
            ),
            "items": await session.scalar(
                select(func.count()).select_from(ActualCost).where(ActualCost.order_id == order.id)
            ),
            "todos": list(todos),
        }


async def test_an_order_is_costed_reviewed_and_closed_through_the_api(
    api, worker, env, session_factory
):
    number, order = await paid_order(api, env)
    ops, finance = await api("ops"), await api("finance")
    ops_manager, sales = await api("ops_manager"), await api("sales")
    seen = (await ops.get(f"/api/v1/orders/{number}")).json()
    expected = Decimal(seen["expected_cost"])

    record = await todo_of(ops, number, "record_actual_costs")
    # Finance approve costs; they do not record them.
    response = await finance.post(
        f"/api/v1/orders/{number}/actual-costs",
        json={"items": [item("goods", "100", "SUP-1")]},
    )
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == "Operations record the actual costs; finance approve them."

    # A first batch of goods, which finance reject.
    goods = (expected * Decimal("0.8")).quantize(Decimal("0.01"))
    await complete(
        ops, record, {"outcome": "recorded", "items": [item("goods", str(goods), "SUP-1")]}
    )
    approve = await todo_of(finance, number, "approve_actual_costs")
    await complete(finance, approve, {"outcome": "reject"}, 422)
    await complete(finance, approve, {"outcome": "reject", "comment": "Wrong supplier invoice"})
    # Recorded again with the freight (the rejected reference is free again).
    rest = expected - goods + Decimal("5000.00")  # well above 5 %
    response = await ops.post(
        f"/api/v1/orders/{number}/actual-costs",
        json={
            "items": [item("goods", str(goods), "SUP-1"), item("freight", str(rest), "SUP-2")]
        },
    )
    assert response.status_code == 202, response.text
    # Then ops say there is nothing more to record.
    again = await todo_of(ops, number, "record_actual_costs")
    await complete(ops, again, {"outcome": "recorded", "final": True})
    approve = await todo_of(finance, number, "approve_actual_costs")
    await complete(finance, approve, {"outcome": "approve"})
    seen = (await ops.get(f"/api/v1/orders/{number}")).json()
    assert Decimal(seen["actual_cost"]) == expected + Decimal("5000.00")

    accepted = await deliver(api, env, number)
    review = await todo_of(ops, number, "review_variance")
    refused = await complete(ops, review, {"outcome": "reviewed"}, 422)
    assert "Explain the variance" in refused["detail"]
    await complete(
        ops, review, {"outcome": "reviewed", "explanation": "Air freight: the sea slot was lost"}
    )
    decide = await todo_of(ops_manager, number, "approve_variance")
    done = await complete(ops_manager, decide, {"outcome": "approve"})
    assert done["stage"] == "closed", accepted

    closed = (await ops.get(f"/api/v1/orders/{number}")).json()
    assert closed["stage"] == "closed"
    assert Decimal(closed["variance"]) == Decimal("5000.00")
    assert closed["variance_explanation"] == "Air freight: the sea slot was lost"
    assert Decimal(closed["actual_margin"]) == Decimal(closed["total"]) - Decimal(
        closed["actual_cost"]
    )
    assert {v["category"]: Decimal(v["difference"]) for v in closed["cost_variances"]}[
        "freight"
    ] == rest
    owner_view = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert "variance" not in owner_view and "actual_cost" not in owner_view
    async with session_factory() as session:
        subjects = list(
            await session.scalars(
                select(OutboxMail.subject).where(OutboxMail.to_address == "sales@o2c.example.com")
            )
        )
    assert any(number in s for s in subjects)
