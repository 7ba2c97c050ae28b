"""The JSON API through the real workflow: order entry, submit, estimate, approve."""

from __future__ import annotations

import asyncio

import httpx

PUMP = 3  # seeded product ids: 3 = PUMP-10 (8,500.00 list), 4 = VALVE-3 (1,200.00)
VALVE = 4


def order_body(**overrides):
    body = {
        "customer_id": 1,
        "shipping_mode": "domestic",
        "requested_delivery_date": "2027-01-15",
        "lines": [
            {"product_id": PUMP, "quantity": "2"},
            {"product_id": VALVE, "quantity": "10", "discount_percent": "5"},
        ],
    }
    body.update(overrides)
    return body


async def todo_of(client: httpx.AsyncClient, number: str, kind: str) -> dict:
    """The user's open to-do of this kind on this order, waiting for the workflow to open it."""
    for _ in range(200):
        todos = (await client.get("/api/v1/todos")).json()
        found = [t for t in todos if t["order_number"] == number and t["kind"] == kind]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} to-do for {number}")


async def test_sales_rep_order_goes_through_costing_and_approval_to_confirmed(api, worker):
    sales, pricing, manager = await api("sales"), await api("pricing"), await api("sales_manager")
    created = await sales.post("/api/v1/orders", json=order_body())
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert created.json()["total"] == "28400.00"  # 2 × 8,500 + 10 × 1,200 × 95 %

    submitted = await sales.post(f"/api/v1/orders/{number}/submit")
    assert submitted.status_code == 202, submitted.text

    estimate = await todo_of(pricing, number, "estimate_cost")
    order = (await pricing.get(f"/api/v1/orders/{number}")).json()
    lines = [{"line_id": ln["id"], "unit_cost": ln["standard_cost"]} for ln in order["lines"]]
    done = await pricing.post(
        f"/api/v1/todos/{estimate['id']}/complete",
        json={"outcome": "estimated", "lines": lines, "freight": "400.00"},
    )
    assert done.status_code == 200, done.text

    approve = await todo_of(manager, number, "approve")
    decided = await manager.post(
        f"/api/v1/todos/{approve['id']}/complete", json={"outcome": "approve"}
    )
    assert decided.status_code == 200, decided.text

    for _ in range(200):
        order = (await sales.get(f"/api/v1/orders/{number}")).json()
        if order["stage"] == "confirmed":
            break
        await asyncio.sleep(0.05)
    assert order["stage"] == "confirmed"
    assert "expected_cost" not in order  # sales reps do not see costs
    assert [r["status"] for r in order["approvals"]] == ["approved"]
    manager_view = (await manager.get(f"/api/v1/orders/{number}")).json()
    assert manager_view["expected_cost"] == "17100.00"  # 2 × 5,100 + 10 × 650 + 400 freight
    assert manager_view["expected_margin"] == "11300.00"
    assert manager_view["lines"][0]["unit_cost"] == "5100.00"
