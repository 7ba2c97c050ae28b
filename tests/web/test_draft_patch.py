"""PATCH /api/v1/orders/{number} changes only the fields it is given, on a draft and on an order
sent back for revision, and checks the order as changed as a new one is checked."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from tests.web.test_orders_api import DELIVERY, PUMP, VALVE, order_body, submitted_order, todo_of
from tests.web.test_todos_api import estimated, stage_of

LATER = (date.today() + timedelta(days=90)).isoformat()
PLAN = [
    {"percent": "30", "trigger": "confirmation"},
    {"percent": "70", "trigger": "acceptance", "offset_days": 30},
]


async def draft(client: httpx.AsyncClient, **overrides) -> str:
    created = await client.post("/api/v1/orders", json=order_body(**overrides))
    assert created.status_code == 201, created.text
    return created.json()["number"]


async def order_of(client: httpx.AsyncClient, number: str) -> dict:
    return (await client.get(f"/api/v1/orders/{number}")).json()


def without(order: dict, *fields: str) -> dict:
    return {k: v for k, v in order.items() if k not in fields}


def plan_of(order: dict) -> list[tuple[str, str, int]]:
    return [(i["percent"], i["trigger"], i["offset_days"]) for i in order["installments"]]


async def test_patching_only_the_delivery_date_leaves_every_other_field_as_it_was(api):
    sales = await api("sales")
    number = await draft(sales, order_discount_percent="10", payment_plan=PLAN)
    before = await order_of(sales, number)

    patched = await sales.patch(f"/api/v1/orders/{number}", json={"requested_delivery_date": LATER})

    assert patched.status_code == 200, patched.text
    assert patched.json() == {"number": number, "stage": "draft", "total": "25560.00"}
    after = await order_of(sales, number)
    assert after["requested_delivery_date"] == LATER
    assert without(after, "requested_delivery_date") == without(before, "requested_delivery_date")


async def test_patching_only_the_lines_replaces_them_and_keeps_discount_date_and_plan(api):
    sales = await api("sales")
    number = await draft(sales, order_discount_percent="10", payment_plan=PLAN)

    patched = await sales.patch(
        f"/api/v1/orders/{number}", json={"lines": [{"product_id": VALVE, "quantity": "5"}]}
    )

    assert patched.status_code == 200, patched.text
    assert patched.json()["total"] == "5400.00"  # 5 × 1,200 less the order's 10 %
    after = await order_of(sales, number)
    assert [(ln["product_id"], ln["quantity"]) for ln in after["lines"]] == [(VALVE, "5.000")]
    assert after["order_discount_percent"] == "10.000"
    assert after["requested_delivery_date"] == DELIVERY
    assert after["customer"]["id"] == 1 and after["shipping_mode"] == "domestic"
    assert plan_of(after) == [("30.000", "confirmation", 0), ("70.000", "acceptance", 30)]


async def test_a_null_clears_an_optional_field_and_a_cleared_plan_is_all_on_confirmation(api):
    sales = await api("sales")
    number = await draft(sales, order_discount_percent="10", payment_plan=PLAN)

    patched = await sales.patch(
        f"/api/v1/orders/{number}",
        json={
            "requested_delivery_date": None,
            "order_discount_percent": None,
            "payment_plan": None,
        },
    )

    assert patched.status_code == 200, patched.text
    assert patched.json()["total"] == "28400.00"
    after = await order_of(sales, number)
    assert after["requested_delivery_date"] is None
    assert after["order_discount_percent"] is None
    assert plan_of(after) == [("100.000", "confirmation", 0)]


async def test_a_target_total_is_cleared_by_null_and_can_then_give_way_to_a_discount(api):
    sales = await api("sales")
    number = await draft(sales, target_total="25000.00")

    patched = await sales.patch(
        f"/api/v1/orders/{number}", json={"target_total": None, "order_discount_percent": "5"}
    )

    assert patched.status_code == 200, patched.text
    after = await order_of(sales, number)
    assert (after["target_total"], after["order_discount_percent"]) == (None, "5.000")
    assert after["total"] == "26980.00"  # 28,400 less 5 %


async def test_a_named_plan_given_alone_replaces_the_orders_plan(api):
    sales = await api("sales")
    number = await draft(sales, payment_plan=PLAN)

    patched = await sales.patch(f"/api/v1/orders/{number}", json={"payment_plan_name": "30/60/10"})

    assert patched.status_code == 200, patched.text
    assert plan_of(await order_of(sales, number)) == [
        ("30.000", "confirmation", 0),
        ("60.000", "acceptance", 30),
        ("10.000", "acceptance", 365),
    ]


async def test_an_empty_patch_changes_nothing(api):
    sales = await api("sales")
    number = await draft(sales, target_total="25000.01", payment_plan=PLAN)
    before = await order_of(sales, number)

    patched = await sales.patch(f"/api/v1/orders/{number}", json={})

    assert patched.status_code == 200, patched.text
    assert patched.json() == {"number": number, "stage": "draft", "total": "25000.01"}
    assert await order_of(sales, number) == before


BAD_PATCHES = [
    ({"lines": []}, "An order needs at least one line."),
    ({"lines": [{"product_id": PUMP, "quantity": "0"}]}, "Line 1: the quantity must be"),
    ({"lines": [{"product_id": PUMP, "quantity": "x"}]}, "Line 1: the quantity must be a number."),
    ({"lines": [{"product_id": 999, "quantity": "1"}]}, "no product 999"),
    ({"customer_id": 999}, "There is no customer 999."),
    ({"shipping_mode": "by_air"}, "The shipping mode must be one of: 'domestic' or 'export'."),
    ({"target_total": "28400.01", "order_discount_percent": None}, "above the order's total"),
    ({"order_discount_percent": "120"}, "whole-order discount must be between 0 and 100 %"),
    # the stored discount stays unless the body clears it: the order would have both
    ({"target_total": "1000"}, "Give either a whole-order discount or a target total, not both."),
    ({"payment_plan": [{"percent": "60", "trigger": "confirmation"}]}, "exactly 100"),
    ({"payment_plan_name": "90/10"}, "There is no payment plan named 90/10"),
    (
        {"requested_delivery_date": (date.today() - timedelta(days=1)).isoformat()},
        "The requested delivery date",
    ),
    ({"customer_id": None}, "customer_id cannot be null; leave it out to keep its value."),
    ({"shipping_mode": None}, "shipping_mode cannot be null"),
    ({"lines": None}, "lines cannot be null"),
]


@pytest.mark.parametrize(("change", "message"), BAD_PATCHES)
async def test_a_bad_patch_is_refused_with_a_clear_message_and_changes_nothing(
    api, change, message
):
    sales = await api("sales")
    number = await draft(sales, order_discount_percent="10")
    before = await order_of(sales, number)

    response = await sales.patch(f"/api/v1/orders/{number}", json=change)

    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert await order_of(sales, number) == before


async def test_a_patch_past_the_line_limit_is_refused_and_changes_nothing(api, settings):
    sales = await api("sales")
    number = await draft(sales)
    before = await order_of(sales, number)
    lines = [{"product_id": PUMP, "quantity": "1"}] * (settings.max_order_lines + 1)

    response = await sales.patch(f"/api/v1/orders/{number}", json={"lines": lines})

    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        f"An order can have at most {settings.max_order_lines} lines."
    )
    assert await order_of(sales, number) == before


async def test_only_the_owner_patches_a_draft_and_others_change_nothing(api):
    sales = await api("sales")
    number = await draft(sales)
    before = await order_of(sales, number)
    change = {"requested_delivery_date": LATER}
    for insider in ("sales_manager", "follower", "director"):  # see the order, do not own it
        response = await (await api(insider)).patch(f"/api/v1/orders/{number}", json=change)
        assert response.status_code == 403, insider
        assert response.json()["detail"] == "Only the order's owner can change it."
    for outsider in ("sales2", "sales_manager2", "pricing"):
        response = await (await api(outsider)).patch(f"/api/v1/orders/{number}", json=change)
        assert response.status_code == 404, outsider
        assert response.json()["detail"] == f"There is no order {number}."
    assert await order_of(sales, number) == before


@pytest.mark.parametrize("change", [{"requested_delivery_date": LATER}, {}])
async def test_a_submitted_order_takes_no_patch_not_even_an_empty_one(api, worker, change):
    sales, number = await submitted_order(api)
    await todo_of(await api("pricing"), number, "estimate_cost")

    response = await sales.patch(f"/api/v1/orders/{number}", json=change)

    assert response.status_code == 409, response.text
    assert response.json()["detail"] == (
        f"Order {number} is submitted and can no longer be edited."
    )
    assert (await order_of(sales, number))["requested_delivery_date"] == DELIVERY


async def revising_order(api) -> tuple[httpx.AsyncClient, str]:
    """An order estimated, then rejected by the manager: back with its owner for revision."""
    sales, number = await submitted_order(api)
    await estimated(api, number)
    manager = await api("sales_manager")
    approve = await todo_of(manager, number, "approve")
    rejected = await manager.post(
        f"/api/v1/todos/{approve['id']}/complete",
        json={"outcome": "reject", "comment": "Deliver later"},
    )
    assert rejected.status_code == 200, rejected.text
    await todo_of(sales, number, "revise")
    await stage_of(sales, number, "revising")
    return sales, number


async def test_an_order_sent_back_for_revision_takes_a_partial_patch_and_keeps_its_estimate(
    api, worker
):
    sales, number = await revising_order(api)
    director = await api("director")  # sees the costs
    before = await order_of(director, number)

    patched = await sales.patch(f"/api/v1/orders/{number}", json={"requested_delivery_date": LATER})

    assert patched.status_code == 200, patched.text
    assert patched.json()["stage"] == "revising"
    after = await order_of(director, number)
    assert after["requested_delivery_date"] == LATER
    assert after["lines"] == before["lines"]  # same goods: the unit costs stay
    assert [ln["unit_cost"] for ln in after["lines"]] == ["5100.00", "650.00"]
    assert after["total"] == before["total"] and plan_of(after) == plan_of(before)

    bad = await sales.patch(f"/api/v1/orders/{number}", json={"lines": []})
    assert bad.status_code == 422
    assert bad.json()["detail"] == "An order needs at least one line."
    assert await order_of(director, number) == after

    manager = await api("sales_manager")
    refused = await manager.patch(f"/api/v1/orders/{number}", json={"target_total": "1000"})
    assert refused.status_code == 403
    assert await order_of(director, number) == after
