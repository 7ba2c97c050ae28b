"""Activities that undo a cancelled order: its shipment withdrawn (reserved stock back on the
shelf), its collection stopped, the money refunded and the issued invoices credited."""

from __future__ import annotations

from sqlalchemy import case, select, update
from temporalio import activity

from activities.cancellation import ZERO, finish, open_refund, open_todos_of, people_on
from activities.steps import amount_text
from activities.store import StepStore
from models.domain import (
    CancellationStep,
    CancellationStepResult,
    CollectionStep,
    CollectionStepResult,
    ShipmentStep,
    ShipmentStepResult,
    Stage,
    TodoKind,
)
from models.queries.cancellation import number_taken
from models.tables import (
    CreditNote,
    Installment,
    OrderLine,
    Payment,
    Product,
    Refund,
    StockReservation,
)

# The shipment's and the collection's own to-dos, which their workflows withdraw.
SHIPMENT_TODOS = frozenset(
    {
        TodoKind.plan_shipment,
        TodoKind.confirm_dispatch,
        TodoKind.confirm_milestone,
        TodoKind.confirm_arrival,
        TodoKind.confirm_acceptance,
        TodoKind.handle_exception,
    }
)
COLLECTION_TODOS = frozenset({TodoKind.confirm_payment, TodoKind.collect})


class RefundActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def withdraw_shipment(self, step: ShipmentStep) -> ShipmentStepResult:
        """The order is cancelled before dispatch: the stock reserved for it goes back to the
        shelf and the warehouse's and ops' to-dos are withdrawn."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            reservations = await session.scalars(
                select(StockReservation).where(
                    StockReservation.order_line_id.in_(
                        select(OrderLine.id).where(OrderLine.order_id == order.id)
                    ),
                    StockReservation.taken_at.is_(None),
                    StockReservation.released_at.is_(None),
                )
            )
            for reservation in list(reservations):
                reservation.released_at = rec.now
                await session.execute(
                    update(Product)
                    .where(Product.id == reservation.product_id)
                    .values(
                        reserved=case(
                            (
                                Product.reserved > reservation.quantity,
                                Product.reserved - reservation.quantity,
                            ),
                            else_=0,
                        )
                    )
                )
            withdrawn = [t for t in await open_todos_of(session, order) if t.kind in SHIPMENT_TODOS]
            waiting = await people_on(rec, withdrawn)  # the warehouse, ops
            await rec.cancel_todos(withdrawn)
            order.shipment_status = "withdrawn"
            order.delayed = False
            await rec.add_event(
                key=step.step_key, order=order, kind="shipment_withdrawn", actor_id=None
            )
            await rec.notify(key=step.step_key, users=waiting, order=order, event="cancelled")
            await session.commit()
            return ShipmentStepResult(mail_ids=rec.mail_ids)

    @activity.defn
    async def stop_collection(self, step: CollectionStep) -> CollectionStepResult:
        """The order is cancelled: nothing more is collected. Its open installments are closed
        (no reminder or overdue alert follows), payments still waiting for finance are
        cancelled and the collect and confirm-payment to-dos withdrawn."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await session.execute(
                update(Installment)
                .where(Installment.order_id == order.id, Installment.settled.is_(False))
                .values(settled=True)
            )
            await session.execute(
                update(Payment)
                .where(Payment.order_id == order.id, Payment.status == "pending")
                .values(status="cancelled", decided_at=rec.now)
            )
            await rec.cancel_todos(
                [t for t in await open_todos_of(session, order) if t.kind in COLLECTION_TODOS]
            )
            order.overdue = False
            await rec.add_event(
                key=step.step_key, order=order, kind="collection_stopped", actor_id=None,
                paid=amount_text(order.paid),
            )  # fmt: skip
            await session.commit()
            return CollectionStepResult(mail_ids=rec.mail_ids)

    @activity.defn
    async def confirm_refund(self, step: CancellationStep) -> CancellationStepResult:
        """Finance paid money back: the refund is recorded; what is left of the money received
        goes to a next refund to-do."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            refund = await session.scalar(select(Refund).where(Refund.todo_key == step.todo_key))
            assert refund is not None and step.todo_key is not None  # opened with its to-do
            await rec.close_todo(step.todo_key, outcome="refunded", by_user_id=step.actor_id)
            if refund.status == "pending":
                refund.status = "refunded"
                refund.amount = step.amount
                refund.paid_on = step.paid_on
                refund.method = step.method
                refund.reference = step.reference
                refund.refunded_by_id = step.actor_id
                refund.refunded_at = rec.now
            await rec.add_event(
                key=step.step_key, order=order, kind="refunded", actor_id=step.actor_id,
                amount=amount_text(step.amount), reference=step.reference,
            )  # fmt: skip
            left = refund.due - step.amount
            if left > ZERO and step.next_refund_key is not None:
                await open_refund(rec, order, step, due=left)
            await session.commit()
            return CancellationStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @activity.defn
    async def issue_credit_note(self, step: CancellationStep) -> CancellationStepResult:
        """Finance issue the credit note of an issued invoice under its number, which no
        invoice or other credit note may carry."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            note = await session.scalar(
                select(CreditNote).where(CreditNote.todo_key == step.todo_key)
            )
            assert note is not None and step.todo_key is not None  # opened with its to-do
            number = step.credit_note_number
            if note.status == "requested" and await number_taken(session, number):
                return CancellationStepResult(
                    problem=f"Credit note number {number} is already used."
                )
            await rec.close_todo(step.todo_key, outcome="issued", by_user_id=step.actor_id)
            if note.status == "requested":
                note.status = "issued"
                note.number = number
                note.issued_by_id = step.actor_id
                note.issued_at = rec.now
            await rec.add_event(
                key=step.step_key, order=order, kind="credit_note_issued",
                actor_id=step.actor_id, amount=amount_text(note.amount), credit_note=number,
            )  # fmt: skip
            await session.commit()
            return CancellationStepResult(mail_ids=rec.mail_ids)

    @activity.defn
    async def finish_cancellation(self, step: CancellationStep) -> CancellationStepResult:
        """The money is refunded and the invoices credited: the order is cancelled (once)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await finish(rec, order, step)
            await session.commit()
            return CancellationStepResult(
                stage=Stage.cancelled, mail_ids=rec.mail_ids, finished=True
            )
