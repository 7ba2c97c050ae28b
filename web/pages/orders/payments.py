"""The order page's collection forms: register a payment received, apply for an invoice."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from i18n import N_
from models.tables import Order
from web import collection
from web.deps import PageOrder, PageUser, SessionDep, SettingsDep, TemporalClient
from web.operations import Refused
from web.pages.common import page_router
from web.pages.orders.detail import form_body, order_action

router = page_router()


def _amount(raw: str) -> str:
    amount = raw.replace(",", "").replace(" ", "")
    if not amount:
        raise Refused(422, "Give the amount.")
    return amount


def _payment_form(values: dict[str, str]) -> collection.PaymentForm:
    """The payment form's body; a blank reference or method is left to the operation, which
    says what is missing."""
    if not values["received_on"]:
        raise Refused(422, "Give the date the money was received.")
    return form_body(
        collection.PaymentForm,
        {**values, "amount": _amount(values["amount"])},
        keep=("method", "reference"),
    )


def _invoice_form(values: dict[str, str]) -> collection.InvoiceForm:
    """The invoice form's body; blank title, tax number or address default to the customer's."""
    return form_body(collection.InvoiceForm, {**values, "amount": _amount(values["amount"])})


@router.post("/orders/{number}/payments")
async def register_payment(
    request: Request,
    order: PageOrder,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await collection.register_payment(
            session=session,
            user=user,
            order=order,
            form=_payment_form(values),
            client=client,
            idempotency_key=values["action_key"] or None,
        )

    return await order_action(
        request,
        order,
        user,
        session,
        settings,
        form_name="payment",
        fields=("amount", "received_on", "method", "reference"),
        act=act,
        done_message=N_("The payment is registered; finance will confirm it."),
    )


@router.post("/orders/{number}/invoice-requests")
async def request_invoice(
    request: Request,
    order: PageOrder,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await collection.request_invoice(
            session=session,
            user=user,
            order=order,
            form=_invoice_form(values),
            client=client,
            idempotency_key=values["action_key"] or None,
        )

    return await order_action(
        request,
        order,
        user,
        session,
        settings,
        form_name="invoice",
        fields=("amount", "title", "tax_number", "address"),
        act=act,
        done_message=N_("The invoice is applied for; finance will issue it."),
    )
