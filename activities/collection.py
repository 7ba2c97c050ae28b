"""Activities of an order's collection: installments, payments, reminders, overdue."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.costs import open_record_todo
from activities.steps import StepRecorder, amount_text, insert_once
from activities.store import StepStore
from models.domain import (
    Assignee,
    CollectionStep,
    CollectionStepResult,
    InstallmentState,
    PaymentTrigger,
    Role,
    TodoKind,
)
from models.drafts import DEFAULT_PLAN
from models.policy import current_collection_policy
from models.queries import installments
from models.tables import Installment, Order, Payment, PaymentAllocation
from models.tables import PaymentPlanItem as PlanRow
from workflows import rules

FINANCE = [Assignee(role=Role.finance)]


def state_of(row: Installment) -> InstallmentState:
    return InstallmentState(
        position=row.position,
        trigger=PaymentTrigger(row.trigger),
        offset_days=row.offset_days,
        amount=row.amount,
        paid=row.paid,
        due_date=row.due_on,
        reminded_for=row.due_on if row.reminded_at else None,
        overdue_for=row.due_on if row.overdue_since else None,
        alerted=[
            level
            for level, at in (
                ("manager", row.manager_alerted_at),
                ("director", row.director_alerted_at),
            )
            if at is not None
        ],
    )


class CollectionActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def start_collection(self, step: CollectionStep) -> CollectionStepResult:
        """On confirmation: the payment plan becomes installments (amounts to the cent, summing
        to the total); those due on confirmation or on a fixed date get their due date."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            rows = await installments(session=session, order=order)
            if not rows:
                plan = list(
                    await session.scalars(
                        select(PlanRow)
                        .where(PlanRow.order_id == order.id)
                        .order_by(PlanRow.position)
                    )
                )
                items = [
                    (p.percent, PaymentTrigger(p.trigger), p.offset_days, p.fixed_on) for p in plan
                ] or [(i.percent, i.trigger, i.offset_days, i.fixed_date) for i in DEFAULT_PLAN]
                amounts = rules.installment_amounts(order.total, [i[0] for i in items])
                events = {PaymentTrigger.confirmation: rec.now.date()}
                rows = [
                    Installment(
                        order_id=order.id,
                        position=n,
                        percent=percent,
                        trigger=trigger.value,
                        offset_days=offset,
                        amount=amount,
                        paid=Decimal("0"),
                        settled=amount == 0,
                        due_on=rules.due_date(trigger, offset, fixed, events),
                    )
                    for n, ((percent, trigger, offset, fixed), amount) in enumerate(
                        zip(items, amounts, strict=True), start=1
                    )
                ]
                session.add_all(rows)
                await session.flush()
            states = [state_of(r) for r in rows]
            order.collection_status = rules.collection_status(states, rec.now.date())
            await rec.add_event(
                key=step.step_key, order=order, kind="installments_due", actor_id=None,
                **{
                    f"#{s.position}": f"{amount_text(s.amount)} {s.due_date or s.trigger.value}"
                    for s in states
                },
            )  # fmt: skip
            policy = await current_collection_policy(session=session)
            await session.commit()
            return CollectionStepResult(installments=states, policy=policy)

    @activity.defn
    async def fix_due_dates(self, step: CollectionStep) -> CollectionStepResult:
        """An event the plan hangs on happened (dispatch, acceptance): its installments get
        their due dates."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            rows = {r.position: r for r in await installments(session=session, order=order)}
            for state in step.installments:
                row = rows.get(state.position)
                if row is not None and row.due_on is None:
                    row.due_on = state.due_date
            await rec.add_event(
                key=step.step_key, order=order, kind="installments_due", actor_id=None,
                **{
                    f"#{s.position}": f"{amount_text(s.amount)} {s.due_date}"
                    for s in step.installments
                },
            )  # fmt: skip
            order.collection_status = step.status or order.collection_status
            order.updated_at = rec.now
            await session.commit()
            return CollectionStepResult()

    @activity.defn
    async def register_payment(self, step: CollectionStep) -> CollectionStepResult:
        """The owner says money came in: it waits for finance to confirm it."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            # A registration carries the day the money came in and finance's confirm to-do.
            assert step.received_on is not None and step.todo_key is not None
            await insert_once(
                session,
                Payment.__table__,
                {
                    "order_id": order.id,
                    "number": step.payment_number,
                    "amount": step.amount,
                    "received_on": step.received_on,
                    "method": step.method,
                    "reference": step.reference,
                    "registered_by_id": step.actor_id,
                    "registered_at": rec.now,
                },
                unique=("order_id", "number"),
            )
            await rec.add_event(
                key=step.step_key, order=order, kind="payment_registered",
                actor_id=step.actor_id, amount=amount_text(step.amount),
                received_on=step.received_on.isoformat(), method=step.method,
                reference=step.reference,
            )  # fmt: skip
            await rec.open_todo(
                key=step.todo_key,
                order=order,
                workflow_id=step.workflow_id,
                kind=TodoKind.confirm_payment,
                assignees=FINANCE,
                due_in=None,
                requested_by_id=step.actor_id,
                facts={
                    "payment": step.payment_number,
                    "amount": str(step.amount),
                    "received_on": step.received_on.isoformat(),
                    "method": step.method,
                    "reference": step.reference,
                },
            )
            await session.commit()
            return CollectionStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @activity.defn
    async def decide_payment(self, step: CollectionStep) -> CollectionStepResult:
        """Finance confirm a payment (it is allocated to the installments, oldest due first;
        paid installments close their collect to-dos) or reject it (the owner is told why)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            confirmed = not step.comment and bool(step.allocations)
            assert step.todo_key is not None  # finance decide on their confirm to-do
            await rec.close_todo(
                step.todo_key,
                outcome="confirm" if confirmed else "reject",
                by_user_id=step.actor_id,
                comment=step.comment,
            )
            payment = await session.scalar(
                select(Payment).where(
                    Payment.order_id == order.id, Payment.number == step.payment_number
                )
            )
            assert payment is not None  # register_payment added it
            if payment.status == "pending":
                payment.status = "confirmed" if confirmed else "rejected"
                payment.decided_by_id = step.actor_id
                payment.decided_at = rec.now
                payment.comment = step.comment or None
                if confirmed:
                    await self._allocate(session, rec, order, payment, step)
            order.overdue = step.overdue
            order.collection_status = step.status or order.collection_status
            order.updated_at = rec.now
            event = "payment_confirmed" if confirmed else "payment_rejected"
            await rec.add_event(
                key=f"{step.step_key}/{event}", order=order, kind=event, actor_id=step.actor_id,
                amount=amount_text(payment.amount), reference=payment.reference,
                comment=step.comment or None,
            )  # fmt: skip
            await rec.notify(
                key=f"{step.step_key}/{event}",
                users=[order.owner],
                order=order,
                event=event,
                comment=step.comment
                or f"{amount_text(payment.amount)} ({payment.reference}); "
                f"outstanding {amount_text(max(order.net_total - order.paid, Decimal(0)))}",
            )
            if confirmed and step.costs_todo_key and step.order_workflow_id:
                await open_record_todo(
                    rec, order, key=step.costs_todo_key, workflow_id=step.order_workflow_id
                )
            if step.status == "paid":
                await rec.add_event(
                    key=f"{step.workflow_id}/paid", order=order, kind="fully_paid", actor_id=None
                )
            await session.commit()
            return CollectionStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    async def _allocate(
        self,
        session: AsyncSession,
        rec: StepRecorder,
        order: Order,
        payment: Payment,
        step: CollectionStep,
    ) -> None:
        rows = {r.position: r for r in await installments(session=session, order=order)}
        for allocation in step.allocations:
            row = rows[allocation.position]
            session.add(
                PaymentAllocation(
                    payment_id=payment.id, installment_id=row.id, amount=allocation.amount
                )
            )
            row.paid += allocation.amount
            if row.paid >= row.amount and not row.settled:
                row.settled = True
                row.paid_on = payment.received_on
                if row.due_on is not None:  # its collect to-do, if it went overdue
                    collect = f"{step.workflow_id}/collect/{row.position}/{row.due_on}"
                    await self._close_collect(rec, collect)
        order.paid += payment.amount

    async def _close_collect(self, rec: StepRecorder, key: str) -> None:
        with contextlib.suppress(LookupError):  # it never went overdue: no collect to-do
            await rec.close_todo(key, outcome="paid", by_user_id=None)

    @activity.defn
    async def remind_installment(self, step: CollectionStep) -> CollectionStepResult:
        """A few days before a due date the owner is reminded (once per installment and due
        date, however often the step is retried)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            rows = {r.position: r for r in await installments(session=session, order=order)}
            for state in step.installments:
                row = rows[state.position]
                row.reminded_at = row.reminded_at or rec.now
            await rec.notify(
                key=step.step_key,
                users=[order.owner],
                order=order,
                event="installment_due_soon",
                comment=self._describe(step.installments),
            )
            await session.commit()
            return CollectionStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @activity.defn
    async def mark_overdue(self, step: CollectionStep) -> CollectionStepResult:
        """An installment passed its due date unpaid: the order turns overdue (red) and the
        owner gets a collect to-do that closes by itself once the installment is paid."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            rows = {r.position: r for r in await installments(session=session, order=order)}
            for state in step.installments:
                row = rows[state.position]
                if row.settled:
                    continue
                assert state.due_date is not None  # only an installment that fell due is overdue
                row.overdue_since = row.overdue_since or state.due_date
                await rec.add_event(
                    key=f"{step.step_key}/{state.position}", order=order,
                    kind="installment_overdue", actor_id=None, installment=state.position,
                    due=state.due_date.isoformat(), open=amount_text(state.open),
                )  # fmt: skip
                await rec.open_todo(
                    key=f"{step.workflow_id}/collect/{state.position}/{state.due_date}",
                    order=order,
                    workflow_id=step.workflow_id,
                    kind=TodoKind.collect,
                    assignees=[Assignee(user_id=order.owner_id)],
                    due_in=None,
                    facts={
                        "installment": state.position,
                        "due": state.due_date.isoformat(),
                        "amount": str(state.open),
                    },
                )
            order.overdue = True
            order.collection_status = "overdue"
            order.updated_at = rec.now
            await session.commit()
            return CollectionStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @activity.defn
    async def escalate_overdue(self, step: CollectionStep) -> CollectionStepResult:
        """Still unpaid after the policy's days: the sales manager (then the director) is
        alerted, once per installment, due date and level."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            rows = {r.position: r for r in await installments(session=session, order=order)}
            for state in step.installments:
                row = rows[state.position]
                if step.level == "manager":
                    row.manager_alerted_at = row.manager_alerted_at or rec.now
                else:
                    row.director_alerted_at = row.director_alerted_at or rec.now
            who = (
                [Assignee(department_id=order.department_id)]
                if step.level == "manager"
                else [Assignee(role=Role.director)]
            )
            await rec.add_event(
                key=step.step_key, order=order, kind="overdue_escalated", actor_id=None,
                level=step.level, installments=",".join(str(s.position) for s in step.installments),
            )  # fmt: skip
            await rec.notify(
                key=step.step_key,
                users=[u for u in await rec.people(who) if u.id != order.owner_id],
                order=order,
                event="overdue_escalated",
                comment=self._describe(step.installments),
            )
            await session.commit()
            return CollectionStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @staticmethod
    def _describe(installments: list[InstallmentState]) -> str:
        return "; ".join(
            f"#{s.position}: {amount_text(s.open)} due {s.due_date.isoformat()}"
            for s in installments
            if s.due_date is not None
        )
