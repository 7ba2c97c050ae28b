"""To-dos through the API and the real workflow: who may complete what, and how refusals look."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from models.tables import Department, Todo, TodoAssignee, User
from tests.web.test_orders_api import order_body, submitted_order, todo_of


async def estimated(api, number: str) -> None:
    pricing = await api("pricing")
    todo = await todo_of(pricing, number, "estimate_cost")
    order = (await pricing.get(f"/api/v1/orders/{number}")).json()
    lines = [{"line_id": ln["id"], "unit_cost": ln["standard_cost"]} for ln in order["lines"]]
    response = await pricing.post(
        f"/api/v1/todos/{todo['id']}/complete", json={"outcome": "estimated", "lines": lines}
    )
    assert response.status_code == 200, response.text


# A confirmed order goes straight on into fulfilment: "confirmed" means confirmed or further.
CONFIRMED_OR_LATER = {
    "confirmed",
    "fulfilment",
    "acceptance",
    "collection",
    "cost_review",
    "closed",
}


async def stage_of(client, number: str, stage: str) -> dict:
    wanted = CONFIRMED_OR_LATER if stage == "confirmed" else {stage}
    for _ in range(200):
        order = (await client.get(f"/api/v1/orders/{number}")).json()
        if order["stage"] in wanted:
            return order
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number} never reached {stage}: {order['stage']}")


async def test_rejected_order_goes_back_to_owner_for_revision_and_round_two_approves(api, worker):
    sales, number = await submitted_order(api)
    await estimated(api, number)
    manager = await api("sales_manager")
    approve = await todo_of(manager, number, "approve")
    rejected = await manager.post(
        f"/api/v1/todos/{approve['id']}/complete",
        json={"outcome": "reject", "comment": "Discount on valves too deep"},
    )
    assert rejected.status_code == 200, rejected.text

    revise = await todo_of(sales, number, "revise")
    assert revise["title"]
    await stage_of(sales, number, "revising")
    edited = await sales.patch(
        f"/api/v1/orders/{number}",
        json=order_body(
            lines=[{"product_id": 3, "quantity": "2"}, {"product_id": 4, "quantity": "10"}]
        ),
    )
    assert edited.status_code == 200, edited.text  # a price change keeps the estimate
    resubmitted = await sales.post(f"/api/v1/orders/{number}/submit")
    assert resubmitted.status_code == 202, resubmitted.text

    approve2 = await todo_of(manager, number, "approve")
    assert approve2["id"] != approve["id"]
    decided = await manager.post(
        f"/api/v1/todos/{approve2['id']}/complete", json={"outcome": "approve"}
    )
    assert decided.status_code == 200, decided.text
    order = await stage_of(sales, number, "confirmed")
    assert [(r["round"], r["status"]) for r in order["approvals"]] == [
        (1, "rejected"),
        (2, "approved"),
    ]
    assert order["approvals"][0]["steps"][0]["comment"] == "Discount on valves too deep"
    kinds = [e["kind"] for e in order["timeline"]]
    assert kinds.count("approval_requested") == 2 and "resubmitted" in kinds
    assert "estimated" in kinds and kinds.count("estimated") == 1  # no second estimate


async def test_owner_can_withdraw_a_rejected_order(api, worker):
    sales, number = await submitted_order(api)
    await estimated(api, number)
    manager = await api("sales_manager")
    approve = await todo_of(manager, number, "approve")
    await manager.post(
        f"/api/v1/todos/{approve['id']}/complete", json={"outcome": "reject", "comment": "No"}
    )
    revise = await todo_of(sales, number, "revise")
    response = await sales.post(
        f"/api/v1/todos/{revise['id']}/complete",
        json={"outcome": "withdraw", "comment": "Customer lost"},
    )
    assert response.status_code == 200, response.text
    assert (await stage_of(sales, number, "cancelled"))["open_todos"] == []


async def test_the_same_completion_sent_again_gets_the_same_answer_and_counts_once(api, worker):
    """An answer lost on the way (a crash, a timeout): the person sends the same action again
    and gets what the first one did, not a refusal; the decision is recorded once."""
    sales, number = await submitted_order(api)
    await estimated(api, number)
    manager = await api("sales_manager")
    approve = await todo_of(manager, number, "approve")
    first = await manager.post(
        f"/api/v1/todos/{approve['id']}/complete", json={"outcome": "approve"}
    )
    assert first.status_code == 200
    again = await manager.post(
        f"/api/v1/todos/{approve['id']}/complete", json={"outcome": "approve"}
    )
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    decided = [e for e in order["timeline"] if e["kind"] == "approved"]
    assert len(decided) == 1


async def test_a_different_action_on_a_done_todo_is_refused(api, worker):
    _, number = await submitted_order(api)
    await estimated(api, number)
    manager = await api("sales_manager")
    approve = await todo_of(manager, number, "approve")
    first = await manager.post(
        f"/api/v1/todos/{approve['id']}/complete", json={"outcome": "approve"}
    )
    assert first.status_code == 200
    for body in ({"outcome": "reject", "comment": "No"}, {"outcome": "approve", "comment": "x"}):
        again = await manager.post(f"/api/v1/todos/{approve['id']}/complete", json=body)
        assert again.status_code == 409
        assert again.json()["detail"] == "This to-do is no longer open."


async def test_someone_elses_todo_is_refused(api, worker):
    _, number = await submitted_order(api)
    pricing = await api("pricing")
    todo = await todo_of(pricing, number, "estimate_cost")
    for intruder in ("sales", "director", "finance"):
        response = await (await api(intruder)).post(
            f"/api/v1/todos/{todo['id']}/complete", json={"outcome": "estimated", "lines": []}
        )
        assert response.status_code == 403, intruder
        assert response.json()["detail"] == "This to-do is not assigned to you."
    # a user who cannot even see the order gets 404, so to-do ids don't leak either
    outsider = await (await api("sales2")).post(
        f"/api/v1/todos/{todo['id']}/complete", json={"outcome": "estimated"}
    )
    assert outsider.status_code == 404
    assert (await pricing.get("/api/v1/todos")).json()[0]["id"] == todo["id"]


async def test_nobody_approves_their_own_order(api, worker, session_factory):
    # The East China manager's own order routes up the tree to the director ...
    manager = await api("sales_manager")
    number = (await manager.post("/api/v1/orders", json=order_body())).json()["number"]
    assert (await manager.post(f"/api/v1/orders/{number}/submit")).status_code == 202
    await estimated(api, number)
    director = await api("director")
    todo = await todo_of(director, number, "approve")
    # ... and even if the owner were named on the to-do, their decision is refused.
    async with session_factory() as session:
        owner_id = await session.scalar(select(User.id).where(User.username == "sales_manager"))
        session.add(
            TodoAssignee(
                todo_id=todo["id"],
                user_id=owner_id,
                status="open",
                created_at=await session.scalar(
                    select(Todo.created_at).where(Todo.id == todo["id"])
                ),
            )
        )
        await session.commit()
    response = await manager.post(
        f"/api/v1/todos/{todo['id']}/complete", json={"outcome": "approve"}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Nobody approves their own order."
    assert (await manager.get(f"/api/v1/orders/{number}")).json()["stage"] == "approval"
    async with session_factory() as session:
        east = await session.scalar(select(Department).where(Department.name == "Sales"))
        assert east.manager_id != owner_id


async def test_reject_without_comment_is_refused(api, worker):
    _, number = await submitted_order(api)
    await estimated(api, number)
    manager = await api("sales_manager")
    approve = await todo_of(manager, number, "approve")
    response = await manager.post(
        f"/api/v1/todos/{approve['id']}/complete", json={"outcome": "reject", "comment": "  "}
    )
    assert response.status_code == 422
    assert "needs a comment" in response.json()["detail"]
    assert (await manager.get("/api/v1/todos")).json()[0]["id"] == approve["id"]


async def test_bad_estimate_fields_are_refused(api, worker, session_factory):
    _, number = await submitted_order(api)
    pricing = await api("pricing")
    todo = await todo_of(pricing, number, "estimate_cost")
    order = (await pricing.get(f"/api/v1/orders/{number}")).json()
    first_line = order["lines"][0]["id"]
    cases = [
        ({"outcome": "approve"}, "outcome must be one of: estimated"),
        ({"outcome": "estimated"}, "unit cost for every line"),
        (
            {"outcome": "estimated", "lines": [{"line_id": first_line, "unit_cost": "10"}]},
            "Lines without a unit cost",
        ),
        (
            {"outcome": "estimated", "lines": [{"line_id": first_line, "unit_cost": "-1"}]},
            "Line 1: the unit cost cannot be negative.",
        ),
        ({"outcome": "estimated", "freight": "abc", "lines": []}, "freight"),
    ]
    for body, message in cases:
        response = await pricing.post(f"/api/v1/todos/{todo['id']}/complete", json=body)
        assert response.status_code == 422, (body, response.text)
        assert message in response.json()["detail"], (body, response.json())
    async with session_factory() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Todo).where(Todo.status == "open")
            )
            == 1
        )
    assert (await pricing.get(f"/api/v1/orders/{number}")).json()["stage"] == "costing"


async def test_unknown_todo_is_not_found(api):
    response = await (await api("pricing")).post(
        "/api/v1/todos/999999/complete", json={"outcome": "estimated"}
    )
    assert response.status_code == 404


async def test_bad_login_gives_no_hint_which_part_was_wrong(http):
    unknown = await http.post("/api/v1/auth/token", data={"username": "nobody", "password": "x"})
    wrong = await http.post("/api/v1/auth/token", data={"username": "sales", "password": "x"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {"detail": "Wrong username or password."}


async def test_api_needs_a_valid_token(http):
    assert (await http.get("/api/v1/me")).status_code == 401
    forged = await http.get("/api/v1/me", headers={"Authorization": "Bearer forged.token"})
    assert forged.status_code == 401


async def test_me_names_the_user_role_and_department(api):
    me = (await (await api("sales_manager")).get("/api/v1/me")).json()
    assert me["role"] == "sales_manager"
    assert me["department"]["name"] == "East China office"
    assert me["sees_costs"] is True
