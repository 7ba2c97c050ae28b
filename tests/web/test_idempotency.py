"""Actions that are not to-dos (invoice applications, payments) sent again after a lost answer
are one action; an Idempotency-Key makes two identical ones two, and a payment finance rejected
may be registered again with the same fields."""

from __future__ import annotations

from tests.web.test_collection_api import collecting_order, payment
from tests.web.test_fulfilment_api import complete
from tests.web.test_orders_api import todo_of

INVOICE = {"amount": "1000.00", "title": "Shanghai Precision", "tax_number": "91310000X",
           "address": "1 Century Avenue"}  # fmt: skip


async def invoice_requests(client, number: str) -> list[dict]:
    return (await client.get(f"/api/v1/orders/{number}")).json()["invoices"]


async def test_an_invoice_application_sent_again_is_one_and_a_new_key_makes_another(api, worker):
    number = await collecting_order(api)
    sales = await api("sales")
    url = f"/api/v1/orders/{number}/invoice-requests"
    first = await sales.post(url, json=INVOICE)
    again = await sales.post(url, json=INVOICE)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert len(await invoice_requests(sales, number)) == 1
    keyed = [
        await sales.post(url, json=INVOICE, headers={"Idempotency-Key": key})
        for key in ("second", "second", "third")
    ]
    assert [r.status_code for r in keyed] == [202, 202, 202]
    assert keyed[0].json() == keyed[1].json() != keyed[2].json()
    assert len(await invoice_requests(sales, number)) == 3


async def test_a_rejected_payment_can_be_registered_again_with_the_same_fields(api, worker):
    number = await collecting_order(api)
    sales, finance = await api("sales"), await api("finance")
    body = payment("1000.00", "BANK-77")
    url = f"/api/v1/orders/{number}/payments"
    assert (await sales.post(url, json=body)).status_code == 202
    confirm = await todo_of(finance, number, "confirm_payment")
    await complete(finance, confirm, {"outcome": "reject", "comment": "Not on the statement"})
    again = await sales.post(url, json=body)
    assert again.status_code == 202, again.text
    payments = (await sales.get(f"/api/v1/orders/{number}")).json()["payments"]
    assert [p["status"] for p in payments] == ["rejected", "pending"]
