"""A submit cut off half-way (the web app killed between starting the workflow and saying so)
can be sent again until the order's workflow runs, and then starts it exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update

from models.domain import TodoKind
from models.tables import Order, Todo
from settings import Settings
from tests.web.test_orders_api import order_body, todo_of
from web.temporal import start_order_workflow


async def draft(api) -> tuple[object, str]:
    sales = await api("sales")
    created = await sales.post("/api/v1/orders", json=order_body())
    assert created.status_code == 201, created.text
    return sales, created.json()["number"]


async def estimate_todos(session_factory, number: str) -> int:
    async with session_factory() as session:
        return await session.scalar(
            select(func.count())
            .select_from(Todo)
            .join(Order, Order.id == Todo.order_id)
            .where(Order.number == number, Todo.kind == TodoKind.estimate_cost.value)
        )


async def test_an_order_marked_submitted_whose_workflow_never_started_can_be_submitted_again(
    api, worker, session_factory
):
    # What the old order of things left behind when the web app died between its two steps.
    sales, number = await draft(api)
    async with session_factory() as session:
        await session.execute(
            update(Order).where(Order.number == number).values(submitted_at=datetime.now(UTC))
        )
        await session.commit()
    again = await sales.post(f"/api/v1/orders/{number}/submit")
    assert again.status_code == 202, again.text
    await todo_of(await api("pricing"), number, "estimate_cost")
    assert (await sales.get(f"/api/v1/orders/{number}")).json()["stage"] == "costing"


async def test_a_submit_whose_answer_was_lost_before_the_order_was_marked_is_taken_once(
    api, env, session_factory, settings: Settings
):
    # The workflow was started, then the web app died before it marked the order (no worker
    # runs yet, so the workflow's own first step has not marked it either).
    sales, number = await draft(api)
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        await start_order_workflow(env.client, session, order, task_queue=settings.task_queue)
    again = await sales.post(f"/api/v1/orders/{number}/submit")
    assert again.status_code == 202, again.text
    edit = await sales.patch(f"/api/v1/orders/{number}", json=order_body())
    assert edit.status_code == 409
    third = await sales.post(f"/api/v1/orders/{number}/submit")
    assert third.status_code == 409
    assert "already been submitted" in third.json()["detail"]
    assert await estimate_todos(session_factory, number) == 0  # no worker yet


async def test_submitted_twice_the_workflow_runs_once(api, worker, session_factory):
    sales, number = await draft(api)
    assert (await sales.post(f"/api/v1/orders/{number}/submit")).status_code == 202
    await todo_of(await api("pricing"), number, "estimate_cost")
    assert (await sales.post(f"/api/v1/orders/{number}/submit")).status_code == 409
    assert await estimate_todos(session_factory, number) == 1


async def test_a_submit_sent_again_with_its_idempotency_key_gets_the_same_answer(
    api, worker, session_factory
):
    sales, number = await draft(api)
    key = {"Idempotency-Key": "submit-once-7f3a"}
    first = await sales.post(f"/api/v1/orders/{number}/submit", headers=key)
    assert first.status_code == 202, first.text
    await todo_of(await api("pricing"), number, "estimate_cost")  # the workflow has run
    again = await sales.post(f"/api/v1/orders/{number}/submit", headers=key)
    assert (again.status_code, again.json()) == (202, first.json())
    other = await sales.post(
        f"/api/v1/orders/{number}/submit", headers={"Idempotency-Key": "another"}
    )
    assert other.status_code == 409
    assert await estimate_todos(session_factory, number) == 1
