"""Change requests on the time-skipping server: approved before dispatch (revision, reservation,
installments recomputed and collected on the new amounts), rejected (nothing changed, only the
decision in the timeline), a price cut past the discount threshold routed to the director,
withdrawn, refused where it must be (a second request while one is open, the requester
approving their own change), and retried steps that write nothing twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import SearchAttributeKey
from temporalio.worker import Worker

from models.domain import Decision, TodoKind
from models.domain.changes import ChangeRequest, LineChange, WithdrawChange
from models.tables import (
    ApprovalRound,
    OrderChangeRequest,
    OrderLine,
    OrderRevision,
    OutboxMail,
    StockReservation,
    Todo,
)
from tests import helpers
from tests.helpers import events, order_handle, saved
from tests.workflows.test_collection import (
    PLAN_30_60_10,
    collection_of,
    confirmed_order,
    installments,
    pay,
)
from tests.workflows.test_order import RecordingMailer, all_mail_sent, fails_first_attempt
from worker import WORKFLOWS, activities_for
from workflows.approval import ApprovalWorkflow
from workflows.collection import CollectionWorkflow
from workflows.order import OrderWorkflow
from workflows.steps import NOT_ASSIGNEE, NOT_OPEN

ORDER_TOTAL = SearchAttributeKey.for_float("OrderTotal")
pytestmark = pytest.mark.own_test_server


async def line_ids(session_factory, order) -> list[int]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(OrderLine.id).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
            )
        )


async def request_change(env, session_factory, order, who="sales", **fields):
    actor = await helpers.actor(session_factory, who)
    change = ChangeRequest(actor=actor, reason=fields.pop("reason", "Customer asked"), **fields)
    return await order_handle(env, order).execute_update(OrderWorkflow.request_change, change)


async def quantity_change(
    env, session_factory, order, quantity: str, who="sales", priced=True, **fields
):
    """Change the quantity of the order's line; pricing estimate it (a quantity that changes
    asks them) unless `priced` is False."""
    [line] = await line_ids(session_factory, order)
    lines = [LineChange(line_id=line, quantity=Decimal(quantity), **fields)]
    asked = await request_change(env, session_factory, order, who, lines=lines)
    if priced:
        await helpers.price_change(env.client, session_factory, order, asked.number)
    return asked


async def decide_change(env, session_factory, order, who, outcome="approve", comment=""):
    [todo] = await helpers.open_todos(session_factory, order, TodoKind.approve_change.value)
    actor = await helpers.actor(session_factory, who)
    handle = env.client.get_workflow_handle(todo.workflow_id)
    return await handle.execute_update(
        ApprovalWorkflow.decide,
        Decision(todo_key=todo.key, actor=actor, outcome=outcome, comment=comment),
    )


async def requests(session_factory, order) -> list[tuple[int, str]]:
    async with session_factory() as session:
        rows = await session.execute(
            select(OrderChangeRequest.number, OrderChangeRequest.status)
            .where(OrderChangeRequest.order_id == order.id)
            .order_by(OrderChangeRequest.number)
        )
        return [tuple(row) for row in rows]


async def settled(session_factory, order, status: str) -> list[tuple[int, str]]:
    """The order's change requests, once the last one has this status (the order's task that
    decides it runs on after the decision's update returned)."""
    for _ in range(200):
        found = await requests(session_factory, order)
        if found and found[-1][1] == status:
            return found
        await asyncio.sleep(0.05)
    return await requests(session_factory, order)


async def reserved(session_factory, order) -> list[Decimal]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(StockReservation.quantity)
                .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
                .where(OrderLine.order_id == order.id)
            )
        )


async def refused_type(update) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update
    return refused.value.cause.type


async def test_a_change_approved_before_dispatch_becomes_revision_2_and_is_collected_on_it(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings, plan_items=PLAN_30_60_10)
    await pay(env, session_factory, order, "5100.00", "DEP-1")  # the 30 % deposit of 17,000

    asked = await quantity_change(env, session_factory, order, "3")
    assert (asked.number, asked.status) == (1, "open")
    assert await refused_type(quantity_change(env, session_factory, order, "4")) == NOT_OPEN
    await decide_change(env, session_factory, order, "sales_manager")

    assert await settled(session_factory, order, "approved") == [(1, "approved")]
    changed = await saved(session_factory, order)
    assert (changed.revision, changed.total) == (2, Decimal("25500.00"))
    assert await reserved(session_factory, order) == [Decimal("3")]
    async with session_factory() as session:
        [revision] = await session.scalars(select(OrderRevision))
    assert {c["field"] for c in revision.changes} == {"lines[PUMP-10].quantity", "total"}
    # The deposit stays where it is; the 20,400 left is spread over the open installments.
    for _ in range(200):
        amounts = [a for a, _, _ in await installments(session_factory, order)]
        if amounts[0] == Decimal("5100.00") and sum(amounts) == Decimal("25500.00"):
            break
        await asyncio.sleep(0.05)
    assert amounts == [Decimal("5100.00"), Decimal("17485.71"), Decimal("2914.29")]
    status = await collection_of(env, order).query(CollectionWorkflow.outstanding)
    assert status.outstanding == Decimal("20400.00")
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(ORDER_TOTAL) == 25500.0
    await pay(env, session_factory, order, "20400.00", "REST-1")  # more than the old total left
    assert [p for _, p, _ in await installments(session_factory, order)] == [
        Decimal("5100.00"),
        Decimal("17485.71"),
        Decimal("2914.29"),
    ]
    # A new request may follow once this one is decided (paid in full now: not one for more).
    later = date.today() + timedelta(days=30)
    asked = await request_change(env, session_factory, order, requested_delivery_date=later)
    assert asked.number == 2


async def test_a_rejected_change_leaves_the_order_as_it_was_with_only_the_decision_recorded(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings, plan_items=PLAN_30_60_10)
    before = await installments(session_factory, order)
    seen = await events(session_factory, order)
    await quantity_change(env, session_factory, order, "5")
    with pytest.raises(WorkflowUpdateFailedError):  # a rejection says why
        await decide_change(env, session_factory, order, "sales_manager", "reject")
    await decide_change(env, session_factory, order, "sales_manager", "reject", "Too late")

    assert await settled(session_factory, order, "rejected") == [(1, "rejected")]
    kept = await saved(session_factory, order)
    assert (kept.revision, kept.total) == (1, Decimal("17000.00"))
    assert await reserved(session_factory, order) == [Decimal("2")]
    assert await installments(session_factory, order) == before
    assert (await events(session_factory, order))[len(seen) :] == [
        "change_requested",
        "change_estimated",
        "approval_requested",
        "rejected",
        "change_rejected",
    ]
    async with session_factory() as session:
        request = await session.scalar(select(OrderChangeRequest))
        round_ = await session.scalar(select(ApprovalRound).order_by(ApprovalRound.id.desc()))
        told = await session.scalar(
            select(OutboxMail).where(OutboxMail.key.like("%/change/1/reject_change%"))
        )
    assert request.comment == "Too late"
    assert round_.status == "rejected"
    assert told is not None and told.to_address == "sales@o2c.example.com"
    assert (await saved(session_factory, order)).stage == "fulfilment"


async def test_a_price_cut_past_the_discount_threshold_goes_to_the_director(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    await quantity_change(
        env, session_factory, order, "2", priced=False, unit_price=Decimal("6000")
    )
    await decide_change(env, session_factory, order, "sales_manager")
    [todo] = await helpers.open_todos(session_factory, order, TodoKind.approve_change.value)
    assert [a.role for a in todo.assignees] == ["director"]
    assert todo.facts["changes"][0] == {
        "field": "lines[PUMP-10].unit_price",
        "before": "8500",
        "after": "6000",
    }
    await decide_change(env, session_factory, order, "director")
    assert await settled(session_factory, order, "approved") == [(1, "approved")]
    assert (await saved(session_factory, order)).total == Decimal("12000.00")


async def test_the_requester_withdraws_the_change_and_the_round_ends_with_its_todos(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    await quantity_change(env, session_factory, order, "3", who="sales_manager")
    [todo] = await helpers.open_todos(session_factory, order, TodoKind.approve_change.value)
    # The manager asked: the change goes above them, they cannot decide it (it is not theirs
    # to decide), nor does anyone else withdraw it.
    refusal = await refused_type(decide_change(env, session_factory, order, "sales_manager"))
    assert refusal == NOT_ASSIGNEE
    sales = await helpers.actor(session_factory, "sales")
    withdraw = OrderWorkflow.withdraw_change
    other = order_handle(env, order).execute_update(withdraw, WithdrawChange(actor=sales, number=1))
    assert await refused_type(other) == NOT_ASSIGNEE

    manager = await helpers.actor(session_factory, "sales_manager")
    done = await order_handle(env, order).execute_update(
        withdraw, WithdrawChange(actor=manager, number=1)
    )

    assert done.status == "withdrawn"
    assert await requests(session_factory, order) == [(1, "withdrawn")]
    async with session_factory() as session:
        status = await session.scalar(select(Todo.status).where(Todo.id == todo.id))
        round_ = await session.scalar(select(ApprovalRound).order_by(ApprovalRound.id.desc()))
    assert (status, round_.status) == ("cancelled", "cancelled")
    outcome = await env.client.get_workflow_handle_for(
        ApprovalWorkflow.run, todo.workflow_id
    ).result()
    assert outcome.withdrawn
    again = order_handle(env, order).execute_update(
        withdraw, WithdrawChange(actor=manager, number=1)
    )
    assert await refused_type(again) == NOT_OPEN
    assert (await saved(session_factory, order)).revision == 1


async def test_a_managers_change_goes_to_the_next_manager_up_who_approves_it(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    await quantity_change(env, session_factory, order, "3", who="sales_manager")
    [todo] = await helpers.open_todos(session_factory, order, TodoKind.approve_change.value)
    manager = await helpers.actor(session_factory, "sales_manager")
    director = await helpers.actor(session_factory, "director")
    [assignee] = todo.assignees
    assert assignee.department_id not in manager.managed_department_ids
    assert assignee.department_id in director.managed_department_ids
    await decide_change(env, session_factory, order, "director")
    assert await settled(session_factory, order, "approved") == [(1, "approved")]
    assert (await saved(session_factory, order)).revision == 2


async def test_changes_are_refused_to_others_and_below_what_was_paid(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    assert await refused_type(quantity_change(env, session_factory, order, "3", "pricing")) == (
        NOT_ASSIGNEE
    )
    assert await refused_type(request_change(env, session_factory, order, reason=" ")) == (
        "InvalidInput"
    )
    await pay(env, session_factory, order, "17000.00", "ALL-1")
    below = quantity_change(env, session_factory, order, "1")
    assert await refused_type(below) == "InvalidInput"
    assert await requests(session_factory, order) == []


async def test_a_change_raising_the_total_of_an_order_paid_in_full_is_refused(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    await quantity_change(env, session_factory, order, "3")  # asked while money is still due
    await pay(env, session_factory, order, "17000.00", "ALL-1")  # the collection ends
    await decide_change(env, session_factory, order, "sales_manager")
    assert await settled(session_factory, order, "rejected") == [(1, "rejected")]
    async with session_factory() as session:
        request = await session.scalar(select(OrderChangeRequest))
    assert "paid in full" in request.comment and "25,500.00" in request.comment
    assert (await saved(session_factory, order)).total == Decimal("17000.00")

    with pytest.raises(WorkflowUpdateFailedError) as refused:  # asked once it is paid
        await quantity_change(env, session_factory, order, "4")
    assert refused.value.cause.type == NOT_OPEN
    assert "paid in full" in refused.value.cause.message
    assert await requests(session_factory, order) == [(1, "rejected"), (2, "withdrawn")]
    later = date.today() + timedelta(days=30)  # a change that adds nothing is still taken
    await request_change(env, session_factory, order, requested_delivery_date=later)
    await decide_change(env, session_factory, order, "sales_manager")
    assert (await settled(session_factory, order, "approved"))[-1] == (3, "approved")


@pytest.mark.parametrize("flaky", ["record_change_request", "apply_change", "replan_installments"])
async def test_retried_change_steps_write_no_second_revision_or_mail(
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
        order, _ = await confirmed_order(env, session_factory, settings, plan_items=PLAN_30_60_10)
        await quantity_change(env, session_factory, order, "3")
        await decide_change(env, session_factory, order, "sales_manager")
        await settled(session_factory, order, "approved")
        for _ in range(200):
            if sum(a for a, _, _ in await installments(session_factory, order)) == 25500:
                break
            await asyncio.sleep(0.05)
        await all_mail_sent(session_factory)
    assert attempts == [1, 2]
    async with session_factory() as session:
        revisions = list(await session.scalars(select(OrderRevision.number)))
        keys = Counter(await session.scalars(select(OutboxMail.key)))
    assert revisions == [2]
    assert all(count == 1 for count in keys.values())
    assert [a for a, _, _ in await installments(session_factory, order)] == [
        Decimal("7650.00"),
        Decimal("15300.00"),
        Decimal("2550.00"),
    ]
