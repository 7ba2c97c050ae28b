"""Dates outside any sensible window (year 1, year 9999) are refused with a message naming the
field, on the shipment plan, milestones, arrival and payments; nothing changes."""

from __future__ import annotations

from tests.web.test_collection_api import collecting_order, payment
from tests.web.test_fulfilment_api import planned
from tests.web.test_orders_api import todo_of

ABSURD = ("0001-01-01", "9999-12-31")


async def test_absurd_dates_are_refused_on_the_plan_and_on_payments(api, env, worker):
    number = await collecting_order(api)
    ops, sales = await api("ops"), await api("sales")
    plan = await todo_of(ops, number, "plan_shipment")
    for absurd in ABSURD:
        milestones = planned()
        milestones[-1] = {**milestones[-1], "planned_date": absurd}
        response = await ops.post(
            f"/api/v1/todos/{plan['id']}/complete",
            json={"outcome": "planned", "milestones": milestones},
        )
        assert response.status_code == 422, response.text
        assert absurd in response.json()["detail"] and "arrival" in response.json()["detail"]
        registered = await sales.post(
            f"/api/v1/orders/{number}/payments", json=payment("100.00", "R-1", received_on=absurd)
        )
        assert registered.status_code == 422, registered.text
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert order["payments"] == [] and order["milestones"] == []
    assert (await todo_of(ops, number, "plan_shipment"))["id"] == plan["id"]
