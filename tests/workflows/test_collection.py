"""Collection on the time-skipping server: a 30/60/10 plan from confirmation to the retention
paid a year later, an overdue installment escalated to the sales manager and the director, a
payment mid-escalation that stops it, continue-as-new that keeps the state, the deposit that
releases a held dispatch, and refused registrations and decisions."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributeKey

from models.domain import (
    ArrivalConfirmation,
    CollectionInput,
    HoldRelease,
    PaymentDecision,
    PaymentPlanItem,
    PaymentRegistration,
    PaymentTrigger,
    ShippingMode,
    TodoDone,
)
from models.drafts import DraftLine, DraftOrder, create_draft
from models.tables import Installment, Order, OutboxMail, Payment, Product, Todo, User
from tests import helpers
from tests.helpers import saved
from tests.workflows.test_order import decide, estimate
from tests.workflows.test_shipment import dispatch, plan, shipment_of
from worker import build_worker
from workflows.collection import CollectionWorkflow
from workflows.shipment import ShipmentWorkflow
from workflows.steps import INVALID, NOT_ASSIGNEE, NOT_OPEN

OVERDUE = SearchAttributeKey.for_bool("Overdue")
OUTSTANDING = SearchAttributeKey.for_float("Outstanding")
PLAN_30_60_10 = [
    PaymentPlanItem(percent=Decimal("30"), trigger=PaymentTrigger.confirmation),
    PaymentPlanItem(percent=Decimal("60"), trigger=PaymentTrigger.acceptance, offset_days=30),
    PaymentPlanItem(percent=Decimal("10"), trigger=PaymentTrigger.acceptance, offset_days=365),
]


async def confirmed_order(
    env, session_factory, settings, *, plan_items=(), code="PUMP-10", quantity="2"
) -> tuple[Order, WorkflowHandle]:
    """An order through estimate and approval, with the given payment plan (the default: all
    on confirmation); returns once its collection has fixed the installments."""
    async with session_factory() as session:
        product = await session.scalar(select(Product).where(Product.code == code))
        owner = await session.scalar(select(User).where(User.username == "sales"))
        order = await create_draft(
            session=session,
            user=owner,
            draft=DraftOrder(
                customer_id=1,
                shipping_mode=ShippingMode.domestic,
                lines=[DraftLine(product_id=product.id, quantity=Decimal(quantity))],
                payment_plan=list(plan_items),
            ),
        )
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order, unit_cost="1000")
    await decide(env.client, session_factory, order, "sales_manager")
    await helpers.confirmed(handle, session_factory, order)
    for _ in range(200):
        if await installments(session_factory, order):
            break
        await asyncio.sleep(0.05)
    async with session_factory() as session:
        return await session.get(Order, order.id), handle


def collection_of(env, order: Order) -> WorkflowHandle:
    return env.client.get_workflow_handle_for(
        CollectionWorkflow.run, f"order-{order.number}/collection"
    )


async def installments(session_factory, order) -> list[tuple[Decimal, Decimal, date | None]]:
    """(amount, paid, due date) of each installment, in plan order."""
    async with session_factory() as session:
        rows = await session.scalars(
            select(Installment)
            .where(Installment.order_id == order.id)
            .order_by(Installment.position)
        )
        return [(r.amount, r.paid, r.due_on) for r in rows]


async def today(env) -> date:
    return (await env.get_current_time()).astimezone(UTC).date()


async def register(
    env, session_factory, order, amount: str, reference: str, *, received_on=None
) -> TodoDone:
    owner = await helpers.actor(session_factory, "sales")
    return await collection_of(env, order).execute_update(
        CollectionWorkflow.register_payment,
        PaymentRegistration(
            actor=owner,
            amount=Decimal(amount),
            received_on=received_on or await today(env),
            method="bank_transfer",
            reference=reference,
        ),
    )


async def decide_payment(env, session_factory, order, todo_key, outcome="confirm", comment=""):
    finance = await helpers.actor(session_factory, "finance")
    return await collection_of(env, order).execute_update(
        CollectionWorkflow.decide_payment,
        PaymentDecision(actor=finance, todo_key=todo_key, outcome=outcome, comment=comment),
    )


async def pay(env, session_factory, order, amount: str, reference: str) -> None:
    registered = await register(env, session_factory, order, amount, reference)
    await decide_payment(env, session_factory, order, registered.todo_key)


async def mail_to(session_factory, needle: str) -> Counter[str]:
    async with session_factory() as session:
        mails = await session.scalars(select(OutboxMail))
        return Counter(m.to_address for m in mails if needle in m.subject or needle in m.body)


async def todos(session_factory, order, kind: str) -> list[Todo]:
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(Todo).where(Todo.order_id == order.id, Todo.kind == kind).order_by(Todo.id)
            )
        )


async def attribute(handle: WorkflowHandle, key, expected, tries: int = 100):
    for _ in range(tries):
        value = (await handle.describe()).typed_search_attributes.get(key)
        if value == expected:
            return value
        await asyncio.sleep(0.05)
    return (await handle.describe()).typed_search_attributes.get(key)


async def accept(env, session_factory, order) -> date:
    """Plan, dispatch and arrival (a pump needs no installation: accepted on arrival)."""
    await plan(env, session_factory, order)
    await dispatch(env, session_factory, order)
    day = await today(env)
    ops = await helpers.actor(session_factory, "ops")
    [arrival] = await helpers.open_todos(session_factory, order, "confirm_arrival")
    await shipment_of(env, order).execute_update(
        ShipmentWorkflow.confirm_arrival,
        ArrivalConfirmation(actual_date=day, actor=ops, todo_key=arrival.key),
    )
    return day


@pytest.mark.own_test_server
async def test_a_30_60_10_plan_runs_from_confirmation_to_the_retention_a_year_later(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings, plan_items=PLAN_30_60_10)
    confirmed_on = await today(env)
    total = order.total
    amounts = [a for a, _, _ in await installments(session_factory, order)]
    assert sum(amounts) == total
    assert [d for _, _, d in await installments(session_factory, order)] == [
        confirmed_on, None, None
    ]  # fmt: skip

    await pay(env, session_factory, order, str(amounts[0]), "DEP-1")
    assert (await saved(session_factory, order)).paid == amounts[0]
    assert await attribute(handle, OUTSTANDING, float(total - amounts[0])) == float(
        total - amounts[0]
    )

    accepted_on = await accept(env, session_factory, order)
    for _ in range(100):  # acceptance fixes the other two due dates
        dues = [d for _, _, d in await installments(session_factory, order)]
        if dues[1] is not None:
            break
        await asyncio.sleep(0.05)
    assert dues == [
        confirmed_on, accepted_on + timedelta(days=30), accepted_on + timedelta(days=365)
    ]  # fmt: skip

    await env.sleep(timedelta(days=28))  # the owner is reminded 3 days before the 60 % is due
    assert (await mail_to(session_factory, "Payment due soon"))["sales@o2c.example.com"] == 1
    await pay(env, session_factory, order, str(amounts[1]), "PAY-2")
    await env.sleep(timedelta(days=335))  # ... and before the retention
    assert (await mail_to(session_factory, "Payment due soon"))["sales@o2c.example.com"] == 2
    assert (await saved(session_factory, order)).overdue is False
    await pay(env, session_factory, order, str(amounts[2]), "RET-3")

    result = await collection_of(env, order).result()
    assert result.paid_on >= accepted_on + timedelta(days=362)
    finished = await saved(session_factory, order)
    assert (finished.paid, finished.collection_status) == (total, "paid")
    assert [p for _, p, _ in await installments(session_factory, order)] == amounts


@pytest.mark.own_test_server
async def test_overdue_money_gets_a_collect_todo_then_the_manager_then_the_director(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings)  # all due today
    await env.sleep(timedelta(days=1, hours=1))
    assert (await saved(session_factory, order)).overdue is True
    [collect] = await todos(session_factory, order, "collect")
    assert collect.status == "open"
    assert await attribute(handle, OVERDUE, True) is True

    await env.sleep(timedelta(days=15))
    escalated = await mail_to(session_factory, "Overdue payment escalated")
    assert escalated == Counter({"sales_manager@o2c.example.com": 1})
    await env.sleep(timedelta(days=15))
    escalated = await mail_to(session_factory, "Overdue payment escalated")
    assert escalated == Counter({"sales_manager@o2c.example.com": 1, "director@o2c.example.com": 1})
    await env.sleep(timedelta(days=30))  # each alert is sent once
    assert await mail_to(session_factory, "Overdue payment escalated") == escalated


@pytest.mark.own_test_server
async def test_a_payment_mid_escalation_closes_the_collect_todo_and_stops_it(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings)
    await env.sleep(timedelta(days=17))  # overdue, and the sales manager was alerted
    assert (await mail_to(session_factory, "Overdue payment escalated")) == Counter(
        {"sales_manager@o2c.example.com": 1}
    )
    await pay(env, session_factory, order, str(order.total), "LATE-1")
    [collect] = await todos(session_factory, order, "collect")
    assert (collect.status, collect.outcome) == ("done", "paid")
    finished = await saved(session_factory, order)
    assert (finished.overdue, finished.collection_status) == (False, "paid")
    assert await attribute(handle, OVERDUE, False) is False
    await collection_of(env, order).result()
    await env.sleep(timedelta(days=30))
    assert "director@o2c.example.com" not in await mail_to(
        session_factory, "Overdue payment escalated"
    )


async def test_registrations_and_decisions_that_are_refused_change_nothing(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    collection = collection_of(env, order)
    half = str(order.total / 2)
    first = await register(env, session_factory, order, half, "R-1")

    async def refused(update, argument) -> WorkflowUpdateFailedError:
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await collection.execute_update(update, argument)
        return failure.value.cause

    owner = await helpers.actor(session_factory, "sales")
    day = await today(env)

    def registration(**changes) -> PaymentRegistration:
        fields = dict(
            actor=owner, amount=Decimal("1"), received_on=day, method="cash", reference="R-2"
        )
        return PaymentRegistration(**{**fields, **changes})

    cases = [
        (registration(amount=Decimal("0")), INVALID, "more than zero"),
        (registration(received_on=day + timedelta(days=1)), INVALID, "in the future"),
        (registration(reference="r-1"), INVALID, "already registered"),
        (registration(amount=order.total), INVALID, "more than is left to pay"),
        (registration(reference=" "), INVALID, "reference"),
        # the web layer's check, run by the validator too (it took any method before)
        (registration(method="barter"), INVALID, "The method must be one of"),
        (
            registration(actor=await helpers.actor(session_factory, "finance")),
            NOT_ASSIGNEE,
            "owner",
        ),
    ]
    for argument, kind, words in cases:
        cause = await refused(CollectionWorkflow.register_payment, argument)
        assert (cause.type, words in cause.message) == (kind, True), cause.message
    sales = await helpers.actor(session_factory, "sales")
    cause = await refused(
        CollectionWorkflow.decide_payment,
        PaymentDecision(actor=sales, todo_key=first.todo_key, outcome="confirm"),
    )
    assert cause.type == NOT_ASSIGNEE
    finance = await helpers.actor(session_factory, "finance")
    cause = await refused(
        CollectionWorkflow.decide_payment,
        PaymentDecision(actor=finance, todo_key=first.todo_key, outcome="reject"),
    )
    assert cause.type == INVALID  # a rejection says why
    async with session_factory() as session:
        assert await session.scalar(select(Payment.status)) == "pending"
        assert len(list(await session.scalars(select(Payment)))) == 1

    await decide_payment(env, session_factory, order, first.todo_key, "reject", "Not on the bank")
    cause = await refused(
        CollectionWorkflow.decide_payment,
        PaymentDecision(actor=finance, todo_key=first.todo_key, outcome="confirm"),
    )
    assert cause.type == NOT_OPEN  # deciding twice
    assert (await saved(session_factory, order)).paid == 0
    assert (await mail_to(session_factory, "Not on the bank"))["sales@o2c.example.com"] == 1
    # the money is registered again under its reference once finance have rejected it
    again = await register(env, session_factory, order, half, "R-1")
    await decide_payment(env, session_factory, order, again.todo_key)
    assert (await saved(session_factory, order)).paid == Decimal(half)


async def test_continue_as_new_keeps_the_installments_payments_and_open_todos(
    env, session_factory, settings, worker
):
    order = await helpers.draft(session_factory)  # the collection alone, on a draft's figures
    async with session_factory() as session:
        row = await session.get(Order, order.id)
        total = row.total
    handle = await env.client.start_workflow(
        CollectionWorkflow.run,
        CollectionInput(
            order_id=order.id,
            order_number=order.number,
            owner_id=order.owner_id,
            total=total,
            history_limit=12,
        ),
        id=f"order-{order.number}/collection",
        task_queue=settings.task_queue,
    )
    first_run = (await handle.describe()).run_id
    for _ in range(200):
        if await installments(session_factory, order):
            break
        await asyncio.sleep(0.05)
    pending = await register(env, session_factory, order, "100.00", "CAN-1")
    await pay(env, session_factory, order, "200.00", "CAN-2")
    await pay(env, session_factory, order, "300.00", "CAN-3")
    latest = env.client.get_workflow_handle(handle.id)
    assert (await latest.describe()).run_id != first_run  # it continued as new ...
    # ... and still knows the references, the pending payment and its to-do
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await register(env, session_factory, order, "1.00", "CAN-2")
    assert "already registered" in refused.value.cause.message
    await decide_payment(env, session_factory, order, pending.todo_key)
    left = total - Decimal("600.00")
    await pay(env, session_factory, order, str(left), "CAN-4")
    await latest.result()
    assert (await saved(session_factory, order)).paid == total


async def test_paying_the_deposit_releases_a_dispatch_held_for_it(env, session_factory, settings):
    held = settings.model_copy(update={"hold_dispatch_for_deposit": True})
    async with build_worker(env.client, session_factory, held):
        order, _ = await confirmed_order(env, session_factory, held, plan_items=PLAN_30_60_10)
        await plan(env, session_factory, order)
        assert (await saved(session_factory, order)).shipment_status == "held"
        deposit = (await installments(session_factory, order))[0][0]
        await pay(env, session_factory, order, str(deposit), "DEP-9")
        for _ in range(200):
            if await helpers.open_todos(session_factory, order, "confirm_dispatch"):
                break
            await asyncio.sleep(0.05)
        assert await helpers.open_todos(session_factory, order, "confirm_dispatch")
        await dispatch(env, session_factory, order)


async def test_a_deposit_paid_after_ops_released_the_hold_and_the_goods_arrived_is_confirmed(
    env, session_factory, settings
):
    held = settings.model_copy(update={"hold_dispatch_for_deposit": True})
    async with build_worker(env.client, session_factory, held):
        order, _ = await confirmed_order(env, session_factory, held, plan_items=PLAN_30_60_10)
        await plan(env, session_factory, order)
        ops = await helpers.actor(session_factory, "ops")
        await shipment_of(env, order).execute_update(
            ShipmentWorkflow.release_hold,
            HoldRelease(actor=ops, reason="Long-standing customer; the deposit is on its way"),
        )
        await dispatch(env, session_factory, order)
        [arrival] = await helpers.open_todos(session_factory, order, "confirm_arrival")
        await shipment_of(env, order).execute_update(
            ShipmentWorkflow.confirm_arrival,
            ArrivalConfirmation(actual_date=await today(env), actor=ops, todo_key=arrival.key),
        )
        await shipment_of(env, order).result()  # accepted: the shipment has ended
        deposit = (await installments(session_factory, order))[0][0]
        await pay(env, session_factory, order, str(deposit), "DEP-LATE")
        assert (await saved(session_factory, order)).paid == deposit
