"""The return steps on a confirmed, dispatched order (2 × PUMP-10, 17,000.00, all due on
confirmation): a request is refused before dispatch, above what can come back and on a closed
order, writing nothing; a receipt run twice (its reply lost) moves the stock once, counts the
value once and opens one refund; the rest closed with why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from sqlalchemy import select, update

from activities.cancellation import open_refund
from activities.refunds import RefundActivities
from activities.return_receipts import ReceiptActivities
from activities.returns import ReturnActivities
from activities.store import StepStore
from models.domain import CancellationStep, ReceivedLine, ReturnLine, ReturnStep
from models.tables import Order, OrderReturn, Product, Refund
from tests.activities.change_fixtures import (
    BASE_URL,
    PUMP,
    Clock,
    Placed,
    change_mails,
    dispatch_all,
    events,
    placed,
    saved,
)

__all__ = ["placed"]  # the fixture, used by name


def steps(placed: Placed) -> tuple[ReturnActivities, ReceiptActivities]:
    store = StepStore(placed.session_factory, base_url=BASE_URL, clock=Clock())
    return ReturnActivities(store), ReceiptActivities(store)


def step(placed: Placed, name: str, number: int = 1, **fields: object) -> ReturnStep:
    return ReturnStep(
        order_id=placed.order.id,
        workflow_id=placed.wid,
        step_key=f"{placed.wid}/return/{number}/{name}",
        number=number,
        **fields,
    )


def asking(placed: Placed, quantity: str, number: int = 1) -> ReturnStep:
    return step(
        placed, "requested", number, actor_id=placed.owner.user_id, reason="Wrong model",
        lines=[ReturnLine(line_id=placed.line_id, quantity=D(quantity))],
    )  # fmt: skip


async def on_hand(placed: Placed) -> D:
    async with placed.session_factory() as session:
        return await session.scalar(select(Product.stock_on_hand).where(Product.id == PUMP))


async def test_a_return_is_refused_before_dispatch_and_above_what_went_out(placed):
    returns, _ = steps(placed)
    early = await returns.record_return_request(asking(placed, "1"))
    assert early.problem_template.startswith("Order %(number)s has not been dispatched")
    await dispatch_all(placed)
    above = await returns.record_return_request(asking(placed, "3"))
    assert above.refusal() is not None and above.problem_params["room"] == "2"
    async with placed.session_factory() as session:
        assert list(await session.scalars(select(OrderReturn))) == []
        await session.execute(update(Order).values(stage="closed"))
        await session.commit()
    closed = await returns.record_return_request(asking(placed, "1"))
    assert "closed or cancelled" in (closed.problem or "")
    assert await events(placed.session_factory, placed.order, "return_requested") == 0


async def test_a_receipt_run_twice_restocks_once_and_opens_one_refund(placed):
    returns, receipts = steps(placed)
    await dispatch_all(placed)
    async with placed.session_factory() as session:  # the order was paid in full
        await session.execute(update(Order).values(paid=D("17000.00"), stage="collection"))
        await session.commit()
    asked = await returns.record_return_request(asking(placed, "2"))
    assert asked.expected == {placed.line_id: D("2")}
    wid = placed.wid
    await returns.decide_return(
        step(placed, "approved", outcome="approve", actor_id=placed.owner.user_id + 1,
             todo_key=f"{wid}/return/1/receive/1")
    )  # fmt: skip
    before = await on_hand(placed)
    receipt = step(
        placed, "receipt/1", actor_id=placed.owner.user_id, receipt=1,
        todo_key=f"{wid}/return/1/receive/1", next_todo_key=f"{wid}/return/1/receive/2",
        refund_key=f"{wid}/return/1/refund/1", credit_note_key=f"{wid}/return/1/credit-note/1",
        received=[ReceivedLine(line_id=placed.line_id, quantity=D("1"), condition="restock")],
    )  # fmt: skip
    first = await receipts.receive_return(receipt)
    mails = await change_mails(placed)
    second = await receipts.receive_return(receipt)  # the reply was lost: Temporal retries

    assert first.money == second.money and first.money is not None
    assert first.money.value == D("8500.00") and first.money.refund == D("8500.00")
    assert first.expected == second.expected == {placed.line_id: D("1")}
    assert await on_hand(placed) == before + 1
    assert (await saved(placed.session_factory, placed.order)).returned == D("8500.00")
    assert await change_mails(placed) == mails  # nobody mailed twice
    async with placed.session_factory() as session:
        assert [r.due for r in await session.scalars(select(Refund))] == [D("8500.00")]

    closing = step(
        placed, "receipt/2", actor_id=placed.owner.user_id, receipt=2, close_rest=True,
        reason="Lost by the carrier", todo_key=f"{wid}/return/1/receive/2",
        next_todo_key=f"{wid}/return/1/receive/3", refund_key=f"{wid}/return/1/refund/2",
    )  # fmt: skip
    closed = await receipts.receive_return(closing)
    assert closed.finished and closed.money is not None and closed.money.value == 0
    async with placed.session_factory() as session:
        [row] = await session.scalars(select(OrderReturn))
    assert (row.status, row.closed_reason, row.receipts) == ("closed", "Lost by the carrier", 2)
    assert await events(placed.session_factory, placed.order, "return_closed") == 1


async def test_the_rest_of_a_partly_paid_refund_gets_a_number_no_other_refund_has(placed):
    """Two returns each left a refund (numbers 1 and 2); finance pay the first in part: the
    rest is refund 3, with its to-do (it took number 2, which the second return's refund has,
    so its row was never written and confirming it could not find it)."""
    store = StepStore(placed.session_factory, base_url=BASE_URL, clock=Clock())
    wid = placed.wid
    for number in (1, 2):  # as the receipts open them: a refund row and its to-do each
        opening = CancellationStep(
            order_id=placed.order.id, workflow_id=wid, step_key=f"{wid}/return/{number}/r",
            number=number, actor_id=placed.owner.user_id,
            next_refund_key=f"{wid}/return/{number}/refund/1",
        )  # fmt: skip
        async with store.step() as session:
            order = await store.order(session, order_id=placed.order.id, with_lines=False)
            await open_refund(store.recorder(session), order, opening, due=D("1000.00"))
            await session.commit()
    paid = CancellationStep(
        order_id=placed.order.id, workflow_id=wid, step_key=f"{wid}/return/1/refund/1/refunded",
        number=1, actor_id=placed.owner.user_id, todo_key=f"{wid}/return/1/refund/1",
        amount=D("400.00"), paid_on=date.today(), method="bank_transfer", reference="RF-1",
        next_refund_key=f"{wid}/return/1/refund/1/rest",
    )  # fmt: skip
    refunds = RefundActivities(store)
    await refunds.confirm_refund(paid)
    await refunds.confirm_refund(paid)  # its reply lost: Temporal retries
    async with placed.session_factory() as session:
        rows = list(await session.scalars(select(Refund).order_by(Refund.number)))
    assert [(r.number, r.todo_key.rsplit("/", 2)[-2:], r.due, r.status) for r in rows] == [
        (1, ["refund", "1"], D("1000.00"), "refunded"),
        (2, ["refund", "1"], D("1000.00"), "pending"),
        (3, ["1", "rest"], D("600.00"), "pending"),
    ]
