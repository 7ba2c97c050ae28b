"""OrderWorkflow on the time-skipping test server, with the real activities over SQLite."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.worker import Worker

from models.domain import CostEstimate, Decision, EstimateCompletion, LineCost, Stage
from models.tables import ApprovalRound, Order, OutboxMail, TimelineEvent, Todo
from tests import helpers
from worker import build_worker
from workflows.approval import ApprovalWorkflow
from workflows.order import OrderWorkflow


@pytest.fixture
async def worker(env, session_factory, settings):
    async with build_worker(env.client, session_factory, settings) as running:
        yield running


async def estimate(env, session_factory, order, *, unit_cost="5000", freight="300"):
    [todo] = await helpers.open_todos(session_factory, order, "estimate_cost")
    async with session_factory() as session:
        lines = (await session.scalars(
            select(Order).where(Order.id == order.id)
        )).first()
    pricing = await helpers.actor(session_factory, "pricing")
    handle = env.client.get_workflow_handle(todo.workflow_id)
    async with session_factory() as session:
        from models.tables import OrderLine

        line_ids = list(await session.scalars(
            select(OrderLine.id).where(OrderLine.order_id == order.id)
        ))
    del lines
    return await handle.execute_update(
        OrderWorkflow.estimate_cost,
        EstimateCompletion(
            todo_key=todo.key,
            actor=pricing,
            estimate=CostEstimate(
                lines=[LineCost(line_id=i, unit_cost=Decimal(unit_cost)) for i in line_ids],
                freight=Decimal(freight),
            ),
        ),
    )


async def decide(env, session_factory, order, username, outcome="approve", comment=""):
    [todo] = await helpers.open_todos(session_factory, order, "approve")
    who = await helpers.actor(session_factory, username)
    handle = env.client.get_workflow_handle(todo.workflow_id)
    return await handle.execute_update(
        ApprovalWorkflow.decide,
        Decision(todo_key=todo.key, actor=who, outcome=outcome, comment=comment),
    )


async def test_approved_order_is_confirmed(env, session_factory, settings, worker: Worker):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env, session_factory, order)
    done = await decide(env, session_factory, order, "sales_manager")
    assert done.stage == Stage.approval
    result = await handle.result()
    assert result.stage == Stage.confirmed
    async with session_factory() as session:
        saved = await session.get(Order, order.id)
        assert saved.stage == "confirmed"
        assert saved.expected_cost == Decimal("10300.00")
        assert saved.expected_margin == Decimal("6700.00")
        kinds = list(await session.scalars(
            select(TimelineEvent.kind).where(TimelineEvent.order_id == order.id)
            .order_by(TimelineEvent.id)
        ))
        assert kinds == [
            "created", "submitted", "estimated", "approval_requested", "approved", "confirmed"
        ]
        [approval_round] = await session.scalars(select(ApprovalRound))
        assert approval_round.status == "approved"
        assert await session.scalar(select(func.count()).select_from(OutboxMail)) >= 3
        open_count = await session.scalar(
            select(func.count()).select_from(Todo).where(Todo.status == "open")
        )
        assert open_count == 0
