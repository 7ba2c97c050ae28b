"""An approved change reaches the shipment, on the time-skipping server: before dispatch ops
re-plan the timetable and the milestone timers move to the new dates; not planned yet, the
plan_shipment to-do covers it; after dispatch the extra quantity goes in a new dispatch round,
and the shipment ends once it arrived."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from models.domain import (
    MILESTONES,
    ArrivalConfirmation,
    PlannedMilestone,
    PlanShipment,
    ShippingMode,
)
from models.tables import OrderLine, StockReservation, Todo
from tests import helpers
from tests.workflows.test_changes import decide_change, quantity_change, settled
from tests.workflows.test_shipment import (
    confirmed_order,
    dispatch,
    milestones_of,
    plan,
    saved,
    shipment_of,
    stock,
    today,
    todo,
)
from workflows.shipment import ShipmentWorkflow
from workflows.steps import INVALID, NOT_ASSIGNEE

pytestmark = pytest.mark.own_test_server


async def approved_change(env, session_factory, order, quantity: str) -> None:
    await quantity_change(env, session_factory, order, quantity)
    await decide_change(env, session_factory, order, "sales_manager")
    assert (await settled(session_factory, order, "approved"))[-1][1] == "approved"


async def open_of(session_factory, order, kind: str) -> list[Todo]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(Todo).where(
                    Todo.order_id == order.id, Todo.kind == kind, Todo.status == "open"
                )
            )
        )


async def reserved_in_round(session_factory, order, round_: int) -> list[Decimal]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(StockReservation.quantity)
                .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
                .where(OrderLine.order_id == order.id, StockReservation.round == round_)
            )
        )


async def test_a_change_before_dispatch_gives_ops_a_replan_that_moves_the_milestone_timers(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    await plan(env, session_factory, order, start=1, step=5)  # picking due tomorrow
    await approved_change(env, session_factory, order, "3")

    replan = await todo(session_factory, order, "replan_shipment")
    assert [a.role for a in replan.assignees] == ["ops"]
    assert await open_of(session_factory, order, "plan_shipment") == []
    day = await today(env)
    moved = [
        PlannedMilestone(code=code, planned_date=day + timedelta(days=4 + 5 * i))
        for i, code in enumerate(MILESTONES[ShippingMode.domestic])
    ]
    shipment = shipment_of(env, order)
    warehouse = await helpers.actor(session_factory, "warehouse")
    with pytest.raises(WorkflowUpdateFailedError) as refused:  # ops' to-do, not theirs
        await shipment.execute_update(
            ShipmentWorkflow.replan_shipment,
            PlanShipment(todo_key=replan.key, actor=warehouse, milestones=moved),
        )
    assert refused.value.cause.type == NOT_ASSIGNEE
    ops = await helpers.actor(session_factory, "ops")
    past = [moved[0].model_copy(update={"planned_date": day - timedelta(days=1)}), *moved[1:]]
    with pytest.raises(WorkflowUpdateFailedError) as refused:  # a date in the past
        await shipment.execute_update(
            ShipmentWorkflow.replan_shipment,
            PlanShipment(todo_key=replan.key, actor=ops, milestones=past),
        )
    assert refused.value.cause.type == INVALID
    await shipment.execute_update(
        ShipmentWorkflow.replan_shipment,
        PlanShipment(todo_key=replan.key, actor=ops, milestones=moved),
    )

    assert (await milestones_of(session_factory, order))["picking"][0] == day + timedelta(days=4)
    assert await open_of(session_factory, order, "replan_shipment") == []
    await env.sleep(timedelta(days=2, hours=1))
    assert (await saved(session_factory, order)).delayed is False  # the old date passed quietly
    await env.sleep(timedelta(days=3))
    assert (await saved(session_factory, order)).delayed is True  # late on its new date


async def test_a_change_before_the_shipment_is_planned_is_left_to_the_plan_todo(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    await approved_change(env, session_factory, order, "3")
    await asyncio.sleep(1)  # the order tells the shipment after the change is written
    assert await open_of(session_factory, order, "replan_shipment") == []
    assert len(await open_of(session_factory, order, "plan_shipment")) == 1
    await plan(env, session_factory, order, start=1)
    assert await open_of(session_factory, order, "replan_shipment") == []


async def test_extra_quantity_after_dispatch_goes_in_a_new_dispatch_round(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings, quantity="2")
    await plan(env, session_factory, order, start=0, step=2)
    on_hand, reserved = await stock(session_factory, "PUMP-10")
    await dispatch(env, session_factory, order)
    await approved_change(env, session_factory, order, "3")

    second = await todo(session_factory, order, "confirm_dispatch")
    assert second.key.endswith("/dispatch/2")
    assert await reserved_in_round(session_factory, order, 2) == [Decimal("1")]
    assert await open_of(session_factory, order, "replan_shipment") == []
    shipment = shipment_of(env, order)
    ops = await helpers.actor(session_factory, "ops")
    first_arrival = await todo(session_factory, order, "confirm_arrival")
    await shipment.execute_update(
        ShipmentWorkflow.confirm_arrival,
        ArrivalConfirmation(actual_date=await today(env), actor=ops, todo_key=first_arrival.key),
    )
    # The first goods arrived, the extra goods have not left: the shipment goes on.
    assert (await shipment.describe()).status == WorkflowExecutionStatus.RUNNING

    await dispatch(env, session_factory, order, tracking="SF3333333333")
    assert await stock(session_factory, "PUMP-10") == (on_hand - 3, reserved - 2)
    arrival = await todo(session_factory, order, "confirm_arrival")
    assert arrival.key.endswith("/arrival/2")
    await shipment.execute_update(
        ShipmentWorkflow.confirm_arrival,
        ArrivalConfirmation(actual_date=await today(env), actor=ops, todo_key=arrival.key),
    )
    await shipment.result()  # all goods arrived: the shipment ends
