"""The order page's collection forms: register a payment received, apply for an invoice."""

from __future__ import annotations

from starlette.responses import Response

from i18n import N_
from web.commands import collection
from web.commands.actions import Refused
from web.pages.common import page_router
from web.pages.orders.detail import OrderForm, form_body

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
async def register_payment(form: OrderForm) -> Response:
    async def act(values: dict[str, str]) -> object:
        return await collection.register_payment(
            session=form.session,
            user=form.user,
            order=form.order,
            form=_payment_form(values),
            client=form.client,
            idempotency_key=values["action_key"] or None,
        )

    return await form.post_back(
        "payment",
        ("amount", "received_on", "method", "reference"),
        act,
        N_("The payment is registered; finance will confirm it."),
    )


@router.post("/orders/{number}/invoice-requests")
async def request_invoice(form: OrderForm) -> Response:
    async def act(values: dict[str, str]) -> object:
        return await collection.request_invoice(
            session=form.session,
            user=form.user,
            order=form.order,
            form=_invoice_form(values),
            client=form.client,
            idempotency_key=values["action_key"] or None,
        )

    return await form.post_back(
        "invoice",
        ("amount", "title", "tax_number", "address"),
        act,
        N_("The invoice is applied for; finance will issue it."),
    )
