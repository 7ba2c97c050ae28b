"""Actual costs, the variance review and closing on the time-skipping server: costs asked for on
the first confirmed payment, batches approved or rejected by finance, a review that waits for
costs still at finance, a variance above the threshold explained and approved (or sent back),
the reviewer refused as approver, refused recordings that change nothing, and a closed order
with its final figures and every search attribute."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributeKey

from models.domain import (
    CostCategory,
    CostItem,
    CostRecording,
    Decision,
    Role,
    VarianceReview,
)
from models.passwords import hash_password
from models.tables import ActualCost, CostBatch, Order, OrderCostVariance, Todo, User
from tests import helpers
from tests.workflows.test_collection import (
    accept,
    attribute,
    confirmed_order,
    installments,
    mail_to,
    pay,
    saved,
    todos,
)
from workflows.order import OrderWorkflow
from workflows.steps import INVALID, NOT_ASSIGNEE, NOT_OPEN, SELF_APPROVAL

STAGE = SearchAttributeKey.for_keyword("Stage")
ATTRIBUTES = {
    "OrderNo": SearchAttributeKey.for_keyword("OrderNo"),
    "Customer": SearchAttributeKey.for_keyword("Customer"),
    "Owner": SearchAttributeKey.for_keyword("Owner"),
    "Department": SearchAttributeKey.for_keyword("Department"),
    "Stage": STAGE,
    "OrderTotal": SearchAttributeKey.for_float("OrderTotal"),
    "Outstanding": SearchAttributeKey.for_float("Outstanding"),
    "Overdue": SearchAttributeKey.for_bool("Overdue"),
    "Delayed": SearchAttributeKey.for_bool("Delayed"),
    "ShipmentDelayed": SearchAttributeKey.for_bool("ShipmentDelayed"),
}


def order_of(env, order: Order) -> WorkflowHandle:
    return env.client.get_workflow_handle_for(OrderWorkflow.run, f"order-{order.number}")


def item(category: str, amount: str, reference: str) -> CostItem:
    return CostItem(
        category=CostCategory(category),
        amount=Decimal(amount),
        supplier_payment_reference=reference,
    )


async def record(env, session_factory, order, items, *, final=True, username="ops") -> None:
    [todo] = await helpers.open_todos(session_factory, order, "record_actual_costs")
    await order_of(env, order).execute_update(
        OrderWorkflow.record_actual_costs,
        CostRecording(
            actor=await helpers.actor(session_factory, username),
            todo_key=todo.key,
            items=items,
            final=final,
        ),
    )


async def decide_costs(env, session_factory, order, outcome="approve", comment="") -> None:
    [todo] = await helpers.open_todos(session_factory, order, "approve_actual_costs")
    await order_of(env, order).execute_update(
        OrderWorkflow.approve_actual_costs,
        Decision(
            actor=await helpers.actor(session_factory, "finance"),
            todo_key=todo.key,
            outcome=outcome,
            comment=comment,
        ),
    )


async def review(env, session_factory, order, explanation="", username="ops") -> None:
    [todo] = await helpers.open_todos(session_factory, order, "review_variance")
    await order_of(env, order).execute_update(
        OrderWorkflow.review_variance,
        VarianceReview(
            actor=await helpers.actor(session_factory, username),
            todo_key=todo.key,
            explanation=explanation,
        ),
    )


async def decide_variance(
    env, session_factory, order, outcome="approve", comment="", username="ops_manager"
) -> None:
    [todo] = await helpers.open_todos(session_factory, order, "approve_variance")
    await order_of(env, order).execute_update(
        OrderWorkflow.approve_variance,
        Decision(
            actor=await helpers.actor(session_factory, username),
            todo_key=todo.key,
            outcome=outcome,
            comment=comment,
        ),
    )


async def refused(handle: WorkflowHandle, update, argument, kind: str) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await handle.execute_update(update, argument)
    assert failure.value.cause.type == kind, failure.value.cause
    return failure.value.cause.message


async def paid_order(env, session_factory, settings) -> Order:
    """Confirmed and paid in full (one payment): ops are asked for the actual costs."""
    order, _ = await confirmed_order(env, session_factory, settings)
    [(amount, _, _)] = await installments(session_factory, order)
    await pay(env, session_factory, order, str(amount), "BANK-1")
    return order


async def closed_path(env, session_factory, settings) -> Order:
    """Paid, the costs recorded 10 % above expected and approved, accepted, the variance
    explained by ops and approved by the operations manager: the order closes."""
    order = await paid_order(env, session_factory, settings)
    expected = (await saved(session_factory, order)).expected_cost
    goods = expected * Decimal("1.10")
    await record(env, session_factory, order, [item("goods", f"{goods:.2f}", "SUP-1")])
    await decide_costs(env, session_factory, order)
    await accept(env, session_factory, order)
    await review(env, session_factory, order, "Steel price rose in March")
    await decide_variance(env, session_factory, order)
    await order_of(env, order).result()
    return order


async def test_a_closed_order_has_its_final_figures_and_every_search_attribute(
    env, session_factory, settings, worker
):
    order = await closed_path(env, session_factory, settings)
    closed = await saved(session_factory, order)
    assert closed.stage == "closed" and closed.closed_at is not None
    expected = closed.expected_cost
    assert closed.actual_cost == (expected * Decimal("1.10")).quantize(Decimal("0.01"))
    assert closed.variance == closed.actual_cost - expected
    assert closed.variance_percent == Decimal("10.00")
    assert closed.variance_explanation == "Steel price rose in March"
    async with session_factory() as session:
        rows = {
            r.category: (r.expected, r.actual, r.difference)
            for r in await session.scalars(
                select(OrderCostVariance).where(OrderCostVariance.order_id == order.id)
            )
        }
    # every category but the return freight, which is compared only where some was spent
    assert set(rows) == {c.value for c in CostCategory} - {"return_freight"}
    baseline = closed.freight_cost + closed.installation_cost + closed.other_cost
    assert rows["goods"][:2] == (expected - baseline, closed.actual_cost)
    assert rows["freight"] == (closed.freight_cost, 0, -closed.freight_cost)
    assert rows["customs"] == (0, 0, 0)
    assert sum(r[0] for r in rows.values()) == expected
    assert sum(r[2] for r in rows.values()) == closed.variance
    kinds = [t.kind for t in await todos(session_factory, order, "review_variance")]
    assert kinds == ["review_variance"]
    assert (await mail_to(session_factory, "Order closed"))["sales@o2c.example.com"] == 1

    described = (await order_of(env, order).describe()).typed_search_attributes
    values = {name: described.get(key) for name, key in ATTRIBUTES.items()}
    assert values == {
        "OrderNo": order.number,
        "Customer": closed.customer.name,
        "Owner": "sales",
        "Department": closed.department.name,
        "Stage": "closed",
        "OrderTotal": float(closed.total),
        "Outstanding": 0.0,
        "Overdue": False,
        "Delayed": False,
        "ShipmentDelayed": False,
    }


async def test_costs_are_asked_for_on_the_first_confirmed_payment_only(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    assert await todos(session_factory, order, "record_actual_costs") == []
    [(amount, _, _)] = await installments(session_factory, order)
    half = (amount / 2).quantize(Decimal("0.01"))
    await pay(env, session_factory, order, str(half), "BANK-1")
    [asked] = await helpers.open_todos(session_factory, order, "record_actual_costs")
    assert asked.workflow_id == f"order-{order.number}"  # the order completes it
    await pay(env, session_factory, order, str(amount - half), "BANK-2")
    assert len(await todos(session_factory, order, "record_actual_costs")) == 1


async def test_the_review_waits_for_costs_at_finance_and_a_rejected_batch_is_recorded_again(
    env, session_factory, settings, worker
):
    order = await paid_order(env, session_factory, settings)
    expected = (await saved(session_factory, order)).expected_cost
    await record(env, session_factory, order, [item("goods", f"{expected:.2f}", "SUP-1")])
    await decide_costs(env, session_factory, order, "reject", "That invoice is for SO-0001")
    # Rejected: ops are asked again (the batch said it was the last).
    [again] = await helpers.open_todos(session_factory, order, "record_actual_costs")
    assert again.facts == {"comment": "That invoice is for SO-0001"}
    await record(
        env, session_factory, order, [item("goods", f"{expected:.2f}", "SUP-1")], final=True
    )
    await accept(env, session_factory, order)
    assert await order_of(env, order).query(OrderWorkflow.status) == "cost_review"
    assert await todos(session_factory, order, "review_variance") == []  # costs at finance
    await decide_costs(env, session_factory, order)
    [review_todo] = await helpers.open_todos(session_factory, order, "review_variance")
    assert review_todo.facts["above_threshold"] is False
    assert review_todo.facts["difference"] == "0.00"
    # Within the threshold: the review closes the order, no explanation needed.
    await review(env, session_factory, order)
    await order_of(env, order).result()
    closed = await saved(session_factory, order)
    assert (closed.stage, closed.variance, closed.variance_explanation) == ("closed", 0, None)
    async with session_factory() as session:
        statuses = list(
            await session.scalars(
                select(CostBatch.status)
                .where(CostBatch.order_id == order.id)
                .order_by(CostBatch.number)
            )
        )
    assert statuses == ["rejected", "approved"]
    assert await todos(session_factory, order, "approve_variance") == []


async def test_a_variance_sent_back_is_reviewed_again_and_the_reviewer_cannot_approve_it(
    env, session_factory, settings, worker
):
    async with session_factory() as session:  # a second operations manager
        first = await session.scalar(select(User).where(User.username == "ops_manager"))
        session.add(
            User(
                username="ops_manager2",
                full_name="Zhou Min",
                email="ops_manager2@o2c.example.com",
                password_hash=hash_password("unused-password-1"),
                role=Role.ops_manager.value,
                department_id=first.department_id,
                active=True,
            )
        )
        await session.commit()
    order = await paid_order(env, session_factory, settings)
    expected = (await saved(session_factory, order)).expected_cost
    await record(
        env,
        session_factory,
        order,
        [
            item("goods", f"{expected:.2f}", "SUP-1"),
            item("customs", "900.00", "CUS-7"),
        ],
    )
    await decide_costs(env, session_factory, order)
    await accept(env, session_factory, order)
    handle = order_of(env, order)
    [todo] = await helpers.open_todos(session_factory, order, "review_variance")
    ops = await helpers.actor(session_factory, "ops")
    message = await refused(
        handle,
        OrderWorkflow.review_variance,
        VarianceReview(actor=ops, todo_key=todo.key, explanation="  "),
        INVALID,
    )
    assert message == (
        "Explain the variance: it is above the threshold of 5 % of the expected cost."
    )
    # An operations manager reviews it; they may not approve it themselves.
    await review(env, session_factory, order, "Customs fees", username="ops_manager")
    [decision] = await helpers.open_todos(session_factory, order, "approve_variance")
    assert decision.facts["explanation"] == "Customs fees"
    manager = await helpers.actor(session_factory, "ops_manager")
    assert "another operations manager" in await refused(
        handle,
        OrderWorkflow.approve_variance,
        Decision(actor=manager, todo_key=decision.key, outcome="approve"),
        SELF_APPROVAL,
    )
    await refused(
        handle,
        OrderWorkflow.approve_variance,
        Decision(actor=ops, todo_key=decision.key, outcome="approve"),
        NOT_ASSIGNEE,
    )
    await decide_variance(
        env, session_factory, order, "reject", "Attach the customs bill", username="ops_manager2"
    )
    [second] = await helpers.open_todos(session_factory, order, "review_variance")
    assert second.key.endswith("/variance/2/review")
    assert second.facts["comment"] == "Attach the customs bill"
    await review(env, session_factory, order, "Customs fees, bill CUS-7 attached")
    await decide_variance(env, session_factory, order, username="ops_manager2")
    await handle.result()
    closed = await saved(session_factory, order)
    assert closed.stage == "closed"
    assert closed.variance_explanation == "Customs fees, bill CUS-7 attached"


async def test_refused_recordings_change_nothing(env, session_factory, settings, worker):
    order, _ = await confirmed_order(env, session_factory, settings)
    handle = order_of(env, order)
    ops = await helpers.actor(session_factory, "ops")
    finance = await helpers.actor(session_factory, "finance")
    # Before the first payment there is nothing to record against.
    assert "no longer open" in await refused(
        handle,
        OrderWorkflow.record_actual_costs,
        CostRecording(
            actor=ops,
            todo_key=f"order-{order.number}/costs/record/1",
            items=[item("goods", "10", "SUP-1")],
        ),
        NOT_OPEN,
    )
    [(amount, _, _)] = await installments(session_factory, order)
    await pay(env, session_factory, order, str(amount), "BANK-1")
    [todo] = await helpers.open_todos(session_factory, order, "record_actual_costs")
    await record(env, session_factory, order, [item("freight", "300", "SUP-9")], final=False)
    [todo] = await helpers.open_todos(session_factory, order, "record_actual_costs")

    async def snapshot() -> tuple:
        async with session_factory() as session:
            batches = await session.scalar(
                select(func.count()).select_from(CostBatch).where(CostBatch.order_id == order.id)
            )
            items = await session.scalar(
                select(func.count()).select_from(ActualCost).where(ActualCost.order_id == order.id)
            )
            open_todos = await session.scalar(
                select(func.count())
                .select_from(Todo)
                .where(Todo.order_id == order.id, Todo.status == "open")
            )
            return batches, items, open_todos

    before = await snapshot()
    cases = [
        ([item("goods", "0", "SUP-1")], ops, INVALID, "Item 1: the amount must be more than zero."),
        ([item("goods", "-5", "SUP-1")], ops, INVALID, "the amount must be more than zero"),
        ([item("goods", "5", "  ")], ops, INVALID, "Item 1: give the supplier payment reference."),
        ([item("freight", "5", "sup-9")], ops, INVALID, "already recorded as freight"),
        (
            [item("goods", "5", "A"), item("goods", "6", "a")],
            ops,
            INVALID,
            "Item 2: supplier payment a is given twice.",
        ),
        ([], ops, INVALID, "Give at least one cost item."),
        (
            [item("goods", "5", "SUP-1")],
            finance,
            NOT_ASSIGNEE,
            "Operations record the actual costs; finance approve them.",
        ),
    ]
    for items, actor, kind, text in cases:
        message = await refused(
            handle,
            OrderWorkflow.record_actual_costs,
            CostRecording(actor=actor, todo_key=todo.key, items=items),
            kind,
        )
        assert text in message, (items, message)
    assert await snapshot() == before
    assert await attribute(handle, STAGE, "fulfilment") == "fulfilment"
