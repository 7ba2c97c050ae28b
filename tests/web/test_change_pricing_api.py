"""Pricing a change request through the API and the pages: a change of products or quantities
gives pricing an estimate_cost to-do marked with the change's number (the API's
`change_request`, the inbox and the to-do page say so), with the lines as the change makes them
(a new line as -1); only pricing complete it; its estimate is what the change is approved on
and what the order's expected cost becomes."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.web.conftest import csrf_of
from tests.web.test_change_requests_api import ask, more_pumps, revision_of
from tests.web.test_collection_api import collecting_order, complete
from tests.web.test_orders_api import todo_of

# Each on a test server of its own: an order whose change is approved tells its collection.
pytestmark = pytest.mark.own_test_server


async def product_id(client, code: str) -> int:
    products = (await client.get("/api/v1/products")).json()
    return next(p["id"] for p in products if p["code"] == code)


async def more_pumps_and_sensors(client, number: str) -> dict:
    """Three pumps instead of two, and a new line of four sensors."""
    body = await more_pumps(client, number)
    sensor = await product_id(client, "SENSOR-7")
    body["lines"].append({"product_id": sensor, "quantity": "4"})
    return body


async def test_pricing_estimate_a_change_of_goods_from_their_inbox_and_the_order_takes_it(
    api, browser_session, worker
):
    number = await collecting_order(api)  # 2 pumps at 8,500 and 10 valves at 1,200 less 5 %
    sales, pricing_api = await api("sales"), await api("pricing")
    await ask(sales, number, await more_pumps_and_sensors(sales, number))

    todo = await todo_of(pricing_api, number, "estimate_cost")
    assert todo["change_request"] == 1
    lines = todo["cost_facts"]["lines"]
    assert [(ln["product_code"], Decimal(ln["quantity"])) for ln in lines] == [
        ("PUMP-10", 3),
        ("VALVE-3", 10),
        ("SENSOR-7", 4),
    ]
    assert lines[2]["line_id"] == -1 and lines[1]["unit_cost"] is not None  # the valves' kept
    pumps, valves = lines[0]["line_id"], lines[1]["line_id"]

    pricing = await browser_session("pricing")
    assert "for change request 1" in (await pricing.get("/")).text
    page = await pricing.get(f"/todos/{todo['id']}")
    assert page.status_code == 200 and 'data-change-request="1"' in page.text
    shown = dict(re.findall(r'name="(unit_cost--?\d+)" value="([^"]*)"', page.text))
    assert set(shown) == {f"unit_cost-{pumps}", f"unit_cost-{valves}", "unit_cost--1"}

    # Every line needs its unit cost, the new one too (nothing recorded).
    body = {"outcome": "estimated", "lines": [{"line_id": pumps, "unit_cost": "5000"}]}
    refused = await complete(pricing_api, todo, body, status=422)
    assert refused["detail"] == f"Lines without a unit cost: {sorted([-1, valves])}."
    done = await pricing.post(
        f"/todos/{todo['id']}/complete",
        data={
            "csrf_token": csrf_of(page.text),
            "outcome": "estimated",
            f"unit_cost-{pumps}": "5000",
            f"unit_cost-{valves}": "700",
            "unit_cost--1": "250",
            "freight": "300",
            "installation": "0",
            "other": "0",
        },
    )
    assert done.status_code == 303, done.text

    manager = await api("sales_manager")
    approve = await todo_of(manager, number, "approve_change")
    # 3 x 8,500 + 11,400 + 4 x 450 = 38,700 against 3 x 5,000 + 10 x 700 + 4 x 250 + 300
    assert Decimal(approve["facts"]["expected_margin"]) == Decimal("15400.00")
    await complete(manager, approve, {"outcome": "approve"})
    order = await revision_of(manager, number, 2)
    assert (order["total"], order["expected_cost"], order["expected_margin"]) == (
        "38700.00",
        "23300.00",
        "15400.00",
    )


async def test_only_pricing_complete_a_changes_estimate_and_others_do_not_see_its_costs(
    api, browser_session, worker
):
    number = await collecting_order(api)
    sales = await api("sales")
    await ask(sales, number, await more_pumps(sales, number))
    todo = await todo_of(await api("pricing"), number, "estimate_cost")
    pumps = todo["cost_facts"]["lines"][0]["line_id"]
    body = {"outcome": "estimated", "lines": [{"line_id": pumps, "unit_cost": "5000"}]}

    for role in ("sales", "sales_manager", "director", "ops"):
        refused = await complete(await api(role), todo, body, status=403)
        assert refused["detail"] == "This to-do is not assigned to you.", role
    assert not [t for t in (await sales.get("/api/v1/todos")).json() if t["id"] == todo["id"]]

    owner_page = await browser_session("sales")
    page = await owner_page.get(f"/todos/{todo['id']}")
    refused_page = await owner_page.post(
        f"/todos/{todo['id']}/complete",
        data={"csrf_token": csrf_of(page.text), "outcome": "estimated", f"unit_cost-{pumps}": "1"},
    )
    assert refused_page.status_code == 403
    still = await todo_of(await api("pricing"), number, "estimate_cost")
    assert still["id"] == todo["id"]  # still open for pricing
    assert (await sales.get(f"/api/v1/orders/{number}")).json()["revision"] == 1
