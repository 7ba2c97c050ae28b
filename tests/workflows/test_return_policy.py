"""The approval policy's amount above which a return also needs the director, on the
time-skipping server: the value of the goods asked back (at each line's net unit price) above
it, the manager approves and then the director; at or below it the manager alone; the
director's rejection leaves the goods with the customer and moves no money."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from models.policy import PolicyBody, current_policy, save_policy
from models.tables import CreditNote, OrderReturn, Refund, Todo, TodoAssignee, User
from tests import helpers
from tests.helpers import events, saved
from tests.workflows.test_collection import confirmed_order
from tests.workflows.test_returns import approve, ask
from tests.workflows.test_shipment import dispatch, plan, stock
from workflows.steps import NOT_ASSIGNEE

D = Decimal
PIECE = D("8500.00")  # PUMP-10's net unit price on the test order
# Each on a test server of its own, as the returns tests are.
pytestmark = pytest.mark.own_test_server


async def director_above(session_factory, amount: Decimal | None) -> None:
    """The administrator saves the policy in force with the return amount set."""
    async with session_factory() as session:
        admin = await session.scalar(select(User).where(User.username == "admin"))
        in_force = await current_policy(session=session)
        body = PolicyBody(
            stages=in_force.stages,
            notify=in_force.notify,
            cancellation_director_above=in_force.cancellation_director_above,
            return_director_above=amount,
        )
        await save_policy(session=session, user=admin, body=body)


async def dispatched_order(env, session_factory, settings, quantity="3"):
    order, _ = await confirmed_order(env, session_factory, settings, quantity=quantity)
    await plan(env, session_factory, order)
    await dispatch(env, session_factory, order)
    return order


async def assignees_of(session_factory, todo: Todo) -> list[tuple[str | None, int | None]]:
    async with session_factory() as session:
        rows = await session.scalars(select(TodoAssignee).where(TodoAssignee.todo_id == todo.id))
        return [(a.role, a.user_id) for a in rows]


async def decided_return(session_factory) -> OrderReturn:
    """The order's one return once its round is decided."""
    async with session_factory() as session:
        for _ in range(200):
            [row] = await session.scalars(select(OrderReturn))
            if row.status != "requested":
                return row
            await asyncio.sleep(0.05)
            session.expunge_all()
    return row


async def test_a_return_worth_more_than_the_amount_is_approved_by_the_manager_then_the_director(
    env, session_factory, settings, worker
):
    order = await dispatched_order(env, session_factory, settings)
    await director_above(session_factory, 2 * PIECE - D("0.01"))
    await ask(env, session_factory, order, "2")  # worth 17,000.00

    [first] = await helpers.open_todos(session_factory, order, "approve_return")
    await approve(env, session_factory, order)  # the owner's department manager

    [second] = await helpers.open_todos(session_factory, order, "approve_return")
    assert second.key != first.key
    assert await assignees_of(session_factory, second) == [("director", None)]
    assert not await helpers.open_todos(session_factory, order, "receive_return", at_least=0)
    with pytest.raises(WorkflowUpdateFailedError) as manager_again:
        await approve(env, session_factory, order)
    assert manager_again.value.cause.type == NOT_ASSIGNEE

    await approve(env, session_factory, order, who="director")

    [receipt] = await helpers.open_todos(session_factory, order, "receive_return")
    assert receipt.facts["lines"][0]["expected"] == "2"
    row = await decided_return(session_factory)
    assert row.status == "approved"
    assert row.decided_by_id == (await helpers.user(session_factory, "director")).id
    assert "return_approved" in await events(session_factory, order)


async def test_a_return_worth_the_amount_or_less_is_approved_by_the_manager_alone(
    env, session_factory, settings, worker
):
    order = await dispatched_order(env, session_factory, settings)
    await director_above(session_factory, 2 * PIECE)  # not above it
    await ask(env, session_factory, order, "2")

    await approve(env, session_factory, order)

    [receipt] = await helpers.open_todos(session_factory, order, "receive_return")
    assert not await helpers.open_todos(session_factory, order, "approve_return", at_least=0)
    row = await decided_return(session_factory)
    assert row.decided_by_id == (await helpers.user(session_factory, "sales_manager")).id


async def test_the_directors_rejection_leaves_nothing_received_and_moves_no_money(
    env, session_factory, settings, worker
):
    order = await dispatched_order(env, session_factory, settings)
    await director_above(session_factory, D("0"))
    on_hand = (await stock(session_factory, "PUMP-10"))[0]
    await ask(env, session_factory, order, "1")
    await approve(env, session_factory, order)

    await approve(env, session_factory, order, who="director", outcome="reject", why="Used goods")

    row = await decided_return(session_factory)
    assert (row.status, row.comment, row.value) == ("rejected", "Used goods", 0)
    assert [line.received for line in row.lines] == [0]
    assert not await helpers.open_todos(session_factory, order, "receive_return", at_least=0)
    assert not await helpers.open_todos(session_factory, order, "approve_return", at_least=0)
    assert (await stock(session_factory, "PUMP-10"))[0] == on_hand
    saved_order = await saved(session_factory, order)
    assert saved_order.returned == 0 and saved_order.net_total == saved_order.total
    async with session_factory() as session:
        assert list(await session.scalars(select(Refund))) == []
        assert list(await session.scalars(select(CreditNote))) == []
    assert "return_rejected" in await events(session_factory, order)
