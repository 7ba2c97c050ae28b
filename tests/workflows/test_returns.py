"""Returns on the time-skipping server: asked for after dispatch, approved by the owner's
manager, received by the warehouse (part restocked, part scrapped); the net total drops by the
value that came back, unpaid installments shrink (the latest first), money paid above the new
net total is refunded and invoiced above it credited. Refused where it must be; retried steps
move no stock and open no refund twice."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.worker import Worker

from models.domain import Decision, ReceivedLine, ReturnLine, ReturnReceipt, ReturnRequest
from models.tables import Cancellation, CreditNote, OrderLine, OrderReturn, OutboxMail, Refund
from tests import helpers
from tests.helpers import events, order_handle, saved
from tests.workflows.test_cancellation import credit, issue_invoice, refund, request_and_approve
from tests.workflows.test_collection import (
    PLAN_30_60_10,
    accept,
    confirmed_order,
    installments,
    pay,
)
from tests.workflows.test_order import RecordingMailer, all_mail_sent, fails_first_attempt
from tests.workflows.test_shipment import dispatch, plan, stock
from worker import WORKFLOWS, activities_for
from workflows.approval import ApprovalWorkflow
from workflows.order import OrderWorkflow
from workflows.steps import NOT_ASSIGNEE, NOT_OPEN

D = Decimal
# Each on a test server of its own: the tests skip time to the installments' due dates.
pytestmark = pytest.mark.own_test_server


async def line_id(session_factory, order) -> int:
    async with session_factory() as session:
        [line] = await session.scalars(select(OrderLine.id).where(OrderLine.order_id == order.id))
    return line


async def ask(env, session_factory, order, quantity: str, who="sales", why="Damaged in transit"):
    actor = await helpers.actor(session_factory, who)
    line = await line_id(session_factory, order)
    asked = [ReturnLine(line_id=line, quantity=D(quantity))]
    return await order_handle(env, order).execute_update(
        OrderWorkflow.request_return, ReturnRequest(actor=actor, lines=asked, reason=why)
    )


async def approve(env, session_factory, order, who="sales_manager", outcome="approve", why=""):
    [todo] = await helpers.open_todos(session_factory, order, "approve_return")
    actor = await helpers.actor(session_factory, who)
    round_ = env.client.get_workflow_handle_for(ApprovalWorkflow.run, todo.workflow_id)
    await round_.execute_update(
        ApprovalWorkflow.decide,
        Decision(todo_key=todo.key, actor=actor, outcome=outcome, comment=why),
    )


async def receive(env, session_factory, order, *conditions, close_reason=""):
    """The warehouse receive (quantity, condition) pieces of the order's one line."""
    [todo] = await helpers.open_todos(session_factory, order, "receive_return")
    warehouse = await helpers.actor(session_factory, "warehouse")
    line = await line_id(session_factory, order)
    lines = [ReceivedLine(line_id=line, quantity=D(q), condition=c) for q, c in conditions]
    return await order_handle(env, order).execute_update(
        OrderWorkflow.receive_return,
        ReturnReceipt(
            todo_key=todo.key, actor=warehouse, lines=lines,
            close_rest=bool(close_reason), close_reason=close_reason,
        ),
    )  # fmt: skip


async def settled_installments(session_factory, order, expected, tries=200):
    """The installment rows once the collection took the reduced amounts."""
    for _ in range(tries):
        now = [(amount, paid) for amount, paid, _ in await installments(session_factory, order)]
        if now == expected:
            return now
        await asyncio.sleep(0.05)
    return now


async def test_a_partial_return_after_acceptance_restocks_part_scraps_part_and_settles_money(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(
        env, session_factory, settings, plan_items=PLAN_30_60_10, quantity="4"
    )
    total = (await saved(session_factory, order)).total  # 4 × 8,500
    amounts = [a for a, _, _ in await installments(session_factory, order)]
    await pay(env, session_factory, order, str(amounts[0]), "DEP-1")
    await issue_invoice(env, session_factory, order, str(amounts[0] + amounts[1]), "INV-1")
    await accept(env, session_factory, order)
    await pay(env, session_factory, order, str(amounts[1]), "BAL-1")
    on_hand_before = (await stock(session_factory, "PUMP-10"))[0]

    asked = await ask(env, session_factory, order, "2")
    assert asked.number == 1
    await approve(env, session_factory, order)
    await receive(env, session_factory, order, ("1", "restock"), ("1", "scrap"))

    assert (await stock(session_factory, "PUMP-10"))[0] == on_hand_before + 1  # scrap stays out
    saved_order = await saved(session_factory, order)
    value = total / 2
    assert (saved_order.returned, saved_order.net_total) == (value, total - value)
    # The retention (the only unpaid installment) is gone; the rest was paid above the net total
    assert await settled_installments(
        session_factory, order, [(amounts[0], amounts[0]), (amounts[1], amounts[1]), (0, 0)]
    ) == [(amounts[0], amounts[0]), (amounts[1], amounts[1]), (0, 0)]
    paid, invoiced = amounts[0] + amounts[1], amounts[0] + amounts[1]
    async with session_factory() as session:
        [row] = await session.scalars(select(OrderReturn))
        [line] = row.lines
        [refund_row] = await session.scalars(select(Refund))
        [note] = await session.scalars(select(CreditNote))
    assert (row.status, row.value) == ("received", value)
    assert (line.received, line.restocked, line.scrapped) == (2, 1, 1)
    assert refund_row.due == paid - (total - value)
    assert note.amount == invoiced - (total - value) and note.return_id == row.id
    timeline = await events(session_factory, order)
    for kind in ("return_requested", "return_approved", "return_received"):
        assert kind in timeline

    await refund(env, session_factory, order, str(refund_row.due), "RF-R1")
    await credit(env, session_factory, order, "CN-R1")
    async with session_factory() as session:
        [refund_row] = await session.scalars(select(Refund))
        [note] = await session.scalars(select(CreditNote))
    assert (refund_row.status, note.status, note.number) == ("refunded", "issued", "CN-R1")
    assert not await helpers.open_todos(session_factory, order, "confirm_refund", at_least=0)


async def test_a_return_before_the_balance_is_due_reduces_what_is_outstanding_and_refunds_nothing(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(
        env, session_factory, settings, plan_items=PLAN_30_60_10, quantity="4"
    )
    amounts = [a for a, _, _ in await installments(session_factory, order)]
    await pay(env, session_factory, order, str(amounts[0]), "DEP-1")
    await accept(env, session_factory, order)

    await ask(env, session_factory, order, "1")
    await approve(env, session_factory, order)
    await receive(env, session_factory, order, ("1", "restock"))

    piece = D("8500.00")
    expected = [
        (amounts[0], amounts[0]),
        (amounts[1] - (piece - amounts[2]), 0),  # what the retention could not take
        (0, 0),  # the latest first
    ]
    assert await settled_installments(session_factory, order, expected) == expected
    async with session_factory() as session:
        assert list(await session.scalars(select(Refund))) == []
        assert list(await session.scalars(select(CreditNote))) == []
    assert (await saved(session_factory, order)).net_total == 3 * piece


async def test_a_second_return_is_limited_by_what_came_back_and_bad_requests_are_refused(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings, quantity="3")
    await plan(env, session_factory, order)
    with pytest.raises(WorkflowUpdateFailedError) as early:
        await ask(env, session_factory, order, "1")  # not dispatched yet
    assert early.value.cause.type == NOT_OPEN
    await dispatch(env, session_factory, order)
    for who, quantity, why, kind in [
        ("warehouse", "1", "Broken", NOT_ASSIGNEE),
        ("sales2", "1", "Broken", NOT_ASSIGNEE),  # another rep's order
        ("sales", "1", "  ", "InvalidInput"),
        ("sales", "0", "Broken", "InvalidInput"),
        ("sales", "4", "Broken", "InvalidInput"),  # more than dispatched
    ]:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await ask(env, session_factory, order, quantity, who=who, why=why)
        assert refused.value.cause.type == kind, (who, quantity)
    async with session_factory() as session:
        assert list(await session.scalars(select(OrderReturn))) == []

    await ask(env, session_factory, order, "2", who="ops")
    with pytest.raises(WorkflowUpdateFailedError) as asked_for:
        await ask(env, session_factory, order, "2")  # 2 of the 3 are asked for already
    assert "more than the 1 that can still come back" in str(asked_for.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as warehouse_approves:
        await approve(env, session_factory, order, who="warehouse")
    assert warehouse_approves.value.cause.type == NOT_ASSIGNEE
    await approve(env, session_factory, order)
    with pytest.raises(WorkflowUpdateFailedError) as too_many:
        await receive(env, session_factory, order, ("3", "restock"))
    assert "more than the 2 still expected back" in str(too_many.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as condition:
        await receive(env, session_factory, order, ("1", "resell"))
    assert "restock or scrap" in str(condition.value.cause)
    await receive(env, session_factory, order, ("1", "restock"))  # one now, one later
    await receive(env, session_factory, order, close_reason="Lost by the carrier")

    second = await ask(env, session_factory, order, "2")  # 3 dispatched, 1 came back
    assert second.number == 2
    with pytest.raises(WorkflowUpdateFailedError):
        await ask(env, session_factory, order, "1")  # the second asked for the other two
    async with session_factory() as session:
        rows = list(await session.scalars(select(OrderReturn).order_by(OrderReturn.number)))
    assert [(r.number, r.status, r.closed_reason) for r in rows] == [
        (1, "closed", "Lost by the carrier"),
        (2, "requested", None),
    ]


async def test_a_rejected_return_leaves_the_goods_with_the_customer_and_frees_the_quantity(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings, quantity="2")
    await plan(env, session_factory, order)
    await dispatch(env, session_factory, order)
    await ask(env, session_factory, order, "2")
    with pytest.raises(WorkflowUpdateFailedError) as silent:
        await approve(env, session_factory, order, outcome="reject")
    assert "needs a comment" in str(silent.value.cause)
    await approve(env, session_factory, order, outcome="reject", why="Not our fault")

    async with session_factory() as session:
        for _ in range(100):
            [row] = await session.scalars(select(OrderReturn))
            if row.status != "requested":
                break
            await asyncio.sleep(0.05)
            session.expunge_all()
    assert (row.status, row.comment) == ("rejected", "Not our fault")
    assert "return_rejected" in await events(session_factory, order)
    assert not await helpers.open_todos(session_factory, order, "receive_return", at_least=0)
    again = await ask(env, session_factory, order, "2")  # nothing came back: all of it again
    assert again.number == 2


async def test_a_cancellation_in_transit_takes_everything_back_then_the_order_is_cancelled(
    env, session_factory, settings, worker
):
    await cancelled_in_transit(env, session_factory, settings)


async def cancelled_in_transit(env, session_factory, settings) -> None:
    order, handle = await confirmed_order(
        env, session_factory, settings, plan_items=PLAN_30_60_10, quantity="2"
    )
    deposit = (await installments(session_factory, order))[0][0]
    await pay(env, session_factory, order, str(deposit), "DEP-1")
    await issue_invoice(env, session_factory, order, str(deposit), "INV-T1")
    await plan(env, session_factory, order)
    await dispatch(env, session_factory, order)
    on_hand = (await stock(session_factory, "PUMP-10"))[0]

    await request_and_approve(env, session_factory, order)

    shipment = env.client.get_workflow_handle(f"{handle.id}/shipment")
    assert (await shipment.result())["accepted_on"] is None  # ended by its own code path
    [todo] = await helpers.open_todos(session_factory, order, "receive_return")
    assert todo.facts["lines"][0]["expected"] == "2"
    await refund(env, session_factory, order, str(deposit), "RF-T1")
    await credit(env, session_factory, order, "CN-T1")
    async with session_factory() as session:
        [row] = await session.scalars(select(Cancellation))
    assert row.status == "refunding"  # the goods are not back yet

    await receive(env, session_factory, order, ("2", "restock"))

    assert (await handle.result()).stage == "cancelled"
    assert (await stock(session_factory, "PUMP-10"))[0] == on_hand + 2
    async with session_factory() as session:
        [row] = await session.scalars(select(Cancellation))
        [back] = await session.scalars(select(OrderReturn))
        refunds = list(await session.scalars(select(Refund)))
    assert row.status == "cancelled"
    assert (back.status, back.value) == ("received", (await saved(session_factory, order)).total)
    assert [r.amount for r in refunds] == [deposit]  # the cancellation's refund alone


@pytest.mark.parametrize("flaky", ["record_return_request", "receive_return"])
async def test_retried_return_steps_move_stock_once_and_open_one_refund(
    env, session_factory, settings, flaky
):
    attempts: list[int] = []
    activities = [
        fails_first_attempt(fn, attempts) if fn.__name__ == flaky else fn
        for fn in activities_for(session_factory, settings, RecordingMailer())
    ]
    async with Worker(
        env.client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities
    ):
        order, handle = await confirmed_order(env, session_factory, settings, quantity="2")
        total = (await saved(session_factory, order)).total
        await pay(env, session_factory, order, str(total), "ALL-1")
        await plan(env, session_factory, order)
        await dispatch(env, session_factory, order)
        on_hand = (await stock(session_factory, "PUMP-10"))[0]
        await ask(env, session_factory, order, "1")
        await approve(env, session_factory, order)
        await receive(env, session_factory, order, ("1", "restock"))
        await all_mail_sent(session_factory)
    assert attempts == [1, 2]
    assert (await stock(session_factory, "PUMP-10"))[0] == on_hand + 1
    async with session_factory() as session:
        refunds = [r.due for r in await session.scalars(select(Refund))]
        keys = list(await session.scalars(select(OutboxMail.key)))
    assert refunds == [total / 2]
    assert len(keys) == len(set(keys))
