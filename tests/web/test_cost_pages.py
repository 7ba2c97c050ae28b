"""Actual-cost pages through the real workflow: ops record cost batches on their to-do page or
on the order page, finance approve or reject them on theirs, ops review the variance and the
operations manager approves a large one; the order page shows the batches and, once the order is
closed, the final figures, to those who may see costs and to no one else. A refused form comes
back with its message and what was typed, and changes nothing."""

from __future__ import annotations

import html
import re
from decimal import Decimal

from tests.web.conftest import csrf_of
from tests.web.test_collection_api import collecting_order, payment, register
from tests.web.test_collection_pages import section, text_of
from tests.web.test_costs_api import cost_snapshot, deliver, item, paid_order
from tests.web.test_fulfilment_api import complete, workflow_today
from tests.web.test_orders_api import todo_of

COSTS_FORM = 'action="/orders/{number}/actual-costs"'
FIRST_PAYMENT = "Actual costs are recorded once the order's first payment is confirmed."


def cost_row(number: int, category: str, amount: str, reference: str) -> dict[str, str]:
    return {
        f"item-{number}-category": category,
        f"item-{number}-amount": amount,
        f"item-{number}-reference": reference,
    }


def shown_row(page_text: str, number: int) -> str:
    match = re.search(rf'<tr data-row="{number}">.*?</tr>', page_text, re.S)
    assert match, f"no item row {number}"
    return match.group(0)


def cost_figure(page_text: str, name: str) -> str:
    match = re.search(rf'<dd data-cost="{name}"[^>]*>([^<]*)</dd>', page_text)
    assert match, f"no cost figure {name}"
    return html.unescape(match.group(1))


async def open_todo_page(client, todo: dict) -> tuple[str, str]:
    page = await client.get(f"/todos/{todo['id']}")
    assert page.status_code == 200, page.text
    return page.text, csrf_of(page.text)


async def test_ops_record_costs_on_their_todo_page_and_finance_approve_them_on_theirs(
    api, browser_session, worker, env, session_factory
):
    number, _ = await paid_order(api, env)
    ops_api, finance_api = await api("ops"), await api("finance")
    record = await todo_of(ops_api, number, "record_actual_costs")
    ops = await browser_session("ops")
    page, csrf = await open_todo_page(ops, record)
    assert "Record the actual costs" in html.unescape(page)
    assert 'data-row="5"' in page and 'name="final"' in page
    assert all(
        f'<option value="{c}"' in page for c in ("goods", "freight", "installation", "customs")
    )
    before = await cost_snapshot(session_factory, number)
    url = f"/todos/{record['id']}/complete"

    negative = await ops.post(
        url,
        data={"csrf_token": csrf, "outcome": "recorded", **cost_row(1, "goods", "-5", "SUP-1")},
    )
    assert negative.status_code == 422
    assert "Item 1: the amount must be more than zero." in text_of(negative)
    assert 'value="-5"' in shown_row(negative.text, 1)
    assert '<option value="goods" selected' in shown_row(negative.text, 1)
    unknown = await ops.post(
        url,
        data={"csrf_token": csrf, "outcome": "recorded", **cost_row(1, "catering", "5", "S-1")},
    )
    assert unknown.status_code == 422
    assert (
        "Item 1: the category must be one of: goods, freight, installation, customs, other, "
        "return_freight." in text_of(unknown)
    )
    # Row 2 left blank: the third row is the second item, and comes back as the second row.
    no_reference = await ops.post(
        url,
        data={
            "csrf_token": csrf,
            "outcome": "recorded",
            **cost_row(1, "goods", "1,000.00", "SUP-1"),
            **cost_row(3, "freight", "300", ""),
        },
    )
    assert no_reference.status_code == 422
    assert "Item 2: give the supplier payment reference." in text_of(no_reference)
    assert 'value="300"' in shown_row(no_reference.text, 2)
    assert '<option value="freight" selected' in shown_row(no_reference.text, 2)
    assert 'value="1,000.00"' in shown_row(no_reference.text, 1)
    not_a_number = await ops.post(
        url,
        data={
            "csrf_token": csrf,
            "outcome": "recorded",
            "final": "1",
            **cost_row(1, "goods", "lots", "SUP-1"),
        },
    )
    assert not_a_number.status_code == 422
    assert "Item 1: “lots” is not an amount." in text_of(not_a_number)
    assert 'name="final" value="1" checked' in not_a_number.text
    nothing = await ops.post(url, data={"csrf_token": csrf, "outcome": "recorded"})
    assert nothing.status_code == 422 and "Give at least one cost item." in text_of(nothing)
    assert await cost_snapshot(session_factory, number) == before

    # The last costs (finance's rejection then asks ops to record them again).
    recorded = await ops.post(
        url,
        data={
            "csrf_token": csrf,
            "outcome": "recorded",
            "final": "on",
            **cost_row(1, "goods", "1,000.00", "SUP-1"),
            **cost_row(3, "freight", "300", "SUP-2"),
        },
    )
    assert recorded.status_code == 303, recorded.text
    after = await cost_snapshot(session_factory, number)
    assert after["batches"] == 1 and after["items"] == 2

    approve = await todo_of(finance_api, number, "approve_actual_costs")
    finance = await browser_session("finance")
    page, csrf = await open_todo_page(finance, approve)
    shown = html.unescape(section(page, "cost-items"))
    assert "Goods" in shown and "CN¥1,000.00" in shown and "SUP-1" in shown
    assert "Freight" in shown and "CN¥300.00" in shown and "SUP-2" in shown
    assert "CN¥1,300.00" in shown  # the total
    assert cost_figure(page, "batch-total") == "CN¥1,300.00"
    assert "Hu Min" in html.unescape(between(page, "cost-batch-facts", "</dl>"))
    url = f"/todos/{approve['id']}/complete"
    no_reason = await finance.post(url, data={"csrf_token": csrf, "outcome": "reject"})
    assert no_reason.status_code == 422
    assert "Say why the costs are rejected." in text_of(no_reason)
    rejected = await finance.post(
        url,
        data={"csrf_token": csrf, "outcome": "reject", "comment": "Freight invoice missing"},
    )
    assert rejected.status_code == 303, rejected.text

    again = await todo_of(ops_api, number, "record_actual_costs")
    page, csrf = await open_todo_page(ops, again)
    assert "Finance rejected the last batch: “Freight invoice missing”." in html.unescape(page)
    batches = html.unescape(section(page, "cost-batches"))
    assert "Rejected" in batches and "Freight invoice missing" in batches
    last = await ops.post(
        f"/todos/{again['id']}/complete",
        data={
            "csrf_token": csrf,
            "outcome": "recorded",
            "final": "1",
            **cost_row(1, "goods", "1000", "SUP-1"),
            **cost_row(2, "freight", "300", "SUP-3"),
        },
    )
    assert last.status_code == 303, last.text
    approve = await todo_of(finance_api, number, "approve_actual_costs")
    page, csrf = await open_todo_page(finance, approve)
    assert "Operations say these are the last costs of this order." in html.unescape(page)
    approved = await finance.post(
        f"/todos/{approve['id']}/complete", data={"csrf_token": csrf, "outcome": "approve"}
    )
    assert approved.status_code == 303, approved.text
    done = await cost_snapshot(session_factory, number)
    assert done["actual_cost"] == Decimal("1300.00")
    assert ("record_actual_costs", "open") not in done["todos"]  # those were the last


async def test_ops_record_costs_on_the_order_page_once_the_first_payment_is_confirmed(
    api, browser_session, worker, env, session_factory
):
    number = await collecting_order(api)
    ops, sales = await browser_session("ops"), await browser_session("sales")
    page = (await ops.get(f"/orders/{number}")).text
    assert FIRST_PAYMENT in html.unescape(page)
    assert COSTS_FORM.format(number=number) not in page
    early = await ops.post(
        f"/orders/{number}/actual-costs",
        data={"csrf_token": csrf_of(page), **cost_row(1, "goods", "100", "SUP-1")},
    )
    assert early.status_code == 409 and FIRST_PAYMENT in text_of(early)
    assert 'id="actual-costs"' not in (await sales.get(f"/orders/{number}")).text

    sales_api, finance_api = await api("sales"), await api("finance")
    today = await workflow_today(env)
    await register(sales_api, number, payment("5000.00", "BANK-1", received_on=today.isoformat()))
    confirm = await todo_of(finance_api, number, "confirm_payment")
    await complete(finance_api, confirm, {"outcome": "confirm"})
    await todo_of(await api("ops"), number, "record_actual_costs")

    page = (await ops.get(f"/orders/{number}")).text
    form = section(page, "record-costs")
    assert COSTS_FORM.format(number=number) in form and 'data-row="5"' in form
    assert "No actual costs are recorded yet." in html.unescape(page)
    csrf = csrf_of(page)
    before = await cost_snapshot(session_factory, number)
    typed = {
        "csrf_token": csrf,
        **cost_row(1, "customs", "800", "CUS-9"),
        **cost_row(2, "installation", "0", "INS-1"),
    }
    refused = await ops.post(f"/orders/{number}/actual-costs", data=typed)
    assert refused.status_code == 422
    assert "Item 2: the amount must be more than zero." in text_of(refused)
    kept = section(refused.text, "record-costs")
    assert 'value="CUS-9"' in kept and '<option value="installation" selected' in kept
    finance = await browser_session("finance")
    intruder = await finance.post(
        f"/orders/{number}/actual-costs",
        data={**typed, "csrf_token": csrf_of((await finance.get("/")).text)},
    )
    assert intruder.status_code == 403
    assert "Operations record the actual costs; finance approve them." in text_of(intruder)
    assert await cost_snapshot(session_factory, number) == before

    done = await ops.post(
        f"/orders/{number}/actual-costs", data={**typed, "item-2-amount": "1,200.50"}
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/orders/{number}"
    after = (await ops.get(done.headers["location"])).text
    assert "The costs are recorded; finance will approve them." in html.unescape(after)
    batch = html.unescape(section(after, "cost-batches"))
    assert "Waiting for finance" in batch and "CUS-9" in batch and "INS-1" in batch
    assert "Customs · CN¥800.00" in batch and "CN¥2,000.50" in batch
    assert cost_figure(after, "approved") == "CN¥0.00"

    # Nothing more to record: the box ticked, the rows blank.
    await todo_of(await api("ops"), number, "record_actual_costs")
    page = (await ops.get(f"/orders/{number}")).text
    last = await ops.post(
        f"/orders/{number}/actual-costs", data={"csrf_token": csrf_of(page), "final": "1"}
    )
    assert last.status_code == 303, last.text
    after = (await ops.get(f"/orders/{number}")).text
    assert "Noted: every actual cost of the order is recorded." in html.unescape(after)
    assert COSTS_FORM.format(number=number) not in after

    owner = (await sales.get(f"/orders/{number}")).text
    assert 'id="actual-costs"' not in owner and "CUS-9" not in owner
    assert "cost-batches" not in owner and "CN¥2,000.50" not in owner
    # Finance's to-do is on the owner's order, but about costs: the owner sees no figure there.
    approve = await todo_of(finance_api, number, "approve_actual_costs")
    seen = await sales.get(f"/todos/{approve['id']}")
    assert seen.status_code == 200, seen.text
    assert "This to-do is about the order's costs, which your role does not see." in text_of(seen)
    assert "CUS-9" not in seen.text and "CN¥2,000.50" not in text_of(seen)
    assert f'action="/todos/{approve["id"]}/complete"' not in seen.text


async def test_a_large_variance_is_explained_sent_back_approved_and_the_order_shows_it(
    api, browser_session, worker, env, session_factory
):
    number, _ = await paid_order(api, env)
    ops_api, finance_api = await api("ops"), await api("finance")
    expected = Decimal((await ops_api.get(f"/api/v1/orders/{number}")).json()["expected_cost"])
    goods = (expected * Decimal("0.8")).quantize(Decimal("0.01"))
    freight = expected - goods + Decimal("5000.00")
    record = await todo_of(ops_api, number, "record_actual_costs")
    await complete(
        ops_api,
        record,
        {
            "outcome": "recorded",
            "final": True,
            "items": [item("goods", str(goods), "SUP-1"), item("freight", str(freight), "SUP-2")],
        },
    )
    await complete(
        finance_api,
        await todo_of(finance_api, number, "approve_actual_costs"),
        {"outcome": "approve"},
    )
    await deliver(api, env, number)

    review = await todo_of(ops_api, number, "review_variance")
    ops = await browser_session("ops")
    page, csrf = await open_todo_page(ops, review)
    table = html.unescape(section(page, "variance"))
    assert "Goods" in table and "Freight" in table and "Customs" in table
    assert "CN¥5,000.00" in table  # the difference in all
    assert re.search(r'<tr data-category="freight">.*?</tr>', page, re.S)
    shown = html.unescape(page)
    assert "The variance is above the threshold of 5 % of the expected cost." in shown
    assert "Explanation (required)" in shown and 'name="explanation"' in page
    before = await cost_snapshot(session_factory, number)
    url = f"/todos/{review['id']}/complete"
    unexplained = await ops.post(
        url, data={"csrf_token": csrf, "outcome": "reviewed", "explanation": "  "}
    )
    assert unexplained.status_code == 422
    assert (
        "Explain the variance: it is above the threshold of 5 % of the expected cost."
        in text_of(unexplained)
    )
    assert await cost_snapshot(session_factory, number) == before
    reviewed = await ops.post(
        url, data={"csrf_token": csrf, "outcome": "reviewed", "explanation": "Sea slot lost"}
    )
    assert reviewed.status_code == 303, reviewed.text

    manager_api = await api("ops_manager")
    decide = await todo_of(manager_api, number, "approve_variance")
    manager = await browser_session("ops_manager")
    inbox = html.unescape((await manager.get("/")).text)  # the inbox says what is at stake
    row = re.search(
        rf'<tr data-todo="{decide["id"]}" data-kind="approve_variance">.*?</tr>', inbox, re.S
    ).group(0)
    assert "variance CN¥5,000.00" in row and "above the threshold" in row
    page, csrf = await open_todo_page(manager, decide)
    assert "Sea slot lost" in html.unescape(section_of_class(page, "variance-explanation"))
    assert "CN¥5,000.00" in html.unescape(section(page, "variance"))
    url = f"/todos/{decide['id']}/complete"
    no_reason = await manager.post(url, data={"csrf_token": csrf, "outcome": "reject"})
    assert no_reason.status_code == 422
    assert "Say why the variance is not approved." in text_of(no_reason)
    sent_back = await manager.post(
        url, data={"csrf_token": csrf, "outcome": "reject", "comment": "Which carrier?"}
    )
    assert sent_back.status_code == 303, sent_back.text

    review = await todo_of(ops_api, number, "review_variance")
    page, csrf = await open_todo_page(ops, review)
    assert "The operations manager sent the review back: “Which carrier?”" in html.unescape(page)
    reviewed = await ops.post(
        f"/todos/{review['id']}/complete",
        data={"csrf_token": csrf, "outcome": "reviewed", "explanation": "Air freight by SF"},
    )
    assert reviewed.status_code == 303, reviewed.text
    decide = await todo_of(manager_api, number, "approve_variance")
    page, csrf = await open_todo_page(manager, decide)
    approved = await manager.post(
        f"/todos/{decide['id']}/complete", data={"csrf_token": csrf, "outcome": "approve"}
    )
    assert approved.status_code == 303, approved.text
    assert (await cost_snapshot(session_factory, number))["stage"] == "closed"

    order = (await ops_api.get(f"/api/v1/orders/{number}")).json()
    page = (await ops.get(f"/orders/{number}")).text
    final = html.unescape(between(page, 'id="final-figures"', "Closed on"))
    assert "Final figures" in final and "Air freight by SF" in final
    assert cost_figure(page, "revenue") == money(order["total"])
    assert cost_figure(page, "expected-cost") == money(expected)
    assert cost_figure(page, "actual-cost") == money(expected + Decimal("5000"))
    assert cost_figure(page, "actual-margin") == money(order["actual_margin"])
    assert cost_figure(page, "variance").startswith("CN¥5,000.00 (")
    freight_row = re.search(r'<tr data-category="freight">.*?</tr>', final, re.S)
    assert freight_row and money(freight) in freight_row.group(0)
    assert "Approved" in html.unescape(section(page, "cost-batches"))
    finance_page = (await (await browser_session("finance")).get(f"/orders/{number}")).text
    assert "final-figures" in finance_page

    owner = (await (await browser_session("sales")).get(f"/orders/{number}")).text
    shown = html.unescape(owner)
    assert "Final figures" not in shown and 'id="actual-costs"' not in owner
    assert "data-cost" not in owner and 'class="variance"' not in owner
    assert "Air freight by SF" not in shown and "Which carrier?" not in shown
    assert money(expected + Decimal("5000")) not in shown and "CN¥5,000.00" not in shown


async def test_a_variance_within_the_threshold_closes_the_order_when_ops_review_it(
    api, browser_session, worker, env, session_factory
):
    number, _ = await paid_order(api, env)
    ops_api, finance_api = await api("ops"), await api("finance")
    expected = Decimal((await ops_api.get(f"/api/v1/orders/{number}")).json()["expected_cost"])
    record = await todo_of(ops_api, number, "record_actual_costs")
    await complete(
        ops_api,
        record,
        {"outcome": "recorded", "final": True, "items": [item("goods", str(expected), "S-1")]},
    )
    await complete(
        finance_api,
        await todo_of(finance_api, number, "approve_actual_costs"),
        {"outcome": "approve"},
    )
    await deliver(api, env, number)
    review = await todo_of(ops_api, number, "review_variance")
    ops = await browser_session("ops")
    page, csrf = await open_todo_page(ops, review)
    shown = html.unescape(page)
    assert "The variance is within the threshold of 5 % of the expected cost." in shown
    assert "Explanation (optional)" in shown and " required>" not in page
    reviewed = await ops.post(
        f"/todos/{review['id']}/complete", data={"csrf_token": csrf, "outcome": "reviewed"}
    )
    assert reviewed.status_code == 303, reviewed.text
    assert (await cost_snapshot(session_factory, number))["stage"] == "closed"
    page = (await ops.get(f"/orders/{number}")).text
    assert cost_figure(page, "variance") == "CN¥0.00 (0 %)"
    assert cost_figure(page, "actual-cost") == money(expected)


def money(value: Decimal | str) -> str:
    return f"CN¥{Decimal(value):,.2f}"


def between(page_text: str, start: str, end: str) -> str:
    assert start in page_text, f"no {start} on the page"
    return page_text[page_text.index(start) : page_text.index(end, page_text.index(start))]


def section_of_class(page_text: str, css_class: str) -> str:
    """The div with this class, up to the first closing div (the blocks hold no nested div)."""
    match = re.search(rf'<div class="[^"]*\b{css_class}\b[^"]*"[^>]*>.*?</div>', page_text, re.S)
    assert match, f"no {css_class} on the page"
    return match.group(0)
