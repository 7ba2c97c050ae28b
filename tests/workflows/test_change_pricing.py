"""Change requests and pricing on the time-skipping server: a change of products or quantities
asks pricing again (an estimate_cost to-do for the change) before its approve_change round,
which is routed on the margin that estimate gives; a change of prices, dates or the plan only is
routed on the kept estimate's margin; and a change asked while the order is still in its own
approval keeps its round's number apart from the order's next round."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models.tables import ApprovalRound, ApprovalStep, Order, Todo
from tests import helpers
from tests.workflows.test_changes import decide_change, request_change, settled
from tests.workflows.test_order import decide, estimate, revise
from worker import build_worker

pytestmark = pytest.mark.own_test_server


@pytest.fixture
async def worker(env, session_factory, settings):
    async with build_worker(env.client, session_factory, settings) as running:
        yield running


async def rounds_by_workflow(session_factory, order: Order) -> dict[str, list[int]]:
    """The workflow id of each approve or approve_change to-do, and the numbers of the rounds
    its steps are recorded under."""
    async with session_factory() as session:
        rows = await session.execute(
            select(Todo.workflow_id, ApprovalRound.number)
            .join(ApprovalStep, ApprovalStep.todo_id == Todo.id)
            .join(ApprovalRound, ApprovalRound.id == ApprovalStep.round_id)
            .where(Todo.order_id == order.id)
            .order_by(ApprovalRound.number)
        )
        found: dict[str, list[int]] = {}
        for workflow_id, number in rows:
            found.setdefault(workflow_id, [])
            if number not in found[workflow_id]:
                found[workflow_id].append(number)
        return found


async def test_a_change_asked_during_the_orders_approval_keeps_its_round_apart_from_the_next_one(
    env, session_factory, settings, worker
):
    order = await helpers.draft(session_factory)
    await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    await helpers.open_todos(session_factory, order, "approve")  # the order's round 1
    later = date.today() + timedelta(days=40)
    await request_change(env, session_factory, order, requested_delivery_date=later)
    await helpers.open_todos(session_factory, order, "approve_change")  # the change's round
    await decide(
        env.client, session_factory, order, "sales_manager", "reject", "Ask the customer again"
    )
    await decide_change(env, session_factory, order, "sales_manager")
    await settled(session_factory, order, "approved")
    await revise(env.client, session_factory, order)  # the order's next round, on the kept cost
    await helpers.open_todos(session_factory, order, "approve")

    wid = f"order-{order.number}"
    rounds = await rounds_by_workflow(session_factory, order)
    change_round = rounds.pop(f"{wid}/change/1/approval")
    assert len(change_round) == 1
    # Each of the order's rounds is recorded under the number its workflow id carries, and
    # none under the change's.
    assert rounds == {f"{wid}/approval/{n}": [n] for [n] in rounds.values()}
    assert len(rounds) == 2 and change_round[0] not in {n for [n] in rounds.values()}
    async with session_factory() as session:
        numbers = list(
            await session.scalars(
                select(ApprovalRound.number).where(ApprovalRound.order_id == order.id)
            )
        )
        saved = await session.get(Order, order.id)
    assert sorted(numbers) == [1, 2, 3]
    assert f"{wid}/approval/{saved.approval_round}" in rounds


async def test_a_change_asked_while_pricing_estimates_the_order_leaves_the_order_its_own_round(
    env, session_factory, settings, worker
):
    order = await helpers.draft(session_factory)
    await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await helpers.open_todos(session_factory, order, "estimate_cost")
    later = date.today() + timedelta(days=40)
    await request_change(env, session_factory, order, requested_delivery_date=later)
    await helpers.open_todos(session_factory, order, "approve_change")
    await estimate(env.client, session_factory, order)
    await helpers.open_todos(session_factory, order, "approve")

    wid = f"order-{order.number}"
    rounds = await rounds_by_workflow(session_factory, order)
    [change_number] = rounds.pop(f"{wid}/change/1/approval")
    [(order_round, [number])] = rounds.items()
    assert order_round == f"{wid}/approval/{number}" and number != change_number
