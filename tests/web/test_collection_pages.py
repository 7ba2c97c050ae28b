"""Collection pages through the real workflow: the order page's money (figures, installments
with the overdue ones red, payments, invoices) and the forms each person gets there, finance's
to-do pages that confirm payments and issue invoices, and the owner's collect to-do. A refused
form comes back with its message and what was typed, and changes nothing."""

from __future__ import annotations

import html
import re

from babel.dates import format_date

from tests.web.conftest import csrf_of
from tests.web.test_collection_api import (
    OVERDUE_PLAN,
    OVERDUE_SINCE,
    TODAY,
    collecting_order,
    money_snapshot,
    overdue_days,
    payment,
    register,
    todo_row,
)
from tests.web.test_orders_api import todo_of

PAYMENT_FORM = 'action="/orders/{number}/payments"'
INVOICE_FORM = 'action="/orders/{number}/invoice-requests"'


def text_of(page) -> str:
    return html.unescape(page.text)


def section(page_text: str, css_class: str) -> str:
    """The page's element (a table or form) with this class, up to its closing tag."""
    match = re.search(
        rf'<(table|form|details)\b[^>]*\bclass="[^"]*\b{css_class}\b[^>]*>.*?</\1>', page_text, re.S
    )
    assert match, f"no {css_class} on the page"
    return match.group(0)


def figure(page_text: str, name: str) -> str:
    match = re.search(rf'<dd data-figure="{name}"[^>]*>([^<]*)</dd>', page_text)
    assert match, f"no figure {name}"
    return html.unescape(match.group(1))


async def test_the_order_page_shows_the_money_and_gives_each_person_their_forms(
    api, browser_session, worker
):
    number = await collecting_order(api, OVERDUE_PLAN)
    sales_api = await api("sales")
    await todo_of(sales_api, number, "collect")  # installment 2 went overdue at once
    await register(sales_api, number, payment("1000.00", "TT-PENDING"))
    applied = await sales_api.post(
        f"/api/v1/orders/{number}/invoice-requests", json={"amount": "2000.00"}
    )
    assert applied.status_code == 202, applied.text

    owner = await (await browser_session("sales")).get(f"/orders/{number}")
    assert owner.status_code == 200, owner.text
    page = owner.text
    assert figure(page, "total") == "CN¥28,400.00"
    assert figure(page, "paid") == "CN¥0.00"
    assert figure(page, "pending") == "CN¥1,000.00"
    assert figure(page, "outstanding") == "CN¥28,400.00"
    assert figure(page, "invoiced") == "CN¥0.00"
    assert figure(page, "invoice-pending") == "CN¥2,000.00"
    assert figure(page, "not-invoiced") == "CN¥28,400.00"
    installments = text_of_section(page, "installments")
    overdue_row = re.search(
        r'<tr class="installment ms-late" data-installment="2".*?</tr>', page, re.S
    )
    assert overdue_row, installments
    since = f"Overdue since {format_date(OVERDUE_SINCE, format='medium', locale='en')}"
    assert f"{since} ({overdue_days()} day(s))" in html.unescape(overdue_row.group(0))
    assert 'class="late due-state due-overdue"' in overdue_row.group(0)
    assert re.search(r'<tr class="installment" data-installment="1" data-status="due"', page)
    payments = text_of_section(page, "payments")
    assert "TT-PENDING" in payments and "Waiting for finance" in payments
    assert "Wang Fang" in payments
    invoices = text_of_section(page, "invoices")
    assert "Requested" in invoices and "CN¥2,000.00" in invoices
    assert PAYMENT_FORM.format(number=number) in page
    payment_form = section(page, "register-payment")
    assert "you can register up to CN¥27,400.00" in html.unescape(payment_form)
    assert all(
        f'<option value="{m}"' in payment_form
        for m in ("bank_transfer", "bank_acceptance_bill", "cash", "cheque", "other")
    )
    assert f'value="{TODAY.isoformat()}"' in payment_form  # received today, unless changed
    invoice_form = section(page, "request-invoice")
    assert INVOICE_FORM.format(number=number) in invoice_form
    assert 'value="26400.00"' in invoice_form  # the total less what is applied for
    assert 'value="91310000MA1FL0001X"' in invoice_form  # the customer's tax number

    finance = (await (await browser_session("finance")).get(f"/orders/{number}")).text
    assert INVOICE_FORM.format(number=number) in finance
    assert PAYMENT_FORM.format(number=number) not in finance
    assert figure(finance, "outstanding") == "CN¥28,400.00"

    warehouse = (await (await browser_session("warehouse")).get(f"/orders/{number}")).text
    assert INVOICE_FORM.format(number=number) not in warehouse
    assert PAYMENT_FORM.format(number=number) not in warehouse
    assert "TT-PENDING" in warehouse  # the figures and lists are for everyone who sees it


def text_of_section(page_text: str, css_class: str) -> str:
    return html.unescape(section(page_text, css_class))


async def test_a_draft_shows_its_payment_plan_without_money_forms(api, browser_session):
    sales_api = await api("sales")
    created = await sales_api.post(
        "/api/v1/orders",
        json={
            "customer_id": 1,
            "shipping_mode": "domestic",
            "lines": [{"product_id": 3, "quantity": "1"}],
            "payment_plan": OVERDUE_PLAN,
        },
    )
    number = created.json()["number"]
    page = (await (await browser_session("sales")).get(f"/orders/{number}")).text
    plan = text_of_section(page, "installments")
    assert "on confirmation" in plan and "CN¥2,550.00" in plan and "CN¥5,950.00" in plan
    assert "data-figure" not in page and "Overdue since" not in page
    assert PAYMENT_FORM.format(number=number) not in page
    assert INVOICE_FORM.format(number=number) not in page


async def test_a_payment_registered_on_the_order_page_is_confirmed_on_finances_todo_page(
    api, browser_session, worker, session_factory
):
    number = await collecting_order(api)
    owner = await browser_session("sales")
    page = await owner.get(f"/orders/{number}")
    csrf = csrf_of(page.text)
    before = await money_snapshot(session_factory, number)
    typed = {
        "amount": "30,000.00",
        "received_on": TODAY.isoformat(),
        "method": "cheque",
        "reference": "CHQ-881",
    }
    too_much = await owner.post(f"/orders/{number}/payments", data={"csrf_token": csrf, **typed})
    assert too_much.status_code == 422
    assert (
        "The amount is more than is left to pay: 28,400.00 (outstanding less payments waiting "
        "for finance)." in text_of(too_much)
    )
    kept = section(too_much.text, "register-payment")
    assert 'value="30,000.00"' in kept and 'value="CHQ-881"' in kept
    assert '<option value="cheque" selected' in kept
    blank = await owner.post(
        f"/orders/{number}/payments",
        data={"csrf_token": csrf, **typed, "amount": "5000", "reference": ""},
    )
    assert blank.status_code == 422 and "Give the payment's reference." in text_of(blank)
    no_date = await owner.post(
        f"/orders/{number}/payments",
        data={"csrf_token": csrf, **typed, "amount": "5000", "received_on": ""},
    )
    assert no_date.status_code == 422
    assert "Give the date the money was received." in text_of(no_date)
    not_a_number = await owner.post(
        f"/orders/{number}/payments", data={"csrf_token": csrf, **typed, "amount": "lots"}
    )
    assert not_a_number.status_code == 422 and "amount" in text_of(not_a_number)
    forged = await owner.post(
        f"/orders/{number}/payments", data={"csrf_token": "forged", **typed, "amount": "5000"}
    )
    assert forged.status_code == 403
    assert await money_snapshot(session_factory, number) == before

    done = await owner.post(
        f"/orders/{number}/payments", data={"csrf_token": csrf, **typed, "amount": "5,000.00"}
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/orders/{number}"
    after = await owner.get(done.headers["location"])
    assert "The payment is registered; finance will confirm it." in text_of(after)
    payments = text_of_section(after.text, "payments")
    assert "CHQ-881" in payments and "Cheque" in payments and "Waiting for finance" in payments

    finance_api = await api("finance")
    confirm = await todo_of(finance_api, number, "confirm_payment")
    finance = await browser_session("finance")
    todo_page = await finance.get(f"/todos/{confirm['id']}")
    assert todo_page.status_code == 200, todo_page.text
    shown = text_of(todo_page)
    assert "Confirm a payment received" in shown
    facts = html.unescape(
        re.search(r'<dl class="grid payment-facts">.*?</dl>', todo_page.text, re.S)[0]
    )
    assert "CN¥5,000.00" in facts and "CHQ-881" in facts and "Cheque" in facts
    assert "Wang Fang" in facts
    assert 'value="confirm"' in todo_page.text and 'value="reject"' in todo_page.text
    csrf = csrf_of(todo_page.text)
    no_reason = await finance.post(
        f"/todos/{confirm['id']}/complete",
        data={"csrf_token": csrf, "outcome": "reject", "comment": ""},
    )
    assert no_reason.status_code == 422
    assert "Say why the payment is rejected." in text_of(no_reason)
    confirmed = await finance.post(
        f"/todos/{confirm['id']}/complete", data={"csrf_token": csrf, "outcome": "confirm"}
    )
    assert confirmed.status_code == 303, confirmed.text
    order_page = (await owner.get(f"/orders/{number}")).text
    assert figure(order_page, "paid") == "CN¥5,000.00"
    assert figure(order_page, "outstanding") == "CN¥23,400.00"
    assert "Confirmed" in text_of_section(order_page, "payments")


async def test_an_invoice_applied_for_on_the_order_page_is_issued_on_finances_todo_page(
    api, browser_session, worker, session_factory
):
    number = await collecting_order(api)
    owner = await browser_session("sales")
    csrf = csrf_of((await owner.get(f"/orders/{number}")).text)
    before = await money_snapshot(session_factory, number)
    typed = {"amount": "30000", "title": "", "tax_number": "", "address": "Room 5, Pudong"}
    too_much = await owner.post(
        f"/orders/{number}/invoice-requests", data={"csrf_token": csrf, **typed}
    )
    assert too_much.status_code == 422
    assert "The amount is more than can still be invoiced: 28,400.00" in text_of(too_much)
    kept = section(too_much.text, "request-invoice")
    assert 'value="30000"' in kept and "Room 5, Pudong" in kept and " open>" in kept
    warehouse = await browser_session("warehouse")
    intruder = await warehouse.post(
        f"/orders/{number}/invoice-requests",
        data={"csrf_token": csrf_of((await warehouse.get("/")).text), **typed, "amount": "100"},
    )
    assert intruder.status_code == 403
    assert "Only the order's owner or finance apply for its invoices." in text_of(intruder)
    assert await money_snapshot(session_factory, number) == before

    done = await owner.post(
        f"/orders/{number}/invoice-requests",
        data={"csrf_token": csrf, **typed, "amount": "8,520.00"},
    )
    assert done.status_code == 303, done.text
    after = await owner.get(done.headers["location"])
    assert "The invoice is applied for; finance will issue it." in text_of(after)
    invoices = text_of_section(after.text, "invoices")
    assert "Shanghai Precision Machinery Co." in invoices  # the title, from the customer
    assert "Room 5, Pudong" in invoices

    issue = await todo_of(await api("finance"), number, "issue_invoice")
    finance = await browser_session("finance")
    todo_page = await finance.get(f"/todos/{issue['id']}")
    assert todo_page.status_code == 200, todo_page.text
    facts = html.unescape(
        re.search(r'<dl class="grid invoice-facts">.*?</dl>', todo_page.text, re.S)[0]
    )
    assert "CN¥8,520.00" in facts and "91310000MA1FL0001X" in facts
    assert "Shanghai Precision Machinery Co." in facts and "Room 5, Pudong" in facts
    csrf = csrf_of(todo_page.text)
    no_number = await finance.post(
        f"/todos/{issue['id']}/complete",
        data={"csrf_token": csrf, "outcome": "issued", "invoice_number": "", "comment": "x"},
    )
    assert no_number.status_code == 422 and "Give the invoice number." in text_of(no_number)
    assert 'name="comment">x</textarea>' in no_number.text  # what was typed stays
    issued = await finance.post(
        f"/todos/{issue['id']}/complete",
        data={"csrf_token": csrf, "outcome": "issued", "invoice_number": "INV-88"},
    )
    assert issued.status_code == 303, issued.text
    order_page = (await owner.get(f"/orders/{number}")).text
    assert figure(order_page, "invoiced") == "CN¥8,520.00"
    assert "INV-88" in text_of_section(order_page, "invoices")


async def test_the_collect_todo_explains_it_closes_by_itself_and_cannot_be_completed(
    api, browser_session, worker, session_factory
):
    number = await collecting_order(api, OVERDUE_PLAN)
    collect = await todo_of(await api("sales"), number, "collect")
    owner = await browser_session("sales")
    page = await owner.get(f"/todos/{collect['id']}")
    assert page.status_code == 200, page.text
    shown = text_of(page)
    assert "Collect an overdue payment" in shown
    assert "closes by itself once the payment is registered and finance have confirmed it" in shown
    assert "#2" in shown and "CN¥19,880.00" in shown
    assert f'href="/orders/{number}#register-payment"' in page.text
    assert f'action="/todos/{collect["id"]}/complete"' not in page.text
    forced = await owner.post(
        f"/todos/{collect['id']}/complete",
        data={"csrf_token": csrf_of(page.text), "outcome": "paid"},
    )
    assert forced.status_code == 409
    assert "This to-do closes by itself once the installment is paid." in text_of(forced)
    assert (await todo_row(session_factory, collect["id"])).status == "open"
    order_page = (await owner.get(f"/orders/{number}")).text
    assert 'id="register-payment"' in order_page  # where the to-do's link leads
