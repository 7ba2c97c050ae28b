"""Activities of an order's invoices: applied for, then issued or rejected."""

from __future__ import annotations

from sqlalchemy import select
from temporalio import activity

from activities.collection import FINANCE
from activities.steps import amount_text, insert_once
from activities.store import StepStore
from models.domain import Assignee, InvoiceStep, InvoiceStepResult, TodoKind
from models.queries.cancellation import number_taken
from models.tables import Invoice


class InvoiceActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def request_invoice(self, step: InvoiceStep) -> InvoiceStepResult:
        """The owner or finance apply for an invoice: finance get a to-do to issue it."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            assert step.todo_key is not None  # an application opens finance's issue to-do
            await insert_once(
                session,
                Invoice.__table__,
                {
                    "order_id": order.id,
                    "request_number": step.request_number,
                    "amount": step.amount,
                    "title": step.title,
                    "tax_number": step.tax_number,
                    "address": step.address,
                    "requested_by_id": step.actor_id,
                    "requested_at": rec.now,
                },
                unique=("order_id", "request_number"),
            )
            await rec.add_event(
                key=step.step_key, order=order, kind="invoice_requested", actor_id=step.actor_id,
                amount=amount_text(step.amount), title=step.title,
            )  # fmt: skip
            await rec.open_todo(
                key=step.todo_key,
                order=order,
                workflow_id=step.workflow_id,
                kind=TodoKind.issue_invoice,
                assignees=FINANCE,
                due_in=None,
                requested_by_id=step.actor_id,
                facts={
                    "request": step.request_number,
                    "amount": str(step.amount),
                    "title": step.title,
                    "tax_number": step.tax_number,
                    "address": step.address,
                },
            )
            await session.commit()
            return InvoiceStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @activity.defn
    async def decide_invoice(self, step: InvoiceStep) -> InvoiceStepResult:
        """Finance issue the invoice with its number (unique across all orders) or reject the
        application with a comment; whoever applied is told."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            invoice = await session.scalar(
                select(Invoice).where(
                    Invoice.order_id == order.id, Invoice.request_number == step.request_number
                )
            )
            assert invoice is not None  # request_invoice added it
            issued = step.outcome == "issued"
            # invoices and credit notes share one namespace of numbers
            if (
                invoice.status == "requested"
                and issued
                and await number_taken(session, step.invoice_number)
            ):
                return InvoiceStepResult(
                    problem=f"Invoice number {step.invoice_number} is already used."
                )
            assert step.todo_key is not None  # finance decide on their issue to-do
            await rec.close_todo(
                step.todo_key,
                outcome=step.outcome,
                by_user_id=step.actor_id,
                comment=step.comment,
            )
            if invoice.status == "requested":
                invoice.status = "issued" if issued else "rejected"
                invoice.invoice_number = step.invoice_number if issued else None
                invoice.decided_by_id = step.actor_id
                invoice.decided_at = rec.now
                invoice.comment = step.comment or None
                if issued:
                    order.invoiced += invoice.amount
                    order.updated_at = rec.now
            event = "invoice_issued" if issued else "invoice_rejected"
            await rec.add_event(
                key=step.step_key, order=order, kind=event, actor_id=step.actor_id,
                amount=amount_text(invoice.amount), invoice_number=step.invoice_number or None,
                comment=step.comment or None,
            )  # fmt: skip
            applicant = (
                [Assignee(user_id=invoice.requested_by_id)] if invoice.requested_by_id else []
            )
            await rec.notify(
                key=step.step_key,
                users=[u for u in await rec.people(applicant) if u.id != step.actor_id],
                order=order,
                event=event,
                comment=step.comment or f"{step.invoice_number}: {amount_text(invoice.amount)}",
            )
            await session.commit()
            return InvoiceStepResult(opened=rec.opened, mail_ids=rec.mail_ids)
