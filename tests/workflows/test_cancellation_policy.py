"""The approval policy's amount above which a confirmed order's cancellation also needs the
director, on the time-skipping server: the manager approves, then the director (their
rejection leaves the order running), at or below the amount the manager alone, nobody
approving their own cancellation; and the pure rule that picks the director's step."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from models.domain import Assignee, CancellationDecision, CancelOrder, Role
from models.policy import PolicyBody, current_policy, save_policy
from models.tables import Cancellation, Order, Todo, TodoAssignee, User
from tests import helpers
from tests.helpers import events, order_handle
from tests.workflows.test_collection import confirmed_order
from tests.workflows.test_shipment import dispatch, plan
from workflows.order import OrderWorkflow
from workflows.rules.cancellation import director_step, needs_director
from workflows.steps import NOT_ASSIGNEE, SELF_APPROVAL

# Each on a test server of its own: waiting for a cancelled order's result lets the server skip
# time, which other orders' timers on a shared server would feel.
pytestmark = pytest.mark.own_test_server


async def director_above(session_factory, amount: Decimal | None) -> None:
    """The administrator saves the policy in force with the cancellation amount set."""
    async with session_factory() as session:
        admin = await session.scalar(select(User).where(User.username == "admin"))
        in_force = await current_policy(session=session)
        body = PolicyBody(
            stages=in_force.stages, notify=in_force.notify, cancellation_director_above=amount
        )
        await save_policy(session=session, user=admin, body=body)


async def cancel(env, session_factory, order, who="sales"):
    actor = await helpers.actor(session_factory, who)
    return await order_handle(env, order).execute_update(
        OrderWorkflow.cancel,
        CancelOrder(actor=actor, reason_code="customer_request", reason="Project stopped"),
    )


async def decide(env, session_factory, order, todo: Todo, who: str, outcome="approve", why=""):
    actor = await helpers.actor(session_factory, who)
    return await order_handle(env, order).execute_update(
        OrderWorkflow.approve_cancellation,
        CancellationDecision(todo_key=todo.key, actor=actor, outcome=outcome, comment=why),
    )


async def approvals(session_factory, order) -> list[tuple[str, str, str | None]]:
    """Every approve_cancellation to-do of the order: (key's end, status, outcome)."""
    async with session_factory() as session:
        rows = await session.scalars(
            select(Todo)
            .where(Todo.order_id == order.id, Todo.kind == "approve_cancellation")
            .order_by(Todo.id)
        )
        return [(t.key.rsplit("/", 1)[1], t.status, t.outcome) for t in rows]


async def assignees_of(session_factory, todo: Todo) -> list[tuple[str | None, int | None]]:
    async with session_factory() as session:
        rows = await session.scalars(select(TodoAssignee).where(TodoAssignee.todo_id == todo.id))
        return [(a.role, a.user_id) for a in rows]


async def the_cancellation(session_factory) -> Cancellation:
    async with session_factory() as session:
        [row] = await session.scalars(select(Cancellation))
        return row


async def stage_of(session_factory, order) -> str:
    async with session_factory() as session:
        return (await session.get(Order, order.id)).stage


# -- the workflow ------------------------------------------------------------------------------


async def test_above_the_amount_the_manager_approves_then_the_director_cancels_the_order(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings)
    await director_above(session_factory, order.total - Decimal("0.01"))
    await cancel(env, session_factory, order)
    [first] = await helpers.open_todos(session_factory, order, "approve_cancellation")
    assert first.facts["director_next"] is True

    await decide(env, session_factory, order, first, "sales_manager")

    [second] = await helpers.open_todos(session_factory, order, "approve_cancellation")
    assert second.key.endswith("/cancel/1/approve-director")
    assert await assignees_of(session_factory, second) == [("director", None)]
    assert second.facts["manager_approved_by"] == "Li Na"
    assert await stage_of(session_factory, order) == "fulfilment"  # not cancelled yet
    assert (await the_cancellation(session_factory)).status == "requested"
    with pytest.raises(WorkflowUpdateFailedError) as manager_again:
        await decide(env, session_factory, order, second, "sales_manager")
    assert manager_again.value.cause.type == NOT_ASSIGNEE

    await decide(env, session_factory, order, second, "director")

    assert (await handle.result()).stage == "cancelled"  # nothing paid or invoiced
    assert await approvals(session_factory, order) == [
        ("approve", "done", "approve"),
        ("approve-director", "done", "approve"),
    ]
    row = await the_cancellation(session_factory)
    assert row.status == "cancelled"
    assert row.decided_by_id == (await helpers.user(session_factory, "director")).id
    kinds = await events(session_factory, order)
    assert kinds.index("cancellation_approved_by_manager") < kinds.index("cancellation_approved")


async def test_the_directors_rejection_leaves_the_order_running_and_dispatch_goes_on(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    await plan(env, session_factory, order)
    await director_above(session_factory, Decimal("0"))
    await cancel(env, session_factory, order)
    [first] = await helpers.open_todos(session_factory, order, "approve_cancellation")
    await decide(env, session_factory, order, first, "sales_manager")
    [second] = await helpers.open_todos(session_factory, order, "approve_cancellation")

    with pytest.raises(WorkflowUpdateFailedError) as no_reason:
        await decide(env, session_factory, order, second, "director", "reject")
    assert no_reason.value.cause.type == "InvalidInput"
    with pytest.raises(WorkflowUpdateFailedError) as owner:
        await decide(env, session_factory, order, second, "sales")
    assert owner.value.cause.type in (NOT_ASSIGNEE, SELF_APPROVAL)

    await decide(env, session_factory, order, second, "director", "reject", "Keep the customer")

    assert await stage_of(session_factory, order) == "fulfilment"
    row = await the_cancellation(session_factory)
    assert (row.status, row.comment) == ("rejected", "Keep the customer")
    assert await helpers.open_todos(session_factory, order, "confirm_refund", at_least=0) == []
    await dispatch(env, session_factory, order)  # the hold is lifted


async def test_at_the_amount_or_below_the_managers_approval_alone_cancels_the_order(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings)
    await director_above(session_factory, order.total)  # not above it
    await cancel(env, session_factory, order)
    [todo] = await helpers.open_todos(session_factory, order, "approve_cancellation")
    assert "director_next" not in (todo.facts or {})

    await decide(env, session_factory, order, todo, "sales_manager")

    assert (await handle.result()).stage == "cancelled"
    assert await approvals(session_factory, order) == [("approve", "done", "approve")]


async def test_a_director_who_asks_is_routed_around_to_another_director(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings)
    async with session_factory() as session:
        director = await session.scalar(select(User).where(User.username == "director"))
        other = User(
            username="director2", full_name="Qian Bo (Director)", email="director2@o2c.example.com",
            password_hash=director.password_hash, role="director",
            department_id=director.department_id, active=True,
        )  # fmt: skip
        session.add(other)
        await session.commit()
        other_id = other.id
    await director_above(session_factory, Decimal("1"))
    await cancel(env, session_factory, order, who="director")
    [first] = await helpers.open_todos(session_factory, order, "approve_cancellation")
    await decide(env, session_factory, order, first, "sales_manager")
    [second] = await helpers.open_todos(session_factory, order, "approve_cancellation")
    assert await assignees_of(session_factory, second) == [(None, other_id)]

    with pytest.raises(WorkflowUpdateFailedError) as own:
        await decide(env, session_factory, order, second, "director")
    assert own.value.cause.type in (NOT_ASSIGNEE, SELF_APPROVAL)
    await decide(env, session_factory, order, second, "director2")

    assert (await handle.result()).stage == "cancelled"


# -- the rule ----------------------------------------------------------------------------------

OWNER, REQUESTER, MANAGER, DIRECTOR, OTHER_DIRECTOR = 1, 2, 3, 10, 11


@pytest.mark.parametrize(
    ("total", "above", "needed"),
    [("100.00", None, False), ("100.00", "100.00", False), ("100.01", "100.00", True),
     ("0.01", "0", True)],
)  # fmt: skip
def test_the_director_is_needed_only_above_the_policys_amount(total, above, needed):
    assert needs_director(Decimal(total), Decimal(above) if above else None) is needed


def test_the_director_role_decides_when_neither_owner_nor_requester_is_a_director():
    step = director_step({DIRECTOR}, owner_id=OWNER, requester_id=REQUESTER, manager_id=MANAGER)
    assert step == [Assignee(role=Role.director)]


def test_a_requesting_director_is_routed_around_to_the_other_directors_by_name():
    step = director_step(
        {DIRECTOR, OTHER_DIRECTOR}, owner_id=OWNER, requester_id=DIRECTOR, manager_id=MANAGER
    )
    assert step == [Assignee(user_id=OTHER_DIRECTOR)]


def test_no_director_step_when_the_manager_is_a_director_or_no_other_director_is_left():
    same = director_step({DIRECTOR}, owner_id=OWNER, requester_id=REQUESTER, manager_id=DIRECTOR)
    alone = director_step({DIRECTOR}, owner_id=OWNER, requester_id=DIRECTOR, manager_id=MANAGER)
    nobody = director_step(set(), owner_id=OWNER, requester_id=REQUESTER, manager_id=MANAGER)
    assert same == alone == nobody == []
