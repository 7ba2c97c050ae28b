"""Collection and invoicing in the JSON API: the owner registers payments and applies for
invoices, each a to-do for finance."""

from __future__ import annotations

from fastapi import APIRouter

from web.api import ApiRoute, IdempotencyKey, finance_todo
from web.commands import collection as collection_commands
from web.commands.collection import InvoiceForm, PaymentForm
from web.deps import ApiUser, ScopedOrder, SessionDep, TemporalClient
from web.schemas import MoneyActionOut, errors

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


@router.post(
    "/orders/{number}/payments",
    status_code=202,
    response_model=MoneyActionOut,
    responses=errors(403, 409),
    tags=["collection"],
)
async def register_payment(
    order: ScopedOrder,
    form: PaymentForm,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
    idempotency_key: IdempotencyKey = None,
) -> MoneyActionOut:
    """The owner registers money received: `amount`, `received_on`, `method` (bank_transfer,
    bank_acceptance_bill, cash, cheque, other), `reference`. Finance get a `confirm_payment`
    to-do. 422 above what is left to pay (outstanding less payments waiting for finance), for a
    date in the future or a reference already used on this order; 403 for anyone but the owner."""
    action = collection_commands.register_payment(
        session=session,
        user=user,
        order=order,
        form=form,
        client=client,
        idempotency_key=idempotency_key,
    )
    return await finance_todo(order, action)


@router.post(
    "/orders/{number}/invoice-requests",
    status_code=202,
    response_model=MoneyActionOut,
    responses=errors(403, 409),
    tags=["collection"],
)
async def request_invoice(
    order: ScopedOrder,
    form: InvoiceForm,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
    idempotency_key: IdempotencyKey = None,
) -> MoneyActionOut:
    """The owner or finance apply for an invoice: `amount` (at most total − invoiced − applied
    for), `title`, `tax_number`, `address` (each defaults to the customer's). Finance get an
    `issue_invoice` to-do."""
    action = collection_commands.request_invoice(
        session=session,
        user=user,
        order=order,
        form=form,
        client=client,
        idempotency_key=idempotency_key,
    )
    return await finance_todo(order, action)
