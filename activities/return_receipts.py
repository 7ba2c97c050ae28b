"""The warehouse receives a return: restocked goods back on hand (once per receipt, however
often the step runs), the order's returned value and net total, and the money that follows
(a refund and a credit note for finance); the rest received later or closed with why."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import case, func, select, update
from temporalio import activity

from activities.cancellation import ZERO
from activities.change_terms import installments_of
from activities.collection import FINANCE
from activities.contact_mail import tell_contacts
from activities.returns import (
    ReturnActivities,
    expected_of,
    lines_text,
    people_of_return,
    received_by_line,
    return_of,
)
from activities.steps import StepRecorder, amount_text, insert_once
from activities.store import StepStore
from models.domain import ReturnMoney, ReturnStep, ReturnStepResult, TodoKind
from models.tables import CreditNote, Order, OrderReturn, Product, Refund
from workflows import rules


async def money_back_so_far(rec: StepRecorder, order: Order) -> tuple[Decimal, Decimal]:
    """What is refunded or to be (a refund's amount once paid, else its due), and what is
    credited or to be, on the order so far."""
    refunded = await rec.session.scalar(
        select(
            func.coalesce(
                func.sum(case((Refund.status == "refunded", Refund.amount), else_=Refund.due)), 0
            )
        ).where(Refund.order_id == order.id)
    )
    credited = await rec.session.scalar(
        select(func.coalesce(func.sum(CreditNote.amount), 0)).where(CreditNote.order_id == order.id)
    )
    return Decimal(refunded or 0), Decimal(credited or 0)


class ReceiptActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def receive_return(self, step: ReturnStep) -> ReturnStepResult:
        """The warehouse received (part of) the return: per line restocked (back on hand) or
        scrapped; the order's returned value grows by what came back at each line's net unit
        price, and its money follows (ReturnMoney); finance get a refund and a credit note
        to-do when money goes back. What is still expected gets a next receive_return to-do,
        unless the rest is closed. Everyone concerned, the customer's contacts too, is told."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
            order_return = await return_of(session, order, step.number)
            assert step.todo_key is not None  # the receive_return to-do
            await rec.close_todo(step.todo_key, outcome="received", by_user_id=step.actor_id)
            if order_return.receipts < step.receipt:
                money = await self._apply(rec, order, order_return, step)
                order_return.last_money = money.model_dump(mode="json")
                order_return.receipts = step.receipt
            else:  # a retried step: the stock moved and the money was counted already
                money = ReturnMoney.model_validate(order_return.last_money)
            expected = expected_of(order_return)
            finished = not expected
            if not finished and step.next_todo_key is not None:
                await ReturnActivities._open_receipt(rec, order, step, step.next_todo_key, expected)
            await self._tell(rec, order, order_return, step, money)
            await session.commit()
            return ReturnStepResult(
                expected=expected,
                money=money,
                finished=finished,
                opened=rec.opened,
                mail_ids=rec.mail_ids,
            )

    async def _apply(
        self, rec: StepRecorder, order: Order, order_return: OrderReturn, step: ReturnStep
    ) -> ReturnMoney:
        """The receipt's goods and value, once: stock, the return's lines, the order's returned
        value; then its money, refund and credit note."""
        before = await received_by_line(rec.session, order)
        lines = {line.id: line for line in order.lines}
        on_return = {line.order_line_id: line for line in order_return.lines}
        value = ZERO
        for got in step.received:
            order_line, line = lines[got.line_id], on_return[got.line_id]
            worth = rules.returned_value(
                order_line.amount, order_line.quantity,
                before=before.get(got.line_id, ZERO), now=got.quantity,
            )  # fmt: skip
            before[got.line_id] = before.get(got.line_id, ZERO) + got.quantity
            line.received += got.quantity
            line.amount += worth
            value += worth
            if got.condition.strip() == "restock":
                line.restocked += got.quantity
                await rec.session.execute(
                    update(Product)
                    .where(Product.id == order_line.product_id)
                    .values(stock_on_hand=Product.stock_on_hand + got.quantity)
                )
            else:
                line.scrapped += got.quantity
        returned_before = order.returned or ZERO
        order_return.value += value
        order.returned = returned_before + value
        order_return.status = "receiving"
        if step.close_rest or all(ln.received >= ln.quantity for ln in order_return.lines):
            order_return.status = "closed" if step.close_rest else "received"
            order_return.received_at = rec.now
            order_return.closed_reason = (step.reason or None) if step.close_rest else None
        if step.for_cancellation:  # the cancellation refunds and credits everything
            return ReturnMoney(value=value, net_total=order.net_total)
        refunded, credited = await money_back_so_far(rec, order)
        money = rules.return_money(
            await installments_of(rec.session, order),
            value=value,
            net_total_before=order.total - returned_before,
            paid=order.paid - refunded,
            invoiced=order.invoiced - credited,
        )
        await self._money_back(rec, order, order_return, step, money)
        return money

    async def _money_back(
        self,
        rec: StepRecorder,
        order: Order,
        order_return: OrderReturn,
        step: ReturnStep,
        money: ReturnMoney,
    ) -> None:
        """Finance are asked to refund what was paid above the new net total and to credit what
        was invoiced above it (one to-do each, by the keys the workflow gave)."""
        session = rec.session
        refunding = money.refund > 0 and step.refund_key is not None
        if refunding and step.refund_key is not None:
            last = await session.scalar(
                select(func.max(Refund.number)).where(Refund.order_id == order.id)
            )
            number = (last or 0) + 1
            await insert_once(
                session,
                Refund.__table__,
                {
                    "order_id": order.id, "number": number, "todo_key": step.refund_key,
                    "due": money.refund, "status": "pending", "created_at": rec.now,
                },
                unique=("todo_key",),
            )  # fmt: skip
            await rec.open_todo(
                key=step.refund_key, order=order, workflow_id=step.workflow_id,
                kind=TodoKind.confirm_refund, assignees=FINANCE, due_in=None,
                requested_by_id=step.actor_id,
                facts={"refund": number, "amount": str(money.refund), "return": step.number},
            )  # fmt: skip
        if money.credit > 0 and step.credit_note_key is not None:
            await insert_once(
                session,
                CreditNote.__table__,
                {
                    "order_id": order.id, "return_id": order_return.id,
                    "todo_key": step.credit_note_key, "amount": money.credit,
                    "status": "requested", "created_at": rec.now,
                },
                unique=("todo_key",),
            )  # fmt: skip
            await rec.open_todo(
                key=step.credit_note_key, order=order, workflow_id=step.workflow_id,
                kind=TodoKind.issue_credit_note, assignees=FINANCE, due_in=None,
                requested_by_id=step.actor_id,
                facts={"invoice_number": "", "amount": str(money.credit), "return": step.number},
                mail=not refunding,  # finance get one mail: the refund's says there is more
            )  # fmt: skip

    async def _tell(
        self,
        rec: StepRecorder,
        order: Order,
        order_return: OrderReturn,
        step: ReturnStep,
        money: ReturnMoney,
    ) -> None:
        """The timeline says what came back and what it did to the money; the owner, whoever
        asked and approved, finance (when money goes back) and the customer's contacts are
        told, one mail each."""
        got: dict[int, Decimal] = {}
        for line in step.received:
            got[line.line_id] = got.get(line.line_id, ZERO) + line.quantity
        await rec.add_event(
            key=step.step_key, order=order, kind="return_received", actor_id=step.actor_id,
            number=step.number, lines=lines_text(order, got) or None,
            value=amount_text(money.value), net_total=amount_text(order.net_total),
            installments_reduced=amount_text(money.reduced) if money.reduced else None,
            refund=amount_text(money.refund) if money.refund else None,
            credit_note=amount_text(money.credit) if money.credit else None,
        )  # fmt: skip
        if step.close_rest:
            await rec.add_event(
                key=f"{step.step_key}/closed", order=order, kind="return_closed",
                actor_id=step.actor_id, number=step.number, reason=step.reason,
            )  # fmt: skip
        # (finance are told by their refund or credit note to-do's mail)
        concerned = await people_of_return(rec, order, order_return, besides=step.actor_id)
        await rec.notify(
            key=step.step_key, users=concerned, order=order, event="return_received",
            comment=step.reason if step.close_rest else "",
        )  # fmt: skip
        await tell_contacts(rec, order, key=step.step_key, event="return_received")
