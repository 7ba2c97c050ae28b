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
        json={"items": [item("goods", str(goods), "SUP-1"), item("freight", str(rest), "SUP-2")]},
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
    figures = review["cost_facts"]
    assert figures["above_threshold"] is True
    assert figures["threshold"] == "5 % of the expected cost"
    assert Decimal(figures["difference"]) == Decimal("5000.00")
    freight = next(c for c in figures["categories"] if c["category"] == "freight")
    assert Decimal(freight["actual"]) == rest
    owner_view = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert all("cost_facts" not in t for t in owner_view["open_todos"])
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


async def test_costs_before_the_first_payment_and_from_other_roles_are_refused(
    api, worker, session_factory
):
    number = await collecting_order(api)
    ops, sales, finance = await api("ops"), await api("sales"), await api("finance")
    before = await cost_snapshot(session_factory, number)
    batch = {"items": [item("goods", "100", "SUP-1")]}
    for client, status, detail in (
        (ops, 409, "Actual costs are recorded once the order's first payment is confirmed."),
        (finance, 403, "Operations record the actual costs; finance approve them."),
        (sales, 403, "Only business operations record actual costs."),
    ):
        response = await client.post(f"/api/v1/orders/{number}/actual-costs", json=batch)
        assert (response.status_code, response.json()["detail"]) == (status, detail)
    assert await cost_snapshot(session_factory, number) == before


async def test_bad_cost_items_are_refused_with_a_clear_message_and_change_nothing(
    api, worker, env, session_factory
):
    number, _ = await paid_order(api, env)
    ops, finance = await api("ops"), await api("finance")
    record = await todo_of(ops, number, "record_actual_costs")
    before = await cost_snapshot(session_factory, number)
    cases = [
        ([item("goods", "0", "SUP-1")], "Item 1: the amount must be more than zero."),
        ([item("goods", "-20", "SUP-1")], "Item 1: the amount must be more than zero."),
        (
            [item("goods", "20", "SUP-1"), item("packaging", "5", "SUP-2")],
            "Item 2: the category must be one of: goods, freight, installation, customs, other, "
            "return_freight.",
        ),
        ([item("freight", "20", " ")], "Item 1: give the supplier payment reference."),
        ([], "Give at least one cost item."),
    ]
    for items, detail in cases:
        for response in (
            await ops.post(f"/api/v1/orders/{number}/actual-costs", json={"items": items}),
            await ops.post(
                f"/api/v1/todos/{record['id']}/complete",
                json={"outcome": "recorded", "items": items},
            ),
        ):
            assert response.status_code == 422, response.text
            assert response.json()["detail"] == detail
    # The same supplier payment twice for one category: the workflow refuses it.
    twice = [item("goods", "20", "SUP-1"), item("goods", "30", "sup-1 ")]
    response = await ops.post(f"/api/v1/orders/{number}/actual-costs", json={"items": twice})
    assert response.status_code == 422
    assert response.json()["detail"] == "Item 2: supplier payment sup-1 is given twice."
    # Finance cannot complete ops' to-do either.
    response = await finance.post(
        f"/api/v1/todos/{record['id']}/complete",
        json={"outcome": "recorded", "items": [item("goods", "20", "SUP-1")]},
    )
    assert response.status_code in (403, 404), response.text
    assert await cost_snapshot(session_factory, number) == before


async def test_only_another_operations_manager_approves_a_variance(
    api, worker, env, session_factory
):
    number, _ = await paid_order(api, env)
    ops, finance, ops_manager = await api("ops"), await api("finance"), await api("ops_manager")
    seen = (await ops.get(f"/api/v1/orders/{number}")).json()
    over = (Decimal(seen["expected_cost"]) * Decimal("1.2")).quantize(Decimal("0.01"))
    response = await ops.post(
        f"/api/v1/orders/{number}/actual-costs",
        json={"items": [item("goods", str(over), "SUP-1")], "final": True},
    )
    assert response.status_code == 202, response.text
    await complete(
        finance, await todo_of(finance, number, "approve_actual_costs"), {"outcome": "approve"}
    )
    await deliver(api, env, number)
    review = await todo_of(ops_manager, number, "review_variance")
    # The comparison has begun: no more costs.
    response = await ops.post(
        f"/api/v1/orders/{number}/actual-costs",
        json={"items": [item("other", "10", "LATE-1")]},
    )
    assert response.status_code == 409
    assert "no more costs can be recorded" in response.json()["detail"]
    await complete(ops_manager, review, {"outcome": "reviewed", "explanation": "Rush order"})
    decide = await todo_of(ops_manager, number, "approve_variance")
    before = await cost_snapshot(session_factory, number)
    mine = await complete(ops_manager, decide, {"outcome": "approve"}, 403)
    assert mine["detail"] == "You reviewed this variance: another operations manager approves it."
    theirs = await complete(ops, decide, {"outcome": "approve"}, 403)
    assert theirs["detail"] == "This to-do is not assigned to you."
    await complete(ops_manager, decide, {"outcome": "reject"}, 422)
    assert await cost_snapshot(session_factory, number) == before


async def test_the_variance_policy_is_the_administrators_and_sets_the_threshold(
    api, worker, env, session_factory
):
    admin, ops, finance = await api("admin"), await api("ops"), await api("finance")
    shipped = (await ops.get("/api/v1/policy/variance")).json()
    assert (shipped["threshold_percent"], shipped["threshold_amount"]) == ("5", None)
    for body, status in (
        ({"threshold_percent": "150"}, 422),
        ({"threshold_percent": "-1"}, 422),
        ({"threshold_percent": "5", "threshold_amount": "-10"}, 422),
    ):
        response = await admin.put("/api/v1/policy/variance", json=body)
        assert response.status_code == status, response.text
    response = await ops.put("/api/v1/policy/variance", json={"threshold_percent": "50"})
    assert response.status_code == 403
    assert response.json()["detail"] == "Only an administrator may change the variance policy."
    saved = await admin.put("/api/v1/policy/variance", json={"threshold_percent": "25"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == shipped["version"] + 1

    # 20 % over the estimate is within 25 %: ops' review closes the order.
    number, _ = await paid_order(api, env)
    seen = (await ops.get(f"/api/v1/orders/{number}")).json()
    over = (Decimal(seen["expected_cost"]) * Decimal("1.2")).quantize(Decimal("0.01"))
    record = await todo_of(ops, number, "record_actual_costs")
    await complete(
        ops,
        record,
        {"outcome": "recorded", "items": [item("goods", str(over), "SUP-1")], "final": True},
    )
    await complete(
        finance, await todo_of(finance, number, "approve_actual_costs"), {"outcome": "approve"}
    )
    await deliver(api, env, number)
    review = await todo_of(ops, number, "review_variance")
    # Paid and delivered: the customer asks for the invoice during the cost review.
    sales = await api("sales")
    invoice = {"amount": seen["total"], "title": "Shanghai Precision", "tax_number": "91310000X",
               "address": "1 Century Avenue"}  # fmt: skip
    response = await sales.post(f"/api/v1/orders/{number}/invoice-requests", json=invoice)
    assert response.status_code == 202, response.text
    done = await complete(ops, review, {"outcome": "reviewed"})
    assert done["stage"] == "closed"
    closed = (await ops.get(f"/api/v1/orders/{number}")).json()
    assert Decimal(closed["variance_percent"]) == Decimal("20.00")
    # (the same application sent again would be the one already made: this is another)
    invoice = {**invoice, "amount": "1.00"}
    response = await sales.post(f"/api/v1/orders/{number}/invoice-requests", json=invoice)
    assert (response.status_code, response.json()["detail"]) == (
        409,
        f"Order {number} is closed.",
    )
    # The closed order's workflow ends once finance have issued the invoice applied for.
    issue = await todo_of(finance, number, "issue_invoice")
    await complete(finance, issue, {"outcome": "issued", "invoice_number": f"INV-{number}"})
    handle = env.client.get_workflow_handle(f"order-{number}")
    assert (await handle.result())["stage"] == "closed"
    assert (await ops.get(f"/api/v1/orders/{number}")).json()["invoiced"] == seen["total"]
    await admin.put("/api/v1/policy/variance", json={"threshold_percent": "5"})
