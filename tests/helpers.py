"""Helpers for tests: drafts, actors and workflow starts, the way the web layer does them."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory
from models.domain import Actor, CostEstimate, EstimateCompletion, LineCost
from models.drafts import DraftLine, DraftOrder, create_draft
from models.queries import actor_for
from models.tables import Order, Product, TimelineEvent, Todo, User
from web.temporal import start_order_workflow
from workflows.order import OrderWorkflow


async def user(session_factory: SessionFactory, username: str) -> User:
    async with session_factory() as session:
        return await session.scalar(select(User).where(User.username == username))


async def actor(session_factory: SessionFactory, username: str) -> Actor:
    async with session_factory() as session:
        found = await session.scalar(select(User).where(User.username == username))
        return await actor_for(session=session, user=found)


async def draft(
    session_factory: SessionFactory,
    owner: str = "sales",
    *,
    quantity: str = "2",
    product_code: str = "PUMP-10",
    discount_percent: str = "0",
) -> Order:
    async with session_factory() as session:
        product = await session.scalar(select(Product).where(Product.code == product_code))
        owner_user = await session.scalar(select(User).where(User.username == owner))
        return await create_draft(
            session=session,
            user=owner_user,
            draft=DraftOrder(
                customer_id=1,
                lines=[
                    DraftLine(
                        product_id=product.id,
                        quantity=Decimal(quantity),
                        discount_percent=Decimal(discount_percent),
                    )
                ],
            ),
        )


async def submit(
    client: Client, session_factory: SessionFactory, order: Order, task_queue: str
) -> WorkflowHandle:
    async with session_factory() as session:
        order = await session.get(Order, order.id)
        return await start_order_workflow(client, session, order, task_queue=task_queue)


async def open_todos(
    session_factory: SessionFactory, order: Order, kind: str, *, at_least: int = 1
) -> list[Todo]:
    """The order's open to-dos of a kind, waiting (up to 10 s) until the workflow opened them."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        async with session_factory() as session:
            rows = list(
                await session.scalars(
                    select(Todo)
                    .where(Todo.order_id == order.id, Todo.kind == kind, Todo.status == "open")
                    .order_by(Todo.id)
                )
            )
        if len(rows) >= at_least or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.05)


async def confirmed(handle: WorkflowHandle, session_factory: SessionFactory, order: Order) -> Order:
    """Wait until the order is confirmed and its fulfilment has begun (ops are asked for the
    timetable); the order as saved then. The order's workflow runs on past confirmation."""
    await open_todos(session_factory, order, "plan_shipment")
    async with session_factory() as session:
        saved = await session.get(Order, order.id)
    assert saved.confirmed_at is not None, f"{saved.number} is not confirmed"
    assert await handle.query("status") == "fulfilment"
    return saved


async def price_change(
    client: Client, session_factory: SessionFactory, order: Order, number: int = 1
) -> None:
    """Pricing estimate change request `number`'s lines (a change of goods or quantities asks
    them): each at the unit cost already estimated where the goods stay, at the product's
    standard cost where they change; the other costs as they stand."""
    [todo] = [
        t
        for t in await open_todos(session_factory, order, "estimate_cost")
        if t.key.endswith(f"/change/{number}/estimate")
    ]
    facts = todo.facts
    lines = [
        LineCost(
            line_id=line["line_id"], unit_cost=Decimal(line["unit_cost"] or line["standard_cost"])
        )
        for line in facts["lines"]
    ]
    estimate = CostEstimate(
        lines=lines,
        freight=Decimal(facts["freight"]),
        installation=Decimal(facts["installation"]),
        other=Decimal(facts["other"]),
    )
    pricing = await actor(session_factory, "pricing")
    handle = client.get_workflow_handle_for(OrderWorkflow.run, f"order-{order.number}")
    await handle.execute_update(
        OrderWorkflow.estimate_cost,
        EstimateCompletion(todo_key=todo.key, actor=pricing, estimate=estimate),
    )


def order_handle(env: WorkflowEnvironment, order: Order) -> WorkflowHandle:
    """The order's workflow."""
    return env.client.get_workflow_handle_for(OrderWorkflow.run, f"order-{order.number}")


async def saved(session_factory: SessionFactory, order: Order) -> Order:
    """The order as it is saved now."""
    async with session_factory() as session:
        found = await session.get(Order, order.id)
    assert found is not None
    return found


async def events(session_factory: SessionFactory, order: Order) -> list[str]:
    """The kinds of the order's timeline entries, oldest first."""
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(TimelineEvent.kind)
                .where(TimelineEvent.order_id == order.id)
                .order_by(TimelineEvent.id)
            )
        )


def order_row(
    *, number: str, owner: User, customer_id: int, total: Decimal, at: datetime, **columns: Any
) -> Order:
    """An order written straight to the database rather than through its workflow, as the
    report tests build their data sets: the owner's department, domestic, the list total its
    total, in collection, created, updated and confirmed `at`; any other column as given."""
    row: dict[str, Any] = {
        "number": number,
        "customer_id": customer_id,
        "owner_id": owner.id,
        "department_id": owner.department_id,
        "shipping_mode": "domestic",
        "total": total,
        "list_total": total,
        "stage": "collection",
        "created_at": at,
        "updated_at": at,
        "confirmed_at": at,
    }
    return Order(**{**row, **columns})
