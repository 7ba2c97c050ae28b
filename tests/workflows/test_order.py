"""OrderWorkflow on the time-skipping test server, with the real activities over SQLite."""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from models.db import SessionFactory
from models.domain import (
    Actor,
    CostEstimate,
    Decision,
    EstimateCompletion,
    LineCost,
    RevisionOutcome,
    Role,
    Stage,
    TodoDone,
)
from models.drafts import draft_of, update_draft
from models.tables import (
    ApprovalRound,
    ApprovalStep,
    Department,
    Order,
    OrderLine,
    OutboxMail,
    TimelineEvent,
    Todo,
    TodoAssignee,
)
from notifications.mail import Message
from settings import Settings
from tests import helpers
from worker import WORKFLOWS, activities_for
from workflows.approval import ApprovalWorkflow
from workflows.order import OrderWorkflow
from workflows.steps import INVALID, NOT_ASSIGNEE, NOT_OPEN, SELF_APPROVAL

ORDER_NO = SearchAttributeKey.for_keyword("OrderNo")
CUSTOMER = SearchAttributeKey.for_keyword("Customer")
OWNER = SearchAttributeKey.for_keyword("Owner")
DEPARTMENT = SearchAttributeKey.for_keyword("Department")
STAGE = SearchAttributeKey.for_keyword("Stage")
ORDER_TOTAL = SearchAttributeKey.for_float("OrderTotal")

UPDATE_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
}


# --- what the people do, the way the web layer does it -------------------------------------


async def estimate(
    client: Client, session_factory, order, *, unit_cost="5000", freight="300"
) -> TodoDone:
    [todo] = await helpers.open_todos(session_factory, order, "estimate_cost")
    pricing = await helpers.actor(session_factory, "pricing")
    async with session_factory() as session:
        line_ids = list(
            await session.scalars(select(OrderLine.id).where(OrderLine.order_id == order.id))
        )
    handle = client.get_workflow_handle(todo.workflow_id)
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


async def decide(
    client: Client, session_factory, order, username, outcome="approve", comment=""
) -> TodoDone:
    [todo] = await helpers.open_todos(session_factory, order, "approve")
    who = await helpers.actor(session_factory, username)
    handle = client.get_workflow_handle(todo.workflow_id)
    return await handle.execute_update(
        ApprovalWorkflow.decide,
        Decision(todo_key=todo.key, actor=who, outcome=outcome, comment=comment),
    )


async def revise(
    client: Client, session_factory, order, outcome="resubmit", comment=""
) -> TodoDone:
    [todo] = await helpers.open_todos(session_factory, order, "revise")
    owner = await helpers.actor(session_factory, "sales")
    handle = client.get_workflow_handle(todo.workflow_id)
    return await handle.execute_update(
        OrderWorkflow.revise,
        RevisionOutcome(todo_key=todo.key, actor=owner, outcome=outcome, comment=comment),
    )


async def edit(
    session_factory: SessionFactory,
    order: Order,
    *,
    quantity: str | None = None,
    discount_percent: str | None = None,
) -> Order:
    """The owner edits the rejected order in the entry form, as the web layer saves it."""
    async with session_factory() as session:
        saved = await session.get(Order, order.id)
        draft = await draft_of(session=session, order=saved)
        if quantity is not None:
            draft.lines[0].quantity = Decimal(quantity)
        if discount_percent is not None:
            draft.lines[0].discount_percent = Decimal(discount_percent)
        return await update_draft(session=session, order=saved, draft=draft)


async def reject_first_round(
    client: Client, session_factory, settings
) -> tuple[Order, WorkflowHandle]:
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(client, session_factory, order, settings.task_queue)
    await estimate(client, session_factory, order)
    done = await decide(
        client, session_factory, order, "sales_manager", "reject", "Price too low for this customer"
    )
    assert done.stage == Stage.revising
    return order, handle


# --- what the database and the history say -------------------------------------------------


async def todos_of(session_factory, order) -> list[tuple[str, str, str, str | None]]:
    """(key without the workflow id, kind, status, outcome) of every to-do of the order."""
    async with session_factory() as session:
        rows = await session.execute(
            select(Todo.key, Todo.kind, Todo.status, Todo.outcome)
            .where(Todo.order_id == order.id)
            .order_by(Todo.id)
        )
        return [
            (key.split("/", 1)[1], kind, status, outcome) for key, kind, status, outcome in rows
        ]


async def timeline_kinds(session_factory, order) -> list[str]:
    """The order's timeline up to confirmation (without the installments the collection that
    starts beside fulfilment writes meanwhile: tests/workflows/test_collection.py has them)."""
    async with session_factory() as session:
        return list(
            await session.scalars(
                select(TimelineEvent.kind)
                .where(TimelineEvent.order_id == order.id, TimelineEvent.kind != "installments_due")
                .order_by(TimelineEvent.id)
            )
        )


async def approval_rounds(session_factory, order) -> list[tuple[int, str, list[str | None]]]:
    """(round number, status, decisions of its steps) of every round of the order."""
    async with session_factory() as session:
        rounds = list(
            await session.scalars(
                select(ApprovalRound)
                .where(ApprovalRound.order_id == order.id)
                .order_by(ApprovalRound.number)
            )
        )
        return [
            (
                r.number,
                r.status,
                list(
                    await session.scalars(
                        select(ApprovalStep.decision)
                        .where(ApprovalStep.round_id == r.id)
                        .order_by(ApprovalStep.id)
                    )
                ),
            )
            for r in rounds
        ]


async def mail_per_recipient(session_factory) -> Counter[str]:
    async with session_factory() as session:
        return Counter(await session.scalars(select(OutboxMail.to_address)))


BUSINESS_TABLES = [
    Order,
    OrderLine,
    Todo,
    TodoAssignee,
    TimelineEvent,
    OutboxMail,
    ApprovalRound,
    ApprovalStep,
]


async def database_state(session_factory) -> dict[str, list[tuple]]:
    """Every row of every table a workflow step writes."""
    async with session_factory() as session:
        return {
            table.__tablename__: [
                tuple(row)
                for row in await session.execute(
                    select(table.__table__).order_by(table.__table__.c.id)
                )
            ]
            for table in BUSINESS_TABLES
        }


async def update_ids_in_history(handle: WorkflowHandle) -> list[str]:
    """The ids of the updates the workflow's history records, one per update event."""
    history = await handle.fetch_history()
    ids = []
    for event in history.events:
        if event.event_type not in UPDATE_EVENTS:
            continue
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            attributes = event.workflow_execution_update_accepted_event_attributes
            ids.append(attributes.accepted_request.meta.update_id)
        elif event.HasField("workflow_execution_update_completed_event_attributes"):
            ids.append(event.workflow_execution_update_completed_event_attributes.meta.update_id)
        elif event.HasField("workflow_execution_update_admitted_event_attributes"):
            ids.append(
                event.workflow_execution_update_admitted_event_attributes.request.meta.update_id
            )
        else:
            ids.append(event.workflow_execution_update_rejected_event_attributes.meta.update_id)
    return ids


# --- the happy path ------------------------------------------------------------------------


async def test_approved_order_is_confirmed(env, session_factory, settings, worker: Worker):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    done = await decide(env.client, session_factory, order, "sales_manager")
    assert done.stage == Stage.confirmed  # the last approval's step confirms the order
    await helpers.confirmed(handle, session_factory, order)
    async with session_factory() as session:
        saved = await session.get(Order, order.id)
        assert saved.stage == "fulfilment"  # confirmed, and fulfilment has begun
        assert saved.expected_cost == Decimal("10300.00")
        assert saved.expected_margin == Decimal("6700.00")
        kinds = list(
            await session.scalars(
                select(TimelineEvent.kind)
                .where(TimelineEvent.order_id == order.id)
                .order_by(TimelineEvent.id)
            )
        )
        # (the collection that starts beside fulfilment writes its installments meanwhile)
        assert [kind for kind in kinds if kind != "installments_due"] == [
            "created",
            "submitted",
            "estimated",
            "approval_requested",
            "approved",
            "confirmed",
        ]
        [approval_round] = await session.scalars(select(ApprovalRound))
        assert approval_round.status == "approved"
        assert await session.scalar(select(func.count()).select_from(OutboxMail)) >= 3
        still_open = list(await session.scalars(select(Todo.kind).where(Todo.status == "open")))
        assert still_open == ["plan_shipment"]


async def test_confirmed_order_is_found_by_its_search_attributes(
    env, session_factory, settings, worker: Worker
):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    await helpers.open_todos(session_factory, order, "approve")
    during_approval = (await handle.describe()).typed_search_attributes
    assert during_approval[STAGE] == "approval"

    await decide(env.client, session_factory, order, "sales_manager")
    await helpers.confirmed(handle, session_factory, order)
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes[STAGE] == "fulfilment"
    assert attributes[ORDER_NO] == order.number
    assert attributes[CUSTOMER] == "Shanghai Precision Machinery Co."
    assert attributes[OWNER] == "sales"
    assert attributes[DEPARTMENT] == "East China office"
    assert attributes[ORDER_TOTAL] == 17000.0
    assert await handle.query(OrderWorkflow.status) == Stage.fulfilment


# --- rejection, revision, resubmission ------------------------------------------------------


async def test_rejected_order_goes_back_to_owner_for_revision(
    env, session_factory, settings, worker: Worker
):
    order, handle = await reject_first_round(env.client, session_factory, settings)
    [revise_todo] = await helpers.open_todos(session_factory, order, "revise")
    owner = await helpers.user(session_factory, "sales")
    async with session_factory() as session:
        assignees = list(
            await session.scalars(
                select(TodoAssignee).where(TodoAssignee.todo_id == revise_todo.id)
            )
        )
        saved = await session.get(Order, order.id)
    assert revise_todo.key == f"{handle.id}/revise/1"
    assert revise_todo.workflow_id == handle.id
    assert [(a.user_id, a.role, a.department_id) for a in assignees] == [(owner.id, None, None)]
    assert saved.stage == "revising"
    assert await handle.query(OrderWorkflow.status) == Stage.revising
    assert (await handle.describe()).typed_search_attributes[STAGE] == "revising"
    assert await approval_rounds(session_factory, order) == [(1, "rejected", ["reject"])]
    assert await todos_of(session_factory, order) == [
        ("estimate/1", "estimate_cost", "done", "estimated"),
        ("approval/1/1/sales_manager", "approve", "done", "reject"),
        ("revise/1", "revise", "open", None),
    ]
    async with session_factory() as session:
        rejection = await session.scalar(
            select(TimelineEvent).where(
                TimelineEvent.order_id == order.id, TimelineEvent.kind == "rejected"
            )
        )
    assert rejection.details["comment"] == "Price too low for this customer"
    # the owner was told: one mail for the revise to-do
    assert (await mail_per_recipient(session_factory))[owner.email] == 1


async def test_revision_changing_only_a_discount_keeps_the_estimate_and_goes_to_round_two(
    env, session_factory, settings, worker: Worker
):
    order, handle = await reject_first_round(env.client, session_factory, settings)
    await edit(session_factory, order, discount_percent="5")

    done = await revise(env.client, session_factory, order)
    assert done.stage == Stage.approval

    [round_two] = await helpers.open_todos(session_factory, order, "approve")
    assert round_two.workflow_id == f"{handle.id}/approval/2"
    assert round_two.key == f"{handle.id}/approval/2/1/sales_manager"
    async with session_factory() as session:
        saved = await session.get(Order, order.id)
    assert saved.total == Decimal("16150.00")
    assert saved.expected_cost == Decimal("10300.00")  # the kept estimate
    assert saved.expected_margin == Decimal("5850.00")  # on the new total
    assert (await handle.describe()).typed_search_attributes[ORDER_TOTAL] == 16150.0

    await decide(env.client, session_factory, order, "sales_manager")
    await helpers.confirmed(handle, session_factory, order)

    assert await approval_rounds(session_factory, order) == [
        (1, "rejected", ["reject"]),
        (2, "approved", ["approve"]),
    ]
    assert await todos_of(session_factory, order) == [
        ("estimate/1", "estimate_cost", "done", "estimated"),
        ("approval/1/1/sales_manager", "approve", "done", "reject"),
        ("revise/1", "revise", "done", "resubmit"),
        ("approval/2/1/sales_manager", "approve", "done", "approve"),
        ("shipment/plan", "plan_shipment", "open", None),
    ]
    assert await timeline_kinds(session_factory, order) == [
        "created",
        "submitted",
        "estimated",
        "approval_requested",
        "rejected",
        "resubmitted",
        "approval_requested",
        "approved",
        "confirmed",
    ]
    child = env.client.get_workflow_handle(f"{handle.id}/approval/2")
    assert (await child.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_revision_changing_a_quantity_goes_back_to_pricing(
    env, session_factory, settings, worker: Worker
):
    order, handle = await reject_first_round(env.client, session_factory, settings)
    await edit(session_factory, order, quantity="3")

    done = await revise(env.client, session_factory, order)
    assert done.stage == Stage.costing
    assert await handle.query(OrderWorkflow.status) == Stage.costing
    [new_estimate] = await helpers.open_todos(session_factory, order, "estimate_cost")
    assert new_estimate.key == f"{handle.id}/estimate/2"

    await estimate(env.client, session_factory, order, unit_cost="5200", freight="400")
    await decide(env.client, session_factory, order, "sales_manager")
    await helpers.confirmed(handle, session_factory, order)

    async with session_factory() as session:
        saved = await session.get(Order, order.id)
    assert saved.total == Decimal("25500.00")
    assert saved.expected_cost == Decimal("16000.00")
    assert saved.expected_margin == Decimal("9500.00")
    assert await todos_of(session_factory, order) == [
        ("estimate/1", "estimate_cost", "done", "estimated"),
        ("approval/1/1/sales_manager", "approve", "done", "reject"),
        ("revise/1", "revise", "done", "resubmit"),
        ("estimate/2", "estimate_cost", "done", "estimated"),
        ("approval/2/1/sales_manager", "approve", "done", "approve"),
        ("shipment/plan", "plan_shipment", "open", None),
    ]
    assert await timeline_kinds(session_factory, order) == [
        "created",
        "submitted",
        "estimated",
        "approval_requested",
        "rejected",
        "resubmitted",
        "estimated",
        "approval_requested",
        "approved",
        "confirmed",
    ]
    assert await approval_rounds(session_factory, order) == [
        (1, "rejected", ["reject"]),
        (2, "approved", ["approve"]),
    ]


async def test_withdrawn_order_is_cancelled(env, session_factory, settings, worker: Worker):
    order, handle = await reject_first_round(env.client, session_factory, settings)

    done = await revise(env.client, session_factory, order, "withdraw", "Customer bought elsewhere")
    assert done.stage == Stage.cancelled
    result = await handle.result()
    assert result.stage == Stage.cancelled

    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert described.typed_search_attributes[STAGE] == "cancelled"
    async with session_factory() as session:
        saved = await session.get(Order, order.id)
        withdrawn = await session.scalar(
            select(TimelineEvent).where(
                TimelineEvent.order_id == order.id, TimelineEvent.kind == "withdrawn"
            )
        )
    assert saved.stage == "cancelled"
    assert withdrawn.details["comment"] == "Customer bought elsewhere"
    assert await todos_of(session_factory, order) == [
        ("estimate/1", "estimate_cost", "done", "estimated"),
        ("approval/1/1/sales_manager", "approve", "done", "reject"),
        ("revise/1", "revise", "done", "withdraw"),
    ]


# --- refused updates -----------------------------------------------------------------------

# A refused attempt: given the order at approval and an update id, the workflow it goes to and
# the update call, not yet sent.
Attempt = Callable[
    [Client, SessionFactory, Order, str],
    Awaitable[tuple[WorkflowHandle, Coroutine[Any, Any, TodoDone]]],
]


async def _approve_todo(client: Client, session_factory, order):
    [todo] = await helpers.open_todos(session_factory, order, "approve")
    return todo, client.get_workflow_handle(todo.workflow_id)


async def sales_rep_decides(client: Client, session_factory, order, update_id):
    todo, handle = await _approve_todo(client, session_factory, order)
    rep = await helpers.actor(session_factory, "sales2")
    decision = Decision(todo_key=todo.key, actor=rep, outcome="approve")
    return handle, handle.execute_update(ApprovalWorkflow.decide, decision, id=update_id)


async def owner_approves_own_order(client: Client, session_factory, order, update_id):
    todo, handle = await _approve_todo(client, session_factory, order)
    async with session_factory() as session:
        east = await session.scalar(
            select(Department.id).where(Department.name == "East China office")
        )
    # The owner, even were they to manage the department the approval is routed to.
    owner = Actor(user_id=order.owner_id, role=Role.sales_manager, managed_department_ids=[east])
    decision = Decision(todo_key=todo.key, actor=owner, outcome="approve")
    return handle, handle.execute_update(ApprovalWorkflow.decide, decision, id=update_id)


async def reject_without_comment(client: Client, session_factory, order, update_id):
    todo, handle = await _approve_todo(client, session_factory, order)
    manager = await helpers.actor(session_factory, "sales_manager")
    decision = Decision(todo_key=todo.key, actor=manager, outcome="reject", comment="  ")
    return handle, handle.execute_update(ApprovalWorkflow.decide, decision, id=update_id)


async def decide_unknown_todo(client: Client, session_factory, order, update_id):
    todo, handle = await _approve_todo(client, session_factory, order)
    manager = await helpers.actor(session_factory, "sales_manager")
    decision = Decision(todo_key=f"{todo.key}/nothing", actor=manager, outcome="approve")
    return handle, handle.execute_update(ApprovalWorkflow.decide, decision, id=update_id)


async def estimate_twice(client: Client, session_factory, order, update_id):
    await _approve_todo(client, session_factory, order)
    async with session_factory() as session:
        done = await session.scalar(
            select(Todo).where(Todo.order_id == order.id, Todo.kind == "estimate_cost")
        )
        line_ids = list(
            await session.scalars(select(OrderLine.id).where(OrderLine.order_id == order.id))
        )
    pricing = await helpers.actor(session_factory, "pricing")
    handle = client.get_workflow_handle(done.workflow_id)
    completion = EstimateCompletion(
        todo_key=done.key,
        actor=pricing,
        estimate=CostEstimate(
            lines=[LineCost(line_id=i, unit_cost=Decimal("1")) for i in line_ids]
        ),
    )
    return handle, handle.execute_update(OrderWorkflow.estimate_cost, completion, id=update_id)


async def revise_before_rejection(client: Client, session_factory, order, update_id):
    _, child = await _approve_todo(client, session_factory, order)
    handle = client.get_workflow_handle(child.id.rsplit("/approval/", 1)[0])
    owner = await helpers.actor(session_factory, "sales")
    revision = RevisionOutcome(todo_key=f"{handle.id}/revise/1", actor=owner, outcome="resubmit")
    return handle, handle.execute_update(OrderWorkflow.revise, revision, id=update_id)


@pytest.mark.parametrize(
    ("attempt", "refusal"),
    [
        pytest.param(sales_rep_decides, NOT_ASSIGNEE, id="sales-rep-is-not-the-approver"),
        pytest.param(owner_approves_own_order, SELF_APPROVAL, id="nobody-approves-own-order"),
        pytest.param(reject_without_comment, INVALID, id="rejection-needs-a-comment"),
        pytest.param(decide_unknown_todo, NOT_OPEN, id="unknown-todo"),
        pytest.param(estimate_twice, NOT_OPEN, id="todo-completed-twice"),
        pytest.param(revise_before_rejection, NOT_OPEN, id="revise-before-any-rejection"),
    ],
)
async def test_refused_update_leaves_no_trace(
    env, session_factory, settings, worker: Worker, attempt: Attempt, refusal: str
):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    update_id = f"refused-{uuid4()}"
    target, refused = await attempt(env.client, session_factory, order, update_id)
    before_db = await database_state(session_factory)
    before_updates = await update_ids_in_history(target)

    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await refused
    assert isinstance(failure.value.cause, ApplicationError)
    assert failure.value.cause.type == refusal

    # The real server drops the workflow task of a refused update; the test server keeps an
    # empty one, so what must not appear is any update event.
    after_updates = await update_ids_in_history(target)
    assert update_id not in after_updates
    assert after_updates == before_updates
    assert await database_state(session_factory) == before_db

    # and the order goes on as if nothing had been tried
    await decide(env.client, session_factory, order, "sales_manager")
    await helpers.confirmed(handle, session_factory, order)


# --- retried activities ----------------------------------------------------------------------


class RecordingMailer:
    """Takes every message, as a mail server that never fails would."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        self.sent.append(message)


async def all_mail_sent(session_factory, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async with session_factory() as session:
            unsent = await session.scalar(
                select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None))
            )
        if not unsent:
            return
        await asyncio.sleep(0.05)


def fails_first_attempt(
    real: Callable[..., Awaitable[object]], attempts: list[int]
) -> Callable[..., Awaitable[object]]:
    """The real activity, whose first attempt does all its work and then fails, as when the
    worker dies after the commit and before Temporal hears of it."""

    @activity.defn(name=real.__name__)
    @functools.wraps(real, updated=())
    async def first_attempt_fails(step):
        result = await real(step)
        attempts.append(activity.info().attempt)
        if activity.info().attempt == 1:
            raise ApplicationError("Lost the reply after committing.")
        return result

    return first_attempt_fails


# Each step of this order: opening the approval stage is part of the estimate's step, and
# confirming the order part of the last approval's (one step per decision).
@pytest.mark.parametrize("flaky", ["start_costing", "record_estimate", "record_decision"])
async def test_retried_step_opens_no_second_todo_and_sends_no_second_mail(
    env, session_factory, settings: Settings, flaky: str
):
    mailer = RecordingMailer()
    attempts: list[int] = []
    activities = [
        fails_first_attempt(fn, attempts) if fn.__name__ == flaky else fn
        for fn in activities_for(session_factory, settings, mailer)
    ]
    async with Worker(
        env.client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities
    ):
        order = await helpers.draft(session_factory)
        handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
        await estimate(env.client, session_factory, order)
        await decide(env.client, session_factory, order, "sales_manager")
        await helpers.confirmed(handle, session_factory, order)
        await all_mail_sent(session_factory)  # before the worker stops and cancels the sender

    assert attempts == [1, 2]
    assert await todos_of(session_factory, order) == [
        ("estimate/1", "estimate_cost", "done", "estimated"),
        ("approval/1/1/sales_manager", "approve", "done", "approve"),
        ("shipment/plan", "plan_shipment", "open", None),
    ]
    assert await timeline_kinds(session_factory, order) == [
        "created",
        "submitted",
        "estimated",
        "approval_requested",
        "approved",
        "confirmed",
    ]
    # pricing is asked to estimate, the manager to approve; the owner, (by the policy) the
    # manager and the customer's contact are told of the confirmation; ops are asked to plan
    queued = await mail_per_recipient(session_factory)
    assert queued == Counter(
        {
            "pricing@o2c.example.com": 1,
            "sales_manager@o2c.example.com": 2,
            "xu.ming@shpm.example.com": 1,
            "ops@o2c.example.com": 1,
            "sales@o2c.example.com": 1,
        }
    )
    assert Counter(m.to_address for m in mailer.sent) == queued
    async with session_factory() as session:
        unsent = await session.scalar(
            select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None))
        )
    assert unsent == 0
