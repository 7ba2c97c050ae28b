"""Cancellation on the time-skipping server: before confirmation at once (waiting for the
estimate, in an approval round, while revising), after confirmation approved by the owner's
manager (the shipment and the collection end, stock goes back, finance refund the deposit and
credit the invoice, no timer fires afterwards), refused where it must be, and retried steps
that create no second refund or mail."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import SearchAttributeKey
from temporalio.worker import Worker

from models.domain import (
    CancellationDecision,
    CancelOrder,
    CreditNoteIssue,
    InvoiceDecision,
    InvoiceRequest,
    RefundConfirmation,
)
from models.tables import (
    ApprovalRound,
    Cancellation,
    Contact,
    CreditNote,
    Installment,
    OutboxMail,
    Refund,
    Todo,
)
from tests import helpers
from tests.helpers import events, order_handle, saved
from tests.workflows.test_collection import PLAN_30_60_10, confirmed_order, installments, pay
from tests.workflows.test_order import (
    RecordingMailer,
    all_mail_sent,
    decide,
    estimate,
    fails_first_attempt,
)
from tests.workflows.test_shipment import dispatch, plan, stock
from worker import WORKFLOWS, activities_for
from workflows.approval import ApprovalWorkflow
from workflows.order import OrderWorkflow
from workflows.steps import NOT_ASSIGNEE, NOT_OPEN, SELF_APPROVAL

STAGE = SearchAttributeKey.for_keyword("Stage")
# Each on a test server of its own: waiting for a cancelled order's result lets the server skip
# time, which the collection timers of the shared server's other orders would feel.
pytestmark = pytest.mark.own_test_server


async def cancel(env, session_factory, order, who="sales", code="customer_request", why="No"):
    actor = await helpers.actor(session_factory, who)
    return await order_handle(env, order).execute_update(
        OrderWorkflow.cancel, CancelOrder(actor=actor, reason_code=code, reason=why)
    )


async def todo_states(session_factory, order) -> list[tuple[str, str]]:
    async with session_factory() as session:
        rows = await session.execute(
            select(Todo.kind, Todo.status).where(Todo.order_id == order.id).order_by(Todo.id)
        )
        return [tuple(row) for row in rows]


async def mails(session_factory) -> Counter[str]:
    async with session_factory() as session:
        return Counter(await session.scalars(select(OutboxMail.to_address)))


# -- before confirmation: at once ----------------------------------------------------------------


async def test_an_order_waiting_for_its_estimate_is_cancelled_at_once_and_pricing_is_told(
    env, session_factory, settings, worker
):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await helpers.open_todos(session_factory, order, "estimate_cost")

    done = await cancel(env, session_factory, order, code="duplicate", why="Entered twice")

    assert done.stage == "cancelled"
    result = await handle.result()
    assert result.stage == "cancelled"
    assert await todo_states(session_factory, order) == [("estimate_cost", "cancelled")]
    assert (await saved(session_factory, order)).stage == "cancelled"
    async with session_factory() as session:
        [row] = await session.scalars(select(Cancellation))
    assert (row.reason_code, row.reason, row.status) == ("duplicate", "Entered twice", "cancelled")
    assert row.requested_by_id == (await helpers.user(session_factory, "sales")).id
    assert (await events(session_factory, order))[-1] == "cancelled"
    assert (await handle.describe()).typed_search_attributes.get(STAGE) == "cancelled"
    assert (await mails(session_factory))["pricing@o2c.example.com"] == 2  # asked, then told


async def test_cancelling_in_an_approval_round_ends_the_round_and_tells_the_approver(
    env, session_factory, settings, worker
):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    [approve] = await helpers.open_todos(session_factory, order, "approve")

    await cancel(env, session_factory, order, code="price", why="Found cheaper")

    assert (await handle.result()).stage == "cancelled"
    round_ = env.client.get_workflow_handle_for(ApprovalWorkflow.run, approve.workflow_id)
    outcome = await round_.result()  # ended through its own code path, not terminated
    assert outcome.withdrawn and not outcome.approved
    assert await todo_states(session_factory, order) == [
        ("estimate_cost", "done"),
        ("approve", "cancelled"),
    ]
    async with session_factory() as session:
        status = await session.scalar(
            select(ApprovalRound.status).where(ApprovalRound.order_id == order.id)
        )
    assert status == "cancelled"
    # asked to approve, then told of the cancellation
    assert (await mails(session_factory))["sales_manager@o2c.example.com"] == 2


async def test_the_owners_manager_cancels_an_order_being_revised(
    env, session_factory, settings, worker
):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    await decide(env.client, session_factory, order, "sales_manager", "reject", "Too cheap")
    await helpers.open_todos(session_factory, order, "revise")

    await cancel(env, session_factory, order, who="sales_manager", code="credit", why="Unpaid")

    assert (await handle.result()).stage == "cancelled"
    assert ("revise", "cancelled") in await todo_states(session_factory, order)


async def test_a_cancellation_is_refused_without_a_reason_by_others_and_twice(
    env, session_factory, settings, worker
):
    order = await helpers.draft(session_factory)
    await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await helpers.open_todos(session_factory, order, "estimate_cost")

    for who, code, why, kind in [
        ("sales", "customer_request", "  ", "InvalidInput"),
        ("sales", "", "No", "InvalidInput"),
        ("sales", "whim", "No", "InvalidInput"),
        ("sales2", "other", "No", NOT_ASSIGNEE),  # another rep
        ("sales_manager2", "other", "No", NOT_ASSIGNEE),  # a manager of another department
        ("pricing", "other", "No", NOT_ASSIGNEE),
    ]:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await cancel(env, session_factory, order, who=who, code=code, why=why)
        assert refused.value.cause.type == kind, who
    assert await todo_states(session_factory, order) == [("estimate_cost", "open")]

    await cancel(env, session_factory, order)
    with pytest.raises((WorkflowUpdateFailedError, Exception)):
        await cancel(env, session_factory, order)  # the workflow has ended: cancelled


# -- after confirmation: approved, then undone ---------------------------------------------------


async def request_and_approve(env, session_factory, order) -> None:
    await cancel(env, session_factory, order, code="customer_request", why="Project stopped")
    [todo] = await helpers.open_todos(session_factory, order, "approve_cancellation")
    manager = await helpers.actor(session_factory, "sales_manager")
    await order_handle(env, order).execute_update(
        OrderWorkflow.approve_cancellation,
        CancellationDecision(todo_key=todo.key, actor=manager, outcome="approve"),
    )


async def issue_invoice(env, session_factory, order, amount: str, number: str) -> None:
    owner = await helpers.actor(session_factory, "sales")
    done = await order_handle(env, order).execute_update(
        OrderWorkflow.request_invoice,
        InvoiceRequest(actor=owner, amount=Decimal(amount), title="T", tax_number="9", address="A"),
    )
    finance = await helpers.actor(session_factory, "finance")
    await order_handle(env, order).execute_update(
        OrderWorkflow.decide_invoice,
        InvoiceDecision(
            todo_key=done.todo_key, actor=finance, outcome="issued", invoice_number=number
        ),
    )


async def refund(env, session_factory, order, amount: str, reference: str = "RF-1"):
    [todo] = await helpers.open_todos(session_factory, order, "confirm_refund")
    finance = await helpers.actor(session_factory, "finance")
    return await order_handle(env, order).execute_update(
        OrderWorkflow.confirm_refund,
        RefundConfirmation(
            todo_key=todo.key,
            actor=finance,
            amount=Decimal(amount),
            paid_on=(await env.get_current_time()).date(),
            method="bank_transfer",
            reference=reference,
        ),
    )


async def credit(env, session_factory, order, number: str):
    [todo] = await helpers.open_todos(session_factory, order, "issue_credit_note")
    finance = await helpers.actor(session_factory, "finance")
    return await order_handle(env, order).execute_update(
        OrderWorkflow.issue_credit_note,
        CreditNoteIssue(todo_key=todo.key, actor=finance, credit_note_number=number),
    )


async def test_a_confirmed_order_with_a_deposit_and_an_invoice_is_cancelled_after_approval(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings, plan_items=PLAN_30_60_10)
    deposit = (await installments(session_factory, order))[0][0]
    await pay(env, session_factory, order, str(deposit), "DEP-1")
    await issue_invoice(env, session_factory, order, str(deposit), "INV-0001")
    await plan(env, session_factory, order)  # the warehouse is asked to dispatch
    reserved_before = (await stock(session_factory, "PUMP-10"))[1]
    told_before = await mails(session_factory)

    await request_and_approve(env, session_factory, order)

    shipment = env.client.get_workflow_handle(f"{handle.id}/shipment")
    collection = env.client.get_workflow_handle(f"{handle.id}/collection")
    assert (await shipment.result())["accepted_on"] is None  # ended by its own code path
    assert (await collection.result())["stopped"]
    assert (await stock(session_factory, "PUMP-10"))[1] == reserved_before - 2
    states = dict(await todo_states(session_factory, order))
    assert states["confirm_dispatch"] == "cancelled"
    assert states["record_actual_costs"] == "cancelled"
    assert states["confirm_refund"] == "open" and states["issue_credit_note"] == "open"
    saved_order = await saved(session_factory, order)
    assert saved_order.stage == "cancelled"
    # Everyone concerned is told: the warehouse whose dispatch was withdrawn, the customer
    async with session_factory() as session:
        contacts = list(
            await session.scalars(
                select(Contact.email).where(
                    Contact.customer_id == saved_order.customer_id, Contact.email != ""
                )
            )
        )
    told = await mails(session_factory) - told_before
    assert contacts and all(told[address] == 1 for address in contacts)
    assert told["warehouse@o2c.example.com"] == 1, told
    assert (await handle.describe()).typed_search_attributes.get(STAGE) == "cancelled"

    async with session_factory() as session:
        open_money = await session.scalar(
            select(func.count())
            .select_from(Installment)
            .where(Installment.order_id == order.id, Installment.settled.is_(False))
        )
    assert open_money == 0
    before = await events(session_factory, order)
    mails_before = sum((await mails(session_factory)).values())
    await env.sleep(timedelta(days=400))  # every reminder, overdue alert and escalation time
    assert await events(session_factory, order) == before
    assert sum((await mails(session_factory)).values()) == mails_before

    # A refund above the money received and a credit note under an invoice's number are refused
    with pytest.raises(WorkflowUpdateFailedError) as above:
        await refund(env, session_factory, order, str(deposit + 1))
    assert "more than the money received" in str(above.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as taken:
        await credit(env, session_factory, order, "INV-0001")
    assert "already used" in str(taken.value.cause)

    await refund(env, session_factory, order, "100.00", "RF-1")  # part of it
    await refund(env, session_factory, order, str(deposit - 100), "RF-2")  # the rest
    await credit(env, session_factory, order, "CN-0001")
    assert (await handle.result()).stage == "cancelled"
    async with session_factory() as session:
        refunds = [(r.amount, r.status) for r in await session.scalars(select(Refund))]
        [note] = await session.scalars(select(CreditNote))
        [row] = await session.scalars(select(Cancellation))
    assert refunds == [(Decimal("100.00"), "refunded"), (deposit - 100, "refunded")]
    assert (note.number, note.amount, note.status) == ("CN-0001", deposit, "issued")
    assert row.status == "cancelled" and row.cancelled_at is not None


async def test_a_rejected_cancellation_leaves_the_order_as_it_was_and_dispatch_goes_on(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings)
    await plan(env, session_factory, order)
    await cancel(env, session_factory, order)
    [todo] = await helpers.open_todos(session_factory, order, "approve_cancellation")
    manager = await helpers.actor(session_factory, "sales_manager")
    owner = await helpers.actor(session_factory, "sales")

    with pytest.raises(WorkflowUpdateFailedError) as no_reason:
        await handle.execute_update(
            OrderWorkflow.approve_cancellation,
            CancellationDecision(todo_key=todo.key, actor=manager, outcome="reject"),
        )
    assert no_reason.value.cause.type == "InvalidInput"
    with pytest.raises(WorkflowUpdateFailedError) as own:
        await handle.execute_update(
            OrderWorkflow.approve_cancellation,
            CancellationDecision(todo_key=todo.key, actor=owner, outcome="approve"),
        )
    assert own.value.cause.type in (NOT_ASSIGNEE, SELF_APPROVAL)
    with pytest.raises(WorkflowUpdateFailedError) as twice:
        await cancel(env, session_factory, order)
    assert twice.value.cause.type == NOT_OPEN

    await handle.execute_update(
        OrderWorkflow.approve_cancellation,
        CancellationDecision(
            todo_key=todo.key, actor=manager, outcome="reject", comment="Customer still wants it"
        ),
    )
    assert (await saved(session_factory, order)).stage == "fulfilment"
    async with session_factory() as session:
        [row] = await session.scalars(select(Cancellation))
    assert (row.status, row.comment) == ("rejected", "Customer still wants it")
    await dispatch(env, session_factory, order)  # the hold is lifted
    # After dispatch it may be asked again: approved, it takes the goods back through a return
    # (tests/workflows/test_returns.py follows that to the end).
    asked = await cancel(env, session_factory, order, why="Wrong model shipped")
    assert asked.stage == "fulfilment"
    assert len(await helpers.open_todos(session_factory, order, "approve_cancellation")) == 1


async def test_a_manager_who_asks_cannot_approve_the_cancellation_it_goes_up_the_tree(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings)
    await cancel(env, session_factory, order, who="sales_manager")
    [todo] = await helpers.open_todos(session_factory, order, "approve_cancellation")
    manager = await helpers.actor(session_factory, "sales_manager")
    with pytest.raises(WorkflowUpdateFailedError) as own:
        await handle.execute_update(
            OrderWorkflow.approve_cancellation,
            CancellationDecision(todo_key=todo.key, actor=manager, outcome="approve"),
        )
    assert own.value.cause.type in (NOT_ASSIGNEE, SELF_APPROVAL)
    director = await helpers.actor(session_factory, "director")
    await handle.execute_update(
        OrderWorkflow.approve_cancellation,
        CancellationDecision(todo_key=todo.key, actor=director, outcome="approve"),
    )
    assert (await handle.result()).stage == "cancelled"  # nothing paid or invoiced


@pytest.mark.parametrize("flaky", ["decide_cancellation", "confirm_refund"])
async def test_retried_cancellation_steps_create_no_second_refund_or_mail(
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
        order, handle = await confirmed_order(env, session_factory, settings)
        total = (await saved(session_factory, order)).total
        await pay(env, session_factory, order, str(total), "ALL-1")
        await request_and_approve(env, session_factory, order)
        await refund(env, session_factory, order, str(total))
        assert (await handle.result()).stage == "cancelled"
        await all_mail_sent(session_factory)
    assert attempts == [1, 2]
    async with session_factory() as session:
        refunds = list(await session.scalars(select(Refund)))
        keys = list(await session.scalars(select(OutboxMail.key)))
    assert [(r.due, r.amount) for r in refunds] == [(total, total)]
    assert len(keys) == len(set(keys))
