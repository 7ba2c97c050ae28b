"""Activities of an order's cancellation: cancelled at once before confirmation, asked for and
decided after it (the approval opens finance's refund and credit note to-dos)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.cancellation_route import directors_after_manager
from activities.collection import FINANCE
from activities.contact_mail import tell_contacts
from activities.steps import StepRecorder, amount_text, insert_once
from activities.store import StepStore
from models.domain import (
    Assignee,
    CancellationStep,
    CancellationStepResult,
    Stage,
    TodoKind,
    TodoStatus,
)
from models.tables import (
    ApprovalRound,
    Cancellation,
    CreditNote,
    Invoice,
    Order,
    Refund,
    Todo,
    TodoAssignee,
    User,
)

ZERO = Decimal("0.00")


async def cancellation_of(session: AsyncSession, order: Order, number: int) -> Cancellation:
    found = await session.scalar(
        select(Cancellation).where(Cancellation.order_id == order.id, Cancellation.number == number)
    )
    assert found is not None  # recorded by the step that cancelled or asked
    return found


async def record_cancellation(
    rec: StepRecorder, order: Order, step: CancellationStep, *, status: str
) -> Cancellation:
    """The cancellation with its reason, once per order and number."""
    await insert_once(
        rec.session,
        Cancellation.__table__,
        {
            "order_id": order.id,
            "number": step.number,
            "reason_code": step.reason_code,
            "reason": step.reason,
            "status": status,
            "requested_by_id": step.actor_id,
            "requested_at": rec.now,
            "cancelled_at": rec.now if status == "cancelled" else None,
        },
        unique=("order_id", "number"),
    )
    return await cancellation_of(rec.session, order, step.number)


async def open_todos_of(session: AsyncSession, order: Order) -> list[Todo]:
    return list(
        await session.scalars(
            select(Todo).where(Todo.order_id == order.id, Todo.status == TodoStatus.open.value)
        )
    )


async def people_on(rec: StepRecorder, todos: Sequence[Todo]) -> list[User]:
    """Everyone the open to-dos reach (their assignees as they stand, escalations included)."""
    if not todos:
        return []
    rows = await rec.session.scalars(
        select(TodoAssignee).where(TodoAssignee.todo_id.in_([t.id for t in todos]))
    )
    assignees = [
        Assignee(user_id=a.user_id, role=a.role, department_id=a.department_id) for a in rows
    ]
    return await rec.people(assignees)


def told(users: Sequence[User], *, besides: int | None) -> list[User]:
    """Each person once, leaving out the one who acted."""
    seen: dict[int, User] = {}
    for user in users:
        if user.id != besides:
            seen.setdefault(user.id, user)
    return list(seen.values())


async def finish(rec: StepRecorder, order: Order, step: CancellationStep) -> None:
    """Everything the cancellation undid is done: the order is cancelled, its owner told."""
    cancellation = await cancellation_of(rec.session, order, step.number)
    key = f"{step.workflow_id}/cancel/{step.number}"
    if cancellation.status != "cancelled":
        cancellation.status = "cancelled"
        cancellation.cancelled_at = rec.now
    rec.set_stage(order, Stage.cancelled)
    await rec.add_event(
        key=f"{key}/cancelled", order=order, kind="cancelled", actor_id=None,
        reason=f"{cancellation.reason_code}: {cancellation.reason}",
    )  # fmt: skip
    await rec.notify(
        key=f"{key}/cancelled", users=[order.owner], order=order, event="cancelled",
        comment=cancellation.reason,
    )  # fmt: skip


class CancellationActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def cancel_order(self, step: CancellationStep) -> CancellationStepResult:
        """Before confirmation: the order is cancelled at once. Its open to-dos (the estimate,
        the approvals, the revision) are cancelled, a running approval round ends, and the owner
        and the approvers who were waiting on it are told."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            cancellation = await record_cancellation(rec, order, step, status="cancelled")
            waiting = await open_todos_of(session, order)
            concerned = [order.owner, *await people_on(rec, waiting)]
            await rec.cancel_todos(waiting)
            await session.execute(
                update(ApprovalRound)
                .where(ApprovalRound.order_id == order.id, ApprovalRound.status == "running")
                .values(status="cancelled", ended_at=rec.now)
            )
            order.unroutable_reason = None
            order.unroutable_at = None
            rec.set_stage(order, Stage.cancelled)
            await rec.add_event(
                key=step.step_key, order=order, kind="cancelled", actor_id=step.actor_id,
                reason=f"{cancellation.reason_code}: {cancellation.reason}",
            )  # fmt: skip
            await rec.notify(
                key=step.step_key,
                users=told(concerned, besides=step.actor_id),
                order=order,
                event="cancelled",
                comment=cancellation.reason,
            )
            await session.commit()
            return CancellationStepResult(stage=Stage.cancelled, mail_ids=rec.mail_ids)

    @activity.defn
    async def request_cancellation(self, step: CancellationStep) -> CancellationStepResult:
        """After confirmation: the owner's department manager is asked to approve it."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await record_cancellation(rec, order, step, status="requested")
            await rec.add_event(
                key=step.step_key, order=order, kind="cancellation_requested",
                actor_id=step.actor_id, reason=f"{step.reason_code}: {step.reason}",
            )  # fmt: skip
            assert step.todo_key is not None and step.approver is not None  # the approval's
            directors = await directors_after_manager(session, order, step)
            await rec.open_todo(
                key=step.todo_key,
                order=order,
                workflow_id=step.workflow_id,
                kind=TodoKind.approve_cancellation,
                assignees=[step.approver],
                due_in=None,
                requested_by_id=step.actor_id,
                facts={
                    "cancellation": step.number,
                    "reason_code": step.reason_code,
                    "reason": step.reason,
                    **({"director_next": True} if directors else {}),
                },
            )
            if step.actor_id != order.owner_id:
                await rec.notify(
                    key=step.step_key, users=[order.owner], order=order,
                    event="cancellation_requested", comment=step.reason,
                )  # fmt: skip
            await session.commit()
            return CancellationStepResult(
                opened=rec.opened, mail_ids=rec.mail_ids, directors=directors
            )

    @activity.defn
    async def forward_cancellation(self, step: CancellationStep) -> CancellationStepResult:
        """The manager approved a cancellation the policy also gives the director: the
        manager's to-do closes and the director's approve_cancellation opens (the cancellation
        stays requested; the director's decision approves or rejects it)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            cancellation = await cancellation_of(session, order, step.number)
            assert step.todo_key is not None and step.director_todo_key is not None
            await rec.close_todo(
                step.todo_key, outcome="approve", by_user_id=step.actor_id, comment=step.comment
            )
            await rec.add_event(
                key=step.step_key, order=order, kind="cancellation_approved_by_manager",
                actor_id=step.actor_id, comment=step.comment,
            )  # fmt: skip
            manager = await session.get(User, step.actor_id) if step.actor_id else None
            await rec.open_todo(
                key=step.director_todo_key,
                order=order,
                workflow_id=step.workflow_id,
                kind=TodoKind.approve_cancellation,
                assignees=step.directors,
                due_in=None,
                requested_by_id=cancellation.requested_by_id,
                facts={
                    "cancellation": step.number,
                    "reason_code": cancellation.reason_code,
                    "reason": cancellation.reason,
                    "manager_approved_by": manager.full_name if manager else "",
                },
            )
            await session.commit()
            return CancellationStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @activity.defn
    async def decide_cancellation(self, step: CancellationStep) -> CancellationStepResult:
        """The manager rejects the cancellation (the order goes on as it was) or approves it:
        every open to-do of the order is cancelled, finance are asked to refund the money
        received and to issue a credit note for each issued invoice; with nothing to undo the
        order is cancelled at once."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            cancellation = await cancellation_of(session, order, step.number)
            assert step.todo_key is not None  # the approve_cancellation to-do
            await rec.close_todo(
                step.todo_key, outcome=step.outcome, by_user_id=step.actor_id,
                comment=step.comment,
            )  # fmt: skip
            requester = [Assignee(user_id=cancellation.requested_by_id)]
            concerned = [order.owner, *await rec.people(requester)]
            if cancellation.status == "requested":
                cancellation.decided_by_id = step.actor_id
                cancellation.decided_at = rec.now
                cancellation.comment = step.comment or None
                cancellation.status = "rejected" if step.outcome == "reject" else "refunding"
            if step.outcome == "reject":
                await rec.add_event(
                    key=step.step_key, order=order, kind="cancellation_rejected",
                    actor_id=step.actor_id, comment=step.comment,
                )  # fmt: skip
                await rec.notify(
                    key=step.step_key, users=told(concerned, besides=step.actor_id),
                    order=order, event="cancellation_rejected", comment=step.comment,
                )  # fmt: skip
                await session.commit()
                return CancellationStepResult(mail_ids=rec.mail_ids)
            undoing = (TodoKind.confirm_refund.value, TodoKind.issue_credit_note.value)
            stopped = [t for t in await open_todos_of(session, order) if t.kind not in undoing]
            concerned += await people_on(rec, stopped)  # ops, the warehouse, finance waiting
            result = await self._undo(rec, order, step)
            await rec.add_event(
                key=step.step_key, order=order, kind="cancellation_approved",
                actor_id=step.actor_id, refund=amount_text(result.refund_due),
                credit_notes=result.credit_notes,
            )  # fmt: skip
            await rec.notify(
                key=step.step_key, users=told(concerned, besides=step.actor_id), order=order,
                event="cancellation_approved", comment=cancellation.reason,
            )  # fmt: skip
            await tell_contacts(rec, order, key=step.step_key, event="cancelled")
            # Nothing paid or invoiced, and no goods to come back first: cancelled now.
            if not (result.refund_due or result.credit_notes or step.goods_back):
                await finish(rec, order, step)
                result.finished = True
            await session.commit()
            result.opened, result.mail_ids = rec.opened, rec.mail_ids
            return result

    async def _undo(
        self, rec: StepRecorder, order: Order, step: CancellationStep
    ) -> CancellationStepResult:
        """Every open to-do cancelled (the shipment and the collection have ended); a refund
        to-do for the money received, a credit note to-do per issued invoice."""
        session = rec.session
        undoing = (TodoKind.confirm_refund.value, TodoKind.issue_credit_note.value)
        await rec.cancel_todos(
            [t for t in await open_todos_of(session, order) if t.kind not in undoing]
        )  # (a retried step finds the refund and credit note to-dos it opened: they stay)
        await session.execute(
            update(Invoice)
            .where(Invoice.order_id == order.id, Invoice.status == "requested")
            .values(status="cancelled", decided_at=rec.now)
        )
        rec.set_stage(order, Stage.cancelled)
        issued = list(
            await session.scalars(
                select(Invoice)
                .where(Invoice.order_id == order.id, Invoice.status == "issued")
                .order_by(Invoice.request_number)
            )
        )
        back = await returns_money_back(session, order)
        if back.credited:  # returns credited part: one credit note for the rest
            issued = issued[-1:] if order.invoiced > back.credited else []
        for invoice in issued:
            key = f"{step.workflow_id}/cancel/{step.number}/credit-note/{invoice.request_number}"
            await insert_once(
                session,
                CreditNote.__table__,
                {
                    "order_id": order.id, "invoice_id": invoice.id, "todo_key": key,
                    "amount": order.invoiced - back.credited if back.credited else invoice.amount,
                    "status": "requested", "created_at": rec.now,
                },
                unique=("todo_key",),
            )  # fmt: skip
            await rec.open_todo(
                key=key, order=order, workflow_id=step.workflow_id,
                kind=TodoKind.issue_credit_note, assignees=FINANCE, due_in=None,
                requested_by_id=step.actor_id,
                facts={"invoice_number": invoice.invoice_number or "",
                       "amount": str(invoice.amount)},
            )  # fmt: skip
        due = order.paid - back.refunded  # a return may have paid some back already
        if due > ZERO and step.next_refund_key is not None:
            await open_refund(rec, order, step, due=due)
        return CancellationStepResult(refund_due=max(due, ZERO), credit_notes=len(issued))


@dataclass
class ReturnsMoneyBack:
    """What the order's returns refunded (or are to), how many refunds they opened, and what
    they credited (or are to): a cancellation undoes only the rest."""

    refunded: Decimal = ZERO
    refunds: int = 0
    credited: Decimal = ZERO


async def returns_money_back(session: AsyncSession, order: Order) -> ReturnsMoneyBack:
    back = ReturnsMoneyBack()
    refunds = await session.scalars(
        select(Refund).where(Refund.order_id == order.id, Refund.todo_key.contains("/return/"))
    )
    for refund in refunds:
        back.refunds = max(back.refunds, refund.number)
        back.refunded += (
            refund.amount if refund.status == "refunded" and refund.amount else refund.due
        )
    notes = await session.scalars(
        select(CreditNote.amount).where(
            CreditNote.order_id == order.id, CreditNote.return_id.is_not(None)
        )
    )
    back.credited = sum(notes, ZERO)
    return back


async def open_refund(
    rec: StepRecorder, order: Order, step: CancellationStep, *, due: Decimal
) -> None:
    """Finance are asked to pay `due` back to the customer (a refund to-do, once per key),
    numbered after every refund of the order (a return's among them)."""
    assert step.next_refund_key is not None  # the workflow names the refund's to-do
    last = await rec.session.scalar(
        select(func.max(Refund.number)).where(Refund.order_id == order.id)
    )
    number = (last or 0) + 1
    await insert_once(
        rec.session,
        Refund.__table__,
        {
            "order_id": order.id, "number": number, "todo_key": step.next_refund_key,
            "due": due, "status": "pending", "created_at": rec.now,
        },
        unique=("todo_key",),
    )  # fmt: skip
    await rec.open_todo(
        key=step.next_refund_key, order=order, workflow_id=step.workflow_id,
        kind=TodoKind.confirm_refund, assignees=FINANCE, due_in=None,
        requested_by_id=step.actor_id, facts={"refund": number, "amount": str(due)},
    )  # fmt: skip
