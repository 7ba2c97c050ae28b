"""A payment registration and an invoice application check themselves: the web layer and the
workflows' validators run these same checks, so each refusal has one message (the validator
used to say "Give the tax number." where the page said "Give the customer's tax number.")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from models.domain import Actor, InvoiceRequest, PaymentRegistration, Role

OWNER = Actor(user_id=3, role=Role.sales)


def payment(**changes: object) -> PaymentRegistration:
    fields: dict[str, object] = dict(
        actor=OWNER, amount=D("100"), received_on=date(2026, 3, 9), method="cash", reference="R-1"
    )
    return PaymentRegistration.model_validate({**fields, **changes})


def invoice(**changes: object) -> InvoiceRequest:
    fields: dict[str, object] = dict(
        actor=OWNER, amount=D("100"), title="Acme", tax_number="91310000", address="1 Road"
    )
    return InvoiceRequest.model_validate({**fields, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": D("0")}, "The amount must be more than zero."),
        ({"reference": "  "}, "Give the payment's reference."),
        (
            {"method": "barter"},
            "The method must be one of: bank_transfer, bank_acceptance_bill, cash, cheque, other.",
        ),
    ],
)
def test_a_payment_says_what_is_wrong_with_it(changes, message):
    refusal = payment(**changes).refusal()
    assert refusal is not None and str(refusal) == message
    assert payment().refusal() is None


def test_a_payment_is_refused_when_its_reference_is_used_or_it_is_more_than_is_left():
    refused = payment(reference=" r-1 ").reference_refusal({"r-1"})
    assert refused is not None and refused.params == {"reference": "r-1"}
    above = payment(amount=D("1200.50")).payable_refusal(D("1000"))
    assert above is not None and above.template.startswith("The amount is more than is left")
    assert above.params == {"payable": "1,000.00"}
    assert payment().payable_refusal(D("100")) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": D("-1")}, "The amount must be more than zero."),
        ({"title": " "}, "Give the invoice title."),
        ({"tax_number": ""}, "Give the customer's tax number."),
        ({"address": ""}, "Give the address the invoice is mailed to."),
    ],
)
def test_an_invoice_application_says_what_is_missing(changes, message):
    refusal = invoice(**changes).refusal()
    assert refusal is not None and str(refusal) == message
    assert invoice().refusal() is None


def test_an_invoice_above_what_can_still_be_invoiced_is_refused_with_the_room():
    refusal = invoice(amount=D("501")).room_refusal(D("500"))
    assert refusal is not None and refusal.params == {"room": "500.00"}
    assert invoice(amount=D("500")).room_refusal(D("500")) is None
