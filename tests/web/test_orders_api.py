"""The JSON API through the real workflow: order entry, submit, estimate, approve."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
import pytest

PUMP = 3  # seeded product ids: 3 = PUMP-10 (8,500.00 list), 4 = VALVE-3 (1,200.00)
VALVE = 4
# A delivery date the order form takes whenever the tests run (not in the past).
DELIVERY = (date.today() + timedelta(days=60)).isoformat()


def order_body(**overrides):
    body = {
        "customer_id": 1,
        "shipping_mode": "domestic",
        "requested_delivery_date": DELIVERY,
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
        if order["stage"] == "fulfilment":  # confirmed, and fulfilment has begun
            break
        await asyncio.sleep(0.05)
    assert order["stage"] == "fulfilment"
    assert "expected_cost" not in order  # sales reps do not see costs
    assert [r["status"] for r in order["approvals"]] == ["approved"]
    manager_view = (await manager.get(f"/api/v1/orders/{number}")).json()
    assert manager_view["expected_cost"] == "17100.00"  # 2 × 5,100 + 10 × 650 + 400 freight
    assert manager_view["expected_margin"] == "11300.00"
    assert manager_view["lines"][0]["unit_cost"] == "5100.00"


async def submitted_order(api, owner="sales") -> tuple[httpx.AsyncClient, str]:
    client = await api(owner)
    number = (await client.post("/api/v1/orders", json=order_body())).json()["number"]
    response = await client.post(f"/api/v1/orders/{number}/submit")
    assert response.status_code == 202, response.text
    return client, number


async def test_order_numbers_are_sequential_per_year(api):
    sales = await api("sales")
    first = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    second = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    year, n = first.split("-")[1], int(first.split("-")[2])
    assert second == f"SO-{year}-{n + 1:05d}"


async def test_target_total_is_spread_over_lines_summing_exactly(api):
    sales = await api("sales")
    created = await sales.post("/api/v1/orders", json=order_body(target_total="25000.01"))
    assert created.status_code == 201, created.text
    order = (await sales.get(f"/api/v1/orders/{created.json()['number']}")).json()
    amounts = [ln["amount"] for ln in order["lines"]]
    assert order["total"] == "25000.01"
    assert sum(float(a) for a in amounts) == pytest.approx(25000.01)
    assert amounts == ["14964.79", "10035.22"]  # remainder on the largest line


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lines": []}, "An order needs at least one line."),
        ({"lines": [{"product_id": PUMP, "quantity": "0"}]}, "Line 1: the quantity must be"),
        ({"lines": [{"product_id": PUMP, "quantity": "-2"}]}, "greater than zero"),
        ({"lines": [{"product_id": PUMP, "quantity": "1", "unit_price": "0"}]}, "unit price"),
        ({"lines": [{"product_id": PUMP, "quantity": "1", "unit_price": "-5"}]}, "unit price"),
        (
            {"lines": [{"product_id": PUMP, "quantity": "x"}]},
            "Line 1: the quantity must be a number.",
        ),
        (
            {"lines": [{"product_id": PUMP, "quantity": "1", "discount_percent": "101"}]},
            "Line 1: the discount must be between 0 and 100 %",
        ),
        (
            {"lines": [{"product_id": PUMP, "quantity": "1", "discount_percent": "-1"}]},
            "between 0 and 100 %",
        ),
        ({"order_discount_percent": "120"}, "whole-order discount must be between 0 and 100 %"),
        ({"order_discount_percent": "5", "target_total": "1000"}, "not both"),
        ({"target_total": "28400.01"}, "above the order's total"),
        ({"target_total": "0"}, "target total must be greater than zero"),
        ({"target_total": "-10"}, "target total must be greater than zero"),
        ({"customer_id": 999}, "no customer 999"),
        ({"lines": [{"product_id": 999, "quantity": "1"}]}, "no product 999"),
        ({"payment_plan": [{"percent": "60", "trigger": "confirmation"}]}, "exactly 100"),
        ({"payment_plan": [{"percent": "100", "trigger": "fixed_date"}]}, "no date"),
        ({"shipping_mode": "by_air"}, "The shipping mode must be one of: 'domestic' or 'export'."),
        (
            {"payment_plan": [{"percent": "100", "trigger": "dispatch", "offset_days": -5}]},
            "Installment 1: the days after cannot be negative.",
        ),
        ({"payment_plan_name": "90/10"}, "no payment plan named 90/10; choose one of: 100 %"),
        (
            {
                "payment_plan_name": "30/60/10",
                "payment_plan": [{"percent": "100", "trigger": "confirmation"}],
            },
            "not both",
        ),
    ],
)
async def test_bad_order_input_is_refused_with_a_clear_message_and_nothing_saved(
    api, change, message
):
    sales = await api("sales")
    before = (await sales.get("/api/v1/orders")).json()["total"]
    response = await sales.post("/api/v1/orders", json=order_body(**change))
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert (await sales.get("/api/v1/orders")).json()["total"] == before


async def test_a_named_plan_from_the_policy_is_copied_onto_the_order(api):
    sales = await api("sales")
    created = await sales.post("/api/v1/orders", json=order_body(payment_plan_name="30/60/10"))
    assert created.status_code == 201, created.text
    order = (await sales.get(f"/api/v1/orders/{created.json()['number']}")).json()
    assert [
        (i["percent"], i["trigger"], i["offset_days"], i["amount"]) for i in order["installments"]
    ] == [
        ("30.000", "confirmation", 0, "8520.00"),
        ("60.000", "acceptance", 30, "17040.00"),
        ("10.000", "acceptance", 365, "2840.00"),
    ]


async def test_draft_can_be_edited_by_its_owner(api):
    sales = await api("sales")
    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    edited = await sales.patch(
        f"/api/v1/orders/{number}", json=order_body(order_discount_percent="10")
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["total"] == "25560.00"


async def test_bad_edit_changes_nothing(api):
    sales = await api("sales")
    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    response = await sales.patch(f"/api/v1/orders/{number}", json=order_body(lines=[]))
    assert response.status_code == 422
    assert (await sales.get(f"/api/v1/orders/{number}")).json()["total"] == "28400.00"


async def test_submitted_order_can_no_longer_be_edited(api, worker):
    sales, number = await submitted_order(api)
    await todo_of(await api("pricing"), number, "estimate_cost")
    response = await sales.patch(
        f"/api/v1/orders/{number}", json=order_body(lines=[{"product_id": PUMP, "quantity": "1"}])
    )
    assert response.status_code == 409
    assert "can no longer be edited" in response.json()["detail"]
    assert (await sales.get(f"/api/v1/orders/{number}")).json()["total"] == "28400.00"


async def test_submitting_twice_is_refused(api, worker):
    sales, number = await submitted_order(api)
    again = await sales.post(f"/api/v1/orders/{number}/submit")
    assert again.status_code == 409
    assert "already been submitted" in again.json()["detail"]


async def test_only_the_owner_submits_or_edits(api):
    sales = await api("sales")
    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    manager = await api("sales_manager")  # sees the order (their department) but doesn't own it
    assert (await manager.post(f"/api/v1/orders/{number}/submit")).status_code == 403
    assert (await manager.patch(f"/api/v1/orders/{number}", json=order_body())).status_code == 403


async def test_roles_that_do_not_enter_orders_cannot_create_them(api):
    for role in ("pricing", "warehouse", "finance", "admin"):
        response = await (await api(role)).post("/api/v1/orders", json=order_body())
        assert response.status_code == 403, role


async def test_order_outside_scope_is_not_found(api):
    sales = await api("sales")
    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    for outsider in ("sales2", "sales_manager2", "pricing", "warehouse"):
        response = await (await api(outsider)).get(f"/api/v1/orders/{number}")
        assert response.status_code == 404, outsider
        assert response.json()["detail"] == f"There is no order {number}."
    for insider in ("sales", "sales_manager", "director", "follower", "admin"):
        assert (await (await api(insider)).get(f"/api/v1/orders/{number}")).status_code == 200


async def test_order_lists_follow_data_scope(api):
    east = await api("sales")
    north = await api("sales2")
    east_no = (await east.post("/api/v1/orders", json=order_body())).json()["number"]
    north_no = (await north.post("/api/v1/orders", json=order_body())).json()["number"]

    async def numbers(username):
        client = await api(username)
        return {o["number"] for o in (await client.get("/api/v1/orders")).json()["items"]}

    assert await numbers("sales") == {east_no}
    assert await numbers("sales2") == {north_no}
    assert await numbers("sales_manager") == {east_no}
    assert await numbers("sales_manager2") == {north_no}
    assert await numbers("follower") == {east_no}
    assert await numbers("director") == {east_no, north_no}
    assert await numbers("pricing") == set()  # drafts are not theirs to see


async def test_order_list_filters_and_pages(api):
    sales = await api("sales")
    numbers = [
        (await sales.post("/api/v1/orders", json=order_body())).json()["number"] for _ in range(3)
    ]
    page = (await sales.get("/api/v1/orders", params={"per_page": 2, "page": 2})).json()
    assert page["total"] == 3 and [o["number"] for o in page["items"]] == [numbers[0]]
    found = (await sales.get("/api/v1/orders", params={"q": numbers[1]})).json()
    assert [o["number"] for o in found["items"]] == [numbers[1]]
    assert (await sales.get("/api/v1/orders", params={"stage": "approval"})).json()["total"] == 0
    assert (await sales.get("/api/v1/orders", params={"delayed": "true"})).json()["total"] == 0
    bad = await sales.get("/api/v1/orders", params={"stage": "nonsense"})
    assert bad.status_code == 422


async def test_repeat_copies_a_past_order_into_a_new_draft(api):
    sales = await api("sales")
    number = (
        await sales.post("/api/v1/orders", json=order_body(order_discount_percent="10"))
    ).json()["number"]
    copy = await sales.post(f"/api/v1/orders/{number}/repeat")
    assert copy.status_code == 201, copy.text
    original = (await sales.get(f"/api/v1/orders/{number}")).json()
    repeated = (await sales.get(f"/api/v1/orders/{copy.json()['number']}")).json()
    assert repeated["stage"] == "draft" and repeated["repeated_from"] == number
    assert repeated["total"] == original["total"]
    assert [(ln["product_id"], ln["quantity"]) for ln in repeated["lines"]] == [
        (ln["product_id"], ln["quantity"]) for ln in original["lines"]
    ]


async def test_products_hide_standard_cost_from_sales(api):
    sales_products = (await (await api("sales")).get("/api/v1/products")).json()
    pricing_products = (await (await api("pricing")).get("/api/v1/products")).json()
    assert "standard_cost" not in sales_products[0]
    assert pricing_products[0]["standard_cost"]
    customers = (await (await api("sales")).get("/api/v1/customers")).json()
    assert customers[0]["contacts"][0]["email"]
