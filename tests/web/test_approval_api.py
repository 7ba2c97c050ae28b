"""The approval chain through the JSON API: a two-stage round decided in parallel, and the
refusals for a to-do of a finished round and a second decision."""

from __future__ import annotations

from tests.web.test_orders_api import PUMP, VALVE, order_body, todo_of
from tests.web.test_todos_api import estimated

# 10 valves at 25 % off and 130 pumps (120 in stock): stage 2 asks the director
# for the discount and the warehouse for the stock, in parallel.
DEEP_AND_SHORT = order_body(
    lines=[
        {"product_id": PUMP, "quantity": "130"},
        {"product_id": VALVE, "quantity": "10", "discount_percent": "25"},
    ]
)


async def stage_two(api) -> tuple[str, dict, dict]:
    sales = await api("sales")
    number = (await sales.post("/api/v1/orders", json=DEEP_AND_SHORT)).json()["number"]
    assert (await sales.post(f"/api/v1/orders/{number}/submit")).status_code == 202
    await estimated(api, number)
    manager = await api("sales_manager")
    first = await todo_of(manager, number, "approve")
    done = await manager.post(f"/api/v1/todos/{first['id']}/complete", json={"outcome": "approve"})
    assert done.status_code == 200, done.text
    director = await todo_of(await api("director"), number, "approve")
    warehouse = await todo_of(await api("warehouse"), number, "approve")
    return number, director, warehouse


async def test_two_stage_round_needs_every_approval_of_the_second_stage(api, worker):
    number, director, warehouse = await stage_two(api)
    approved = await (await api("director")).post(
        f"/api/v1/todos/{director['id']}/complete", json={"outcome": "approve"}
    )
    assert approved.json()["stage"] == "approval"  # the warehouse has not decided yet
    last = await (await api("warehouse")).post(
        f"/api/v1/todos/{warehouse['id']}/complete", json={"outcome": "approve"}
    )
    assert last.json()["stage"] == "confirmed"

    order = (await (await api("sales")).get(f"/api/v1/orders/{number}")).json()
    [approval_round] = order["approvals"]
    assert approval_round["policy_version"] == 2
    decided = [(s["stage"], s["requirement"], s["decision"]) for s in approval_round["steps"]]
    assert decided == [
        (1, "sales_manager", "approve"),
        (2, "director", "approve"),
        (2, "warehouse", "approve"),
    ]


async def test_a_todo_of_a_finished_round_cannot_be_decided(api, worker):
    number, director, warehouse = await stage_two(api)
    rejected = await (await api("director")).post(
        f"/api/v1/todos/{director['id']}/complete",
        json={"outcome": "reject", "comment": "25 % is too deep"},
    )
    assert rejected.json()["stage"] == "revising"

    late = await (await api("warehouse")).post(
        f"/api/v1/todos/{warehouse['id']}/complete", json={"outcome": "approve"}
    )
    assert late.status_code == 409
    assert late.json()["detail"] == "This to-do is no longer open."
    again = await (await api("director")).post(
        f"/api/v1/todos/{director['id']}/complete", json={"outcome": "approve"}
    )
    assert again.status_code == 409
    order = (await (await api("sales")).get(f"/api/v1/orders/{number}")).json()
    assert order["stage"] == "revising"
    steps = order["approvals"][0]["steps"]
    assert [(s["requirement"], s["decision"]) for s in steps] == [
        ("sales_manager", "approve"),
        ("director", "reject"),
        ("warehouse", None),
    ]
