"""What people do to an order's money, shared by the JSON API and the pages: the owner registers
payments, the owner or finance apply for invoices, finance confirm payments and issue invoices
through their to-dos. Each checks role, scope and the figures first, then hands the change to the
workflow, whose validator checks again against its own state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from models.dates import received_on_refusal
from models.domain import (
    INVOICE_ROLES,
    InvoiceRequest,
    PaymentRegistration,
    Role,
    Stage,
    TodoDone,
)
from models.queries import INVOICES, PAYMENTS, actor_for, of_order
from models.tables import Invoice, Order, Payment, Refund, User
from web.commands.actions import Refused, action_id, refuse, send_action
from web.temporal import workflow_id
from workflows.collection import CollectionWorkflow
from workflows.order import OrderWorkflow


class PaymentForm(BaseModel):
    """The body of POST /api/v1/orders/{number}/payments."""

    amount: Decimal = Field(max_digits=16, decimal_places=2)
    received_on: date
    method: str = Field(default="bank_transfer", max_length=30)
    reference: str = Field(max_length=100)


class InvoiceForm(BaseModel):
    """The body of POST /api/v1/orders/{number}/invoice-requests; title, tax number and address
    default to the customer's."""

    amount: Decimal = Field(max_digits=16, decimal_places=2)
    title: str = Field(default="", max_length=200)
    tax_number: str = Field(default="", max_length=50)
    address: str = Field(default="", max_length=500)


@dataclass(frozen=True)
class Money:
    """An order's money at a glance: what the payment form and the order page show."""

    total: Decimal
    paid: Decimal
    pending: Decimal  # registered, waiting for finance
    invoiced: Decimal
    invoice_pending: Decimal  # applied for, not issued yet
    references: frozenset[str] = frozenset()  # of payments not rejected, casefolded
    # Payments and invoice applications finance rejected: each sets free what it asked for, so
    # the same payment or application given again afterwards is a new action.
    payments_rejected: int = 0
    invoices_rejected: int = 0
    refunded: Decimal = Decimal("0.00")  # paid back (a return or a cancellation)

    @property
    def outstanding(self) -> Decimal:
        """What the customer still owes: the total (net of what came back) less what they paid
        and kept; never below nothing (money due back is a refund, shown as such)."""
        return max(Decimal("0.00"), self.total - self.paid + self.refunded)

    @property
    def payable(self) -> Decimal:
        """What a new registration may be at most."""
        return self.outstanding - self.pending

    @property
    def invoiceable(self) -> Decimal:
        return max(Decimal("0.00"), self.total - self.invoiced - self.invoice_pending)


def money_from(
    order: Order,
    paid_in: list[Payment],
    applied: list[Invoice],
    refunded: Decimal = Decimal("0.00"),
) -> Money:
    """The figures from the order (its total net of returns) and its payments, invoices and
    the money refunded, already loaded."""
    return Money(
        total=order.net_total,
        refunded=refunded,
        paid=order.paid,
        pending=sum((p.amount for p in paid_in if p.status == "pending"), Decimal("0.00")),
        invoiced=order.invoiced,
        invoice_pending=sum(
            (i.amount for i in applied if i.status == "requested"), Decimal("0.00")
        ),
        references=frozenset(p.reference.casefold() for p in paid_in if p.status != "rejected"),
        payments_rejected=sum(p.status == "rejected" for p in paid_in),
        invoices_rejected=sum(i.status == "rejected" for i in applied),
    )


async def refunded_to(*, session: AsyncSession, order: Order) -> Decimal:
    """The money paid back to the customer on the order (refunds confirmed)."""
    total = await session.scalar(
        select(func.sum(Refund.amount)).where(
            Refund.order_id == order.id, Refund.status == "refunded"
        )
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


async def money_of(*, session: AsyncSession, order: Order) -> Money:
    return money_from(
        order,
        await payments(session=session, order=order),
        await invoices(session=session, order=order),
        await refunded_to(session=session, order=order),
    )


def collection_workflow_id(order_number: str) -> str:
    return f"{workflow_id(order_number)}/collection"


async def register_payment(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    form: PaymentForm,
    client: Client,
    idempotency_key: str | None = None,
) -> TodoDone:
    """The owner says the customer paid: finance get a to-do to confirm it. The update's id is
    derived from the payment as given (and the client's idempotency key): sent again after a
    lost answer, it is the same payment, answered as before."""
    if order.owner_id != user.id:
        raise Refused(403, "Only the order's owner registers its payments.")
    registration = PaymentRegistration(
        actor=await actor_for(session=session, user=user),
        amount=form.amount,
        received_on=form.received_on,
        method=form.method.strip(),
        reference=form.reference.strip(),
    )
    refuse(registration.refusal())
    refuse(received_on_refusal(form.received_on, today=datetime.now(UTC).date()))
    to_workflow = collection_workflow_id(order.number)
    money = await money_of(session=session, order=order)
    update_id = action_id(
        f"payment/{order.number}", registration, idempotency_key, money.payments_rejected
    )
    return await send_action(
        client,
        to_workflow,
        CollectionWorkflow.register_payment,
        registration,
        update_id=update_id,
        gone=Refused(409, "Order %(number)s is paid in full.", number=order.number),
        refusal=_payment_refusal(order=order, registration=registration, money=money),
    )


def _payment_refusal(
    *, order: Order, registration: PaymentRegistration, money: Money
) -> Refused | None:
    """What the order's money says against registering this payment, if anything."""
    if order.collection_status is None:
        return Refused(409, "Order %(number)s is not confirmed yet.", number=order.number)
    if refusal := registration.reference_refusal(money.references):
        return Refused.of(422, refusal)
    if money.outstanding <= 0:
        return Refused(409, "Order %(number)s is paid in full.", number=order.number)
    if refusal := registration.payable_refusal(money.payable):
        return Refused.of(422, refusal)
    return None


async def request_invoice(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    form: InvoiceForm,
    client: Client,
    idempotency_key: str | None = None,
) -> TodoDone:
    """The owner or finance apply for an invoice; finance get a to-do to issue it. Sent again
    with the same fields (and idempotency key) after a lost answer, it is the same
    application."""
    if order.owner_id != user.id and Role(user.role) not in INVOICE_ROLES:
        raise Refused(403, "Only the order's owner or finance apply for its invoices.")
    customer = order.customer
    request = InvoiceRequest(
        actor=await actor_for(session=session, user=user),
        amount=form.amount,
        title=form.title.strip() or (customer.invoice_title or customer.name),
        tax_number=form.tax_number.strip() or (customer.tax_number or ""),
        address=form.address.strip() or (customer.address or ""),
    )
    refuse(request.refusal())
    to_workflow = workflow_id(order.number)
    money = await money_of(session=session, order=order)
    update_id = action_id(
        f"invoice/{order.number}", request, idempotency_key, money.invoices_rejected
    )
    return await send_action(
        client,
        to_workflow,
        OrderWorkflow.request_invoice,
        request,
        update_id=update_id,
        gone=Refused(409, "Order %(number)s is closed.", number=order.number),
        refusal=_invoice_refusal(order=order, request=request, money=money),
    )


def _invoice_refusal(*, order: Order, request: InvoiceRequest, money: Money) -> Refused | None:
    """What the order says against applying for this invoice, if anything."""
    if order.collection_status is None:
        return Refused(409, "Order %(number)s is not confirmed yet.", number=order.number)
    if order.stage == Stage.closed.value:
        return Refused(409, "Order %(number)s is closed.", number=order.number)
    if refusal := request.room_refusal(money.invoiceable):
        return Refused.of(422, refusal)
    return None


async def payments(*, session: AsyncSession, order: Order) -> list[Payment]:
    return list(await session.scalars(PAYMENTS, of_order(order)))


async def invoices(*, session: AsyncSession, order: Order) -> list[Invoice]:
    return list(await session.scalars(INVOICES, of_order(order)))
