"""A partial dispatch on the time-skipping server: the warehouse sends some lines and quantities
now and the rest in a later round, each on the day it happened; stock leaves once per quantity
that left, also when a step is retried; the dispatch milestone, the arrival and the order's
collection follow once everything has left."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.worker import Worker

from models.domain import ArrivalConfirmation, DispatchConfirmation, DispatchLine, ShippingMode
from models.drafts import DraftLine, DraftOrder, create_draft
from models.tables import (
    Dispatch,
    Order,
    OrderLine,
    Product,
    StockReservation,
    TimelineEvent,
    Todo,
    User,
)
from tests import helpers
from tests.helpers import saved
from tests.workflows.test_order import decide, estimate, fails_first_attempt
from tests.workflows.test_shipment import (
    mails_about,
    milestones_of,
    plan,
    shipment_of,
    stock,
    today,
)
from worker import WORKFLOWS, activities_for
from workflows.shipment import ShipmentWorkflow
from workflows.steps import INVALID


async def two_line_order(env, session_factory, settings) -> tuple[Order, dict[str, int]]:
    """A confirmed domestic order of 5 pumps and 10 valves (no installation), its shipment
    planned; the line ids by product code."""
    async with session_factory() as session:
        products = {
            p.code: p
            for p in await session.scalars(
                select(Product).where(Product.code.in_(["PUMP-10", "VALVE-3"]))
            )
        }
        owner = await session.scalar(select(User).where(User.username == "sales"))
        order = await create_draft(
            session=session,
            user=owner,
            draft=DraftOrder(
                customer_id=1,
                shipping_mode=ShippingMode.domestic,
                lines=[
                    DraftLine(product_id=products["PUMP-10"].id, quantity=Decimal("5")),
                    DraftLine(product_id=products["VALVE-3"].id, quantity=Decimal("10")),
                ],
            ),
        )
        lines = {
            code: line_id
            for code, line_id in await session.execute(
                select(Product.code, OrderLine.id)
                .join(OrderLine, OrderLine.product_id == Product.id)
                .where(OrderLine.order_id == order.id)
            )
        }
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order, unit_cost="500")
    await decide(env.client, session_factory, order, "sales_manager")
    await helpers.confirmed(handle, session_factory, order)
    await plan(env, session_factory, order, start=0, step=2)
    return order, lines


async def dispatch_todo(session_factory, order) -> Todo:
    [found] = await helpers.open_todos(session_factory, order, "confirm_dispatch")
    return found


async def send(env, session_factory, order, *, lines=None, tracking="SF1", on=None):
    """The warehouse completes the open dispatch to-do: `lines` {line id: quantity} or all."""
    found = await dispatch_todo(session_factory, order)
    warehouse = await helpers.actor(session_factory, "warehouse")
    return await shipment_of(env, order).execute_update(
        ShipmentWorkflow.confirm_dispatch,
        DispatchConfirmation(
            todo_key=found.key,
            actor=warehouse,
            carrier="SF Express",
            tracking_number=tracking,
            dispatched_on=on or await today(env),
            lines=None
            if lines is None
            else [DispatchLine(line_id=i, quantity=Decimal(q)) for i, q in lines.items()],
        ),
    )


async def reservations(session_factory, order) -> list[tuple[int, int, Decimal, bool, int | None]]:
    async with session_factory() as session:
        rows = await session.scalars(
            select(StockReservation)
            .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
            .where(OrderLine.order_id == order.id)
            .order_by(StockReservation.round, StockReservation.order_line_id)
        )
        return [
            (r.round, r.order_line_id, r.quantity, r.taken_at is not None, r.part_of) for r in rows
        ]


@pytest.mark.own_test_server  # it skips a day: not over other tests' timers
async def test_two_rounds_take_each_quantity_once_and_the_milestone_waits_for_the_rest(
    env, session_factory, settings, worker
):
    order, line = await two_line_order(env, session_factory, settings)
    pumps, valves = await stock(session_factory, "PUMP-10"), await stock(session_factory, "VALVE-3")
    first_day = await today(env)

    await send(env, session_factory, order, lines={line["PUMP-10"]: "2"}, tracking="SF-PART-1")

    # 2 pumps left; the other 3 pumps and all 10 valves wait in round 2, still reserved
    assert await stock(session_factory, "PUMP-10") == (pumps[0] - 2, pumps[1] - 2)
    assert await stock(session_factory, "VALVE-3") == valves
    assert await reservations(session_factory, order) == [
        (1, line["PUMP-10"], Decimal("2"), True, None),
        (2, line["PUMP-10"], Decimal("3"), False, 1),
        (2, line["VALVE-3"], Decimal("10"), False, 1),
    ]
    rest = await dispatch_todo(session_factory, order)
    assert rest.key.endswith("/dispatch/2")
    milestones = await milestones_of(session_factory, order)
    assert milestones["picking"][1] == first_day and milestones["dispatch"][1] is None
    assert (await saved(session_factory, order)).shipment_status == "awaiting_dispatch"
    assert await helpers.open_todos(session_factory, order, "confirm_arrival", at_least=0) == []
    assert await mails_about(session_factory, "Part of your order") != {}

    await env.sleep(timedelta(days=1))
    await send(env, session_factory, order, tracking="SF-PART-2")

    assert await stock(session_factory, "PUMP-10") == (pumps[0] - 5, pumps[1] - 5)
    assert await stock(session_factory, "VALVE-3") == (valves[0] - 10, valves[1] - 10)
    # the dispatch milestone carries the day the first goods left
    assert (await milestones_of(session_factory, order))["dispatch"][1] == first_day
    async with session_factory() as session:
        rounds = list(
            await session.execute(
                select(Dispatch.round, Dispatch.tracking_number)
                .where(Dispatch.order_id == order.id)
                .order_by(Dispatch.round)
            )
        )
        kinds = list(
            await session.scalars(
                select(TimelineEvent.kind)
                .where(TimelineEvent.order_id == order.id)
                .order_by(TimelineEvent.id)
            )
        )
    assert [tuple(r) for r in rounds] == [(1, "SF-PART-1"), (2, "SF-PART-2")]
    assert "dispatched_in_part" in kinds and "dispatched" in kinds

    # the arrival and the order's collection follow as for a whole dispatch
    [arrival] = await helpers.open_todos(session_factory, order, "confirm_arrival")
    assert arrival.key.endswith("/arrival/2")
    ops = await helpers.actor(session_factory, "ops")
    await shipment_of(env, order).execute_update(
        ShipmentWorkflow.confirm_arrival,
        ArrivalConfirmation(actual_date=await today(env), actor=ops, todo_key=arrival.key),
    )
    for _ in range(100):
        if (await saved(session_factory, order)).stage == "collection":
            break
        await env.sleep(timedelta(seconds=1))
    assert (await saved(session_factory, order)).stage == "collection"


async def test_a_retried_partial_dispatch_takes_stock_and_splits_the_rest_once(
    env, session_factory, settings
):
    attempts: list[int] = []
    activities = [
        fails_first_attempt(fn, attempts) if fn.__name__ == "dispatch" else fn
        for fn in activities_for(session_factory, settings, None)
    ]
    async with Worker(
        env.client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities
    ):
        order, line = await two_line_order(env, session_factory, settings)
        pumps = await stock(session_factory, "PUMP-10")
        await send(env, session_factory, order, lines={line["PUMP-10"]: "4", line["VALVE-3"]: "0"})
        assert attempts == [1, 2]
        assert await stock(session_factory, "PUMP-10") == (pumps[0] - 4, pumps[1] - 4)
        assert [r[:3] for r in await reservations(session_factory, order)] == [
            (1, line["PUMP-10"], Decimal("4")),
            (2, line["PUMP-10"], Decimal("1")),
            (2, line["VALVE-3"], Decimal("10")),
        ]
        await send(env, session_factory, order, tracking="SF2")
        assert attempts == [1, 2, 1, 2]
        assert await stock(session_factory, "PUMP-10") == (pumps[0] - 5, pumps[1] - 5)
        assert len(await helpers.open_todos(session_factory, order, "confirm_arrival")) == 1


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ({"PUMP-10": "6"}, "Line {PUMP-10}: only 5 is left to dispatch."),
        ({"PUMP-10": "0", "VALVE-3": "0"}, "Give a quantity to dispatch for at least one line."),
        ({"PUMP-10": "-1"}, "Line {PUMP-10}: the quantity to dispatch cannot be negative."),
        ({0: "1"}, "Line 0 is not a line of this order."),
    ],
)
async def test_a_bad_partial_dispatch_is_refused_and_changes_nothing(
    env, session_factory, settings, worker, lines, message
):
    order, line = await two_line_order(env, session_factory, settings)
    before = await stock(session_factory, "PUMP-10")
    held = await reservations(session_factory, order)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await send(env, session_factory, order, lines={line.get(k, k): q for k, q in lines.items()})
    assert refused.value.cause.type == INVALID
    assert refused.value.cause.message == message.format_map({str(k): v for k, v in line.items()})
    assert await stock(session_factory, "PUMP-10") == before
    assert await reservations(session_factory, order) == held
    assert (await dispatch_todo(session_factory, order)).key.endswith("/dispatch/1")


async def test_a_dispatch_date_in_the_future_or_before_confirmation_is_refused(
    env, session_factory, settings, worker
):
    order, _ = await two_line_order(env, session_factory, settings)
    day = await today(env)
    for on, message in (
        (day + timedelta(days=1), "The dispatch date cannot be in the future."),
        (
            day - timedelta(days=1),
            f"The dispatch date cannot be before the order was confirmed ({day.isoformat()}).",
        ),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await send(env, session_factory, order, on=on)
        assert refused.value.cause.message == message
    assert (await saved(session_factory, order)).shipment_status == "awaiting_dispatch"
