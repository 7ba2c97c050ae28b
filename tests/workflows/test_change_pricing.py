"""Change requests and pricing on the time-skipping server: a change of products or quantities
asks pricing again (an estimate_cost to-do for the change) before its approve_change round,
which is routed on the margin that estimate gives; a change of prices, dates or the plan only is
routed on the kept estimate's margin; and a change asked while the order is still in its own
approval keeps its round's number apart from the order's next round."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError

from models.domain import CostEstimate, EstimateCompletion, LineCost, TodoKind
from models.domain.changes import LineChange, WithdrawChange
from models.tables import (
    ApprovalRound,
    ApprovalStep,
    Order,
    OrderChangeRequest,
    OrderLine,
    Product,
    TimelineEvent,
    Todo,
)
from tests import helpers
from tests.workflows.test_cancellation import cancel
from tests.workflows.test_changes import (
    decide_change,
    line_ids,
    order_handle,
    quantity_change,
    request_change,
    saved,
    settled,
)
from tests.workflows.test_collection import confirmed_order
from tests.workflows.test_order import decide, estimate, revise
from workflows.order import OrderWorkflow
from workflows.steps import INVALID, NOT_OPEN

pytestmark = pytest.mark.own_test_server


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


async def test_goods_cannot_change_while_pricing_estimate_the_order_itself(
    env, session_factory, settings, worker
):
    """Their estimate covers the lines as submitted: a change of goods or quantities applied
    before it came in would leave a line without a cost (the estimate step failed on it)."""
    order = await helpers.draft(session_factory)
    await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await helpers.open_todos(session_factory, order, "estimate_cost")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await quantity_change(env, session_factory, order, "3", priced=False)
    assert refused.value.cause.message == (
        f"Pricing are still estimating order {order.number}: its goods and quantities can"
        " change once their estimate is in."
    )
    async with session_factory() as session:
        asked = await session.scalar(select(func.count()).select_from(OrderChangeRequest))
    assert asked == 0  # nothing written
    await estimate(env.client, session_factory, order)  # the order goes on as it was
    await helpers.open_todos(session_factory, order, "approve")


# --- pricing a change of products or quantities ---------------------------------------------


async def change_estimate_todo(session_factory, order: Order, number: int = 1) -> Todo:
    [todo] = [
        t
        for t in await helpers.open_todos(session_factory, order, TodoKind.estimate_cost.value)
        if t.key.endswith(f"/change/{number}/estimate")
    ]
    return todo


async def estimate_change(
    env, session_factory, order: Order, unit_costs: dict[int, str], freight: str = "0"
):
    """Pricing complete the change's estimate_cost to-do, as the web layer sends it."""
    todo = await change_estimate_todo(session_factory, order)
    pricing = await helpers.actor(session_factory, "pricing")
    return await order_handle(env, order).execute_update(
        OrderWorkflow.estimate_cost,
        EstimateCompletion(
            todo_key=todo.key,
            actor=pricing,
            estimate=CostEstimate(
                lines=[LineCost(line_id=i, unit_cost=Decimal(c)) for i, c in unit_costs.items()],
                freight=Decimal(freight),
            ),
        ),
    )


async def approve_change_todos(session_factory, order: Order) -> list[Todo]:
    return await helpers.open_todos(session_factory, order, TodoKind.approve_change.value)


async def open_kinds(session_factory, order: Order) -> list[str]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(Todo.kind).where(Todo.order_id == order.id, Todo.status == "open")
            )
        )


async def test_a_quantity_change_asks_pricing_again_and_the_order_takes_its_estimate(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)  # 2 pumps at 1,000 each
    [line] = await line_ids(session_factory, order)
    asked = await quantity_change(env, session_factory, order, "3", priced=False)

    assert asked.status == "open"
    todo = await change_estimate_todo(session_factory, order)
    assert [a.role for a in todo.assignees] == ["pricing"]
    assert todo.workflow_id == f"order-{order.number}"
    assert todo.facts["change_request"] == 1
    [shown] = todo.facts["lines"]
    assert (shown["line_id"], shown["quantity"], shown["unit_cost"]) == (line, "3", None)
    assert "approve_change" not in await open_kinds(session_factory, order)  # pricing first

    await estimate_change(env, session_factory, order, {line: "1200"}, freight="100")
    [approval] = await approve_change_todos(session_factory, order)
    assert Decimal(approval.facts["expected_margin"]) == Decimal("21800.00")  # 25,500 - 3,700
    await decide_change(env, session_factory, order, "sales_manager")

    assert await settled(session_factory, order, "approved") == [(1, "approved")]
    changed = await saved(session_factory, order)
    assert (changed.revision, changed.total) == (2, Decimal("25500.00"))
    assert (changed.expected_cost, changed.expected_margin) == (
        Decimal("3700.00"),
        Decimal("21800.00"),
    )
    async with session_factory() as session:
        unit_cost = await session.scalar(select(OrderLine.unit_cost).where(OrderLine.id == line))
        estimated = await session.scalar(
            select(TimelineEvent).where(TimelineEvent.kind == "change_estimated")
        )
    assert unit_cost == Decimal("1200")
    # raw amounts, as the order's own estimate records them (the page formats them)
    assert estimated.details["number"] == "1" and estimated.details["expected_margin"] == (
        "21800.00"
    )


async def test_a_change_whose_estimate_leaves_a_thin_margin_goes_to_the_director(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    [line] = await line_ids(session_factory, order)
    async with session_factory() as session:
        valve = await session.scalar(select(Product).where(Product.code == "VALVE-3"))
    lines = [
        LineChange(line_id=line, quantity=Decimal("3")),
        LineChange(product_id=valve.id, quantity=Decimal("5")),  # a new line: -1 in the estimate
    ]
    await request_change(env, session_factory, order, lines=lines)
    todo = await change_estimate_todo(session_factory, order)
    assert [(ln["line_id"], ln["product_code"]) for ln in todo.facts["lines"]] == [
        (line, "PUMP-10"),
        (-1, "VALVE-3"),
    ]
    # Every line of the order as changed needs its unit cost, the new one too.
    with pytest.raises(WorkflowUpdateFailedError) as missing:
        await estimate_change(env, session_factory, order, {line: "8000"})
    assert missing.value.cause.type == INVALID and "[-1]" in missing.value.cause.message

    # 3 x 8,000 + 5 x 1,000 against 31,500: a margin of 8 %, under the policy's 15 %.
    await estimate_change(env, session_factory, order, {line: "8000", -1: "1000"})
    await decide_change(env, session_factory, order, "sales_manager")
    [director] = await approve_change_todos(session_factory, order)
    assert [a.role for a in director.assignees] == ["director"]
    assert Decimal(director.facts["expected_margin_percent"]) < Decimal("15")
    await decide_change(env, session_factory, order, "director")

    assert await settled(session_factory, order, "approved") == [(1, "approved")]
    changed = await saved(session_factory, order)
    assert (changed.total, changed.expected_cost) == (Decimal("31500.00"), Decimal("29000.00"))
    async with session_factory() as session:
        costs = list(
            await session.execute(
                select(OrderLine.quantity, OrderLine.unit_cost)
                .where(OrderLine.order_id == order.id)
                .order_by(OrderLine.position)
            )
        )
    assert costs == [(Decimal("3"), Decimal("8000")), (Decimal("5"), Decimal("1000"))]


async def test_a_price_change_alone_is_not_priced_and_is_weighed_on_the_kept_estimate(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)  # cost 2 x 1,000 + 300
    await quantity_change(
        env, session_factory, order, "2", priced=False, unit_price=Decimal("8000")
    )
    [approval] = await approve_change_todos(session_factory, order)

    assert TodoKind.estimate_cost.value not in await open_kinds(session_factory, order)
    assert Decimal(approval.facts["expected_margin"]) == Decimal("13700.00")  # 16,000 - 2,300
    await decide_change(env, session_factory, order, "sales_manager")
    assert await settled(session_factory, order, "approved") == [(1, "approved")]
    changed = await saved(session_factory, order)
    assert (changed.total, changed.expected_cost, changed.expected_margin) == (
        Decimal("16000.00"),
        Decimal("2300.00"),
        Decimal("13700.00"),
    )


async def test_a_change_withdrawn_while_pricing_cancels_their_todo_and_changes_nothing(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    before = await saved(session_factory, order)
    await quantity_change(env, session_factory, order, "4", priced=False)
    todo = await change_estimate_todo(session_factory, order)
    sales = await helpers.actor(session_factory, "sales")

    done = await order_handle(env, order).execute_update(
        OrderWorkflow.withdraw_change, WithdrawChange(actor=sales, number=1)
    )

    assert done.status == "withdrawn"
    assert await settled(session_factory, order, "withdrawn") == [(1, "withdrawn")]
    async with session_factory() as session:
        status = await session.scalar(select(Todo.status).where(Todo.id == todo.id))
    assert status == "cancelled"
    with pytest.raises(WorkflowUpdateFailedError) as late:
        await order_handle(env, order).execute_update(
            OrderWorkflow.estimate_cost,
            EstimateCompletion(
                todo_key=todo.key,
                actor=await helpers.actor(session_factory, "pricing"),
                estimate=CostEstimate(lines=[]),
            ),
        )
    assert late.value.cause.type == NOT_OPEN
    kept = await saved(session_factory, order)
    assert (kept.revision, kept.total, kept.expected_cost, kept.expected_margin) == (
        before.revision,
        before.total,
        before.expected_cost,
        before.expected_margin,
    )
    assert await open_kinds(session_factory, order) == ["plan_shipment"]


async def test_an_order_cancelled_while_pricing_estimates_its_change_closes_the_change(
    env, session_factory, settings, worker
):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    await helpers.open_todos(session_factory, order, "approve")  # the order's round 1
    await quantity_change(env, session_factory, order, "3", priced=False)
    todo = await change_estimate_todo(session_factory, order)

    await cancel(env, session_factory, order)

    assert (await handle.result()).stage == "cancelled"
    assert await requests_with_comment(session_factory, order) == [
        (1, "withdrawn", "The order is cancelled.")
    ]
    async with session_factory() as session:
        status = await session.scalar(select(Todo.status).where(Todo.id == todo.id))
    assert status == "cancelled"
    assert (await saved(session_factory, order)).revision == 1


async def requests_with_comment(session_factory, order: Order) -> list[tuple[int, str, str]]:
    async with session_factory() as session:
        rows = await session.execute(
            select(
                OrderChangeRequest.number, OrderChangeRequest.status, OrderChangeRequest.comment
            ).where(OrderChangeRequest.order_id == order.id)
        )
        return [tuple(row) for row in rows]
