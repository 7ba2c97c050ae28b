"""Fulfilment pages: the warehouse's "awaiting shipment" queue and its dispatch forms, the
fulfilment to-do forms, and the order page's milestones (planned vs actual, coloured) with the
small forms ops, service and the owner get; every refusal is a page that changes nothing."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from tests.web.conftest import csrf_of
from tests.web.test_fulfilment_api import (
    TODAY,
    confirmed_order,
    domestic_plan,
    export_in_transit,
    fulfilment_order,
    open_todo,
    snapshot,
    workflow_today,
)
from tests.web.test_i18n import (
    choose_language,
    needs_catalog,
    zh_catalog_compiled,  # noqa: F401 (the fixture needs_catalog uses)
)
from tests.web.test_orders_api import todo_of
from web.app import create_app
from web.pages import shipments


@pytest.fixture
async def app(settings, session_factory, env):
    """The real app; with the queue's pages added while web/app.py does not register them."""
    app = create_app(settings, session_factory=session_factory, temporal_client=env.client)
    if not any(getattr(r, "path", "") == "/shipments" for r in app.routes):
        app.include_router(shipments.router)
    return app


def text_of(page) -> str:
    return html.unescape(page.text)


def card_of(page_text: str, number: str) -> str:
    """The queue's card of one order."""
    match = re.search(
        rf'<div class="card shipment[^"]*" data-order="{number}">(.*?)\n</div>', page_text, re.S
    )
    assert match, f"no card for {number}"
    return match.group(0)


# --- the queue ------------------------------------------------------------------------------


async def test_the_queue_lists_awaiting_orders_with_a_dispatch_form_and_held_ones_greyed(
    api, browser_session, session_factory
):
    ready = await fulfilment_order(
        api, session_factory, status="awaiting_dispatch", milestones=domestic_plan(), reserve=True
    )
    todo_id = await open_todo(session_factory, ready, "confirm_dispatch", "warehouse")
    held = await fulfilment_order(api, session_factory, status="held", milestones=domestic_plan())
    warehouse = await browser_session("warehouse")
    page = await warehouse.get("/shipments")
    assert page.status_code == 200, page.text
    assert 'href="/shipments"' in page.text  # the nav link
    ready_card = card_of(page.text, ready.number)
    assert f'action="/shipments/{todo_id}/dispatch"' in ready_card
    assert 'name="carrier"' in ready_card and 'name="tracking_number"' in ready_card
    assert "PUMP-10" in ready_card and "Shanghai Precision Machinery Co." in ready_card
    held_card = card_of(page.text, held.number)
    assert 'class="card shipment held"' in held_card
    assert "Held: waiting for deposit" in held_card
    assert "/dispatch" not in held_card

    only_held = await warehouse.get("/shipments?status=held")
    assert held.number in only_held.text and ready.number not in only_held.text


async def test_the_queue_is_refused_to_sales_and_not_in_their_menu(
    api, browser_session, session_factory
):
    await fulfilment_order(api, session_factory, status="awaiting_dispatch")
    sales = await browser_session("sales")
    assert 'href="/shipments"' not in (await sales.get("/")).text
    page = await sales.get("/shipments")
    assert page.status_code == 403
    assert "The shipment queue is for the warehouse and business operations." in text_of(page)


async def test_a_dispatch_without_tracking_number_is_refused_on_the_queue_page(
    api, browser_session, session_factory
):
    ready = await fulfilment_order(
        api, session_factory, status="awaiting_dispatch", milestones=domestic_plan()
    )
    todo_id = await open_todo(session_factory, ready, "confirm_dispatch", "warehouse")
    before = await snapshot(session_factory, ready)
    warehouse = await browser_session("warehouse")
    csrf = csrf_of((await warehouse.get("/shipments")).text)
    response = await warehouse.post(
        f"/shipments/{todo_id}/dispatch",
        data={"csrf_token": csrf, "carrier": "SF Express", "tracking_number": ""},
    )
    assert response.status_code == 422
    assert "Give the tracking number." in text_of(response)
    assert 'value="SF Express"' in card_of(response.text, ready.number)  # what was typed stays
    forged = await warehouse.post(
        f"/shipments/{todo_id}/dispatch",
        data={"csrf_token": "forged", "carrier": "SF", "tracking_number": "SF1"},
    )
    assert forged.status_code == 403
    sales = await browser_session("sales")
    by_sales = await sales.post(
        f"/shipments/{todo_id}/dispatch",
        data={
            "csrf_token": csrf_of((await sales.get("/")).text),
            "carrier": "SF",
            "tracking_number": "SF1",
        },
    )
    assert by_sales.status_code == 403
    assert await snapshot(session_factory, ready) == before


# --- the to-do forms ------------------------------------------------------------------------


async def test_the_plan_form_lists_the_shipping_modes_milestones_and_refuses_a_missing_date(
    api, browser_session, session_factory
):
    shipment = await fulfilment_order(api, session_factory, mode="export")
    todo_id = await open_todo(session_factory, shipment, "plan_shipment", "ops")
    before = await snapshot(session_factory, shipment)
    ops = await browser_session("ops")
    page = await ops.get(f"/todos/{todo_id}")
    assert page.status_code == 200, page.text
    codes = re.findall(r'<input type="date" id="planned-(\w+)"', page.text)
    assert codes == [
        "picking",
        "dispatch",
        "port_departure",
        "customs_declaration",
        "commodity_inspection",
        "arrival",
    ]
    assert "Plan the shipment" in page.text and "Customs declaration" in page.text
    form = {
        f"planned-{code}": (TODAY + timedelta(days=i + 1)).isoformat()
        for i, code in enumerate(codes)
    }
    form["planned-commodity_inspection"] = ""
    response = await ops.post(
        f"/todos/{todo_id}/complete",
        data={"csrf_token": csrf_of(page.text), "outcome": "planned", **form},
    )
    assert response.status_code == 422
    assert "Give a planned date for milestone commodity_inspection." in text_of(response)
    assert f'value="{form["planned-arrival"]}"' in response.text  # the dates typed stay
    assert await snapshot(session_factory, shipment) == before

    warehouse = await browser_session("warehouse")
    refused = await warehouse.post(
        f"/todos/{todo_id}/complete",
        data={
            "csrf_token": csrf_of((await warehouse.get("/")).text),
            "outcome": "planned",
            **{k: v or TODAY.isoformat() for k, v in form.items()},
        },
    )
    assert refused.status_code == 403
    assert "This to-do is not assigned to you." in text_of(refused)
    assert await snapshot(session_factory, shipment) == before


MISSING_FIELDS = [
    # kind, role, form fields, what the page says
    (
        "confirm_dispatch",
        "warehouse",
        {"outcome": "dispatched", "carrier": "SF"},
        "Give the tracking number.",
    ),
    (
        "confirm_arrival",
        "ops",
        {"outcome": "arrived", "actual_date": ""},
        "Give the date the goods arrived.",
    ),
    (
        "confirm_milestone",
        "ops",
        {"outcome": "done", "code": "picking", "actual_date": ""},
        "Give the date the milestone was done.",
    ),
    (
        "confirm_acceptance",
        "service",
        {"outcome": "defect", "comment": ""},
        "Describe the defect.",
    ),
    (
        "confirm_acceptance",
        "service",
        {"outcome": "accepted", "accepted_on": "2026-13-01", "signed_by": "Xu"},
        "accepted_on",
    ),
    (
        "handle_exception",
        "ops",
        {"outcome": "resolved", "resolution": "", "reship": "1"},
        "Say how the exception was resolved.",
    ),
]


@pytest.mark.parametrize(("kind", "role", "fields", "message"), MISSING_FIELDS)
async def test_each_fulfilment_todo_form_renders_and_refuses_missing_fields(
    api, browser_session, session_factory, kind, role, fields, message
):
    shipment = await fulfilment_order(
        api, session_factory, status="in_transit", milestones=domestic_plan()
    )
    todo_id = await open_todo(session_factory, shipment, kind, role)
    before = await snapshot(session_factory, shipment)
    client = await browser_session(role)
    page = await client.get(f"/todos/{todo_id}")
    assert page.status_code == 200, page.text
    assert f'action="/todos/{todo_id}/complete"' in page.text
    response = await client.post(
        f"/todos/{todo_id}/complete", data={"csrf_token": csrf_of(page.text), **fields}
    )
    assert response.status_code == 422, response.text
    assert message in text_of(response)
    assert await snapshot(session_factory, shipment) == before


async def test_a_late_milestone_todo_offers_that_milestone(api, browser_session, session_factory):
    shipment = await fulfilment_order(
        api,
        session_factory,
        status="in_transit",
        milestones=[
            ("picking", TODAY - timedelta(days=3), None),
            ("dispatch", TODAY - timedelta(days=2), TODAY),
            ("arrival", TODAY + timedelta(days=2), None),
        ],
    )
    todo_id = await open_todo(
        session_factory, shipment, "confirm_milestone", "ops", facts={"code": "picking"}
    )
    page = await (await browser_session("ops")).get(f"/todos/{todo_id}")
    assert page.status_code == 200, page.text
    assert 'option value="picking" selected' in page.text
    assert 'option value="arrival"' not in page.text  # arrival has its own to-do


# --- the order page -------------------------------------------------------------------------


async def test_the_order_page_shows_milestones_planned_vs_actual_in_their_colours(
    api, browser_session, session_factory
):
    shipment = await fulfilment_order(
        api,
        session_factory,
        status="in_transit",
        delayed=True,
        milestones=[
            ("picking", TODAY - timedelta(days=4), TODAY - timedelta(days=4)),
            ("dispatch", TODAY - timedelta(days=3), None),
            ("arrival", TODAY + timedelta(days=3), None),
        ],
    )
    for role in ("sales", "ops", "warehouse"):
        page = await (await browser_session(role)).get(f"/orders/{shipment.number}")
        assert page.status_code == 200, page.text
        rows = re.findall(r'<tr class="milestone ms-(\w+)" data-milestone="(\w+)"', page.text)
        assert rows == [
            ("done_on_time", "picking"),
            ("late", "dispatch"),
            ("pending", "arrival"),
        ]
        text = text_of(page)
        assert "In transit" in text and "Delayed" in text
        assert "SF Express" in text and "SF1000" in text  # the dispatch


async def test_ops_get_the_milestone_forms_and_others_do_not(api, browser_session, session_factory):
    shipment = await fulfilment_order(
        api, session_factory, status="in_transit", milestones=domestic_plan()
    )
    confirm = f'action="/orders/{shipment.number}/milestones/picking/confirm"'
    replan = f'action="/orders/{shipment.number}/milestones/arrival/replan"'
    exception = f'action="/orders/{shipment.number}/exceptions"'
    ops = (await (await browser_session("ops")).get(f"/orders/{shipment.number}")).text
    assert confirm in ops and replan in ops and exception in ops
    # dispatch and arrival are confirmed by their own to-dos
    assert "/milestones/arrival/confirm" not in ops
    owner = (await (await browser_session("sales")).get(f"/orders/{shipment.number}")).text
    assert confirm not in owner and replan not in owner and exception in owner
    warehouse = (await (await browser_session("warehouse")).get(f"/orders/{shipment.number}")).text
    assert confirm not in warehouse and exception not in warehouse


async def test_ops_get_the_release_form_for_a_held_shipment(api, browser_session, session_factory):
    held = await fulfilment_order(api, session_factory, status="held", milestones=domestic_plan())
    release = f'action="/orders/{held.number}/release-hold"'
    page = await (await browser_session("ops")).get(f"/orders/{held.number}")
    assert release in page.text and "Held: waiting for deposit" in text_of(page)
    assert f'action="/orders/{held.number}/exceptions"' not in page.text  # nothing left yet
    sales = await (await browser_session("sales")).get(f"/orders/{held.number}")
    assert release not in sales.text


async def test_order_page_actions_refused_change_nothing(api, browser_session, session_factory):
    shipment = await fulfilment_order(
        api, session_factory, status="in_transit", milestones=domestic_plan()
    )
    before = await snapshot(session_factory, shipment)
    base = f"/orders/{shipment.number}"

    warehouse = await browser_session("warehouse")
    csrf = csrf_of((await warehouse.get(base)).text)
    response = await warehouse.post(
        f"{base}/exceptions",
        data={"csrf_token": csrf, "kind": "damaged", "description": "Box crushed"},
    )
    assert response.status_code == 403
    assert "Exceptions are raised by operations, service or the order" in text_of(response)
    response = await warehouse.post(
        f"{base}/milestones/picking/confirm",
        data={"csrf_token": csrf, "actual_date": TODAY.isoformat()},
    )
    assert response.status_code == 403
    assert "Only business operations confirm milestones." in text_of(response)

    sales = await browser_session("sales")
    csrf = csrf_of((await sales.get(base)).text)
    response = await sales.post(
        f"{base}/exceptions", data={"csrf_token": csrf, "kind": "lost", "description": "Gone"}
    )
    assert response.status_code == 422
    assert "The kind must be one of: damaged, missing_parts, replacement, reshipment." in (
        text_of(response)
    )
    response = await sales.post(
        f"{base}/exceptions", data={"csrf_token": csrf, "kind": "damaged", "description": ""}
    )
    assert response.status_code == 422 and "Describe what went wrong." in text_of(response)

    ops = await browser_session("ops")
    csrf = csrf_of((await ops.get(base)).text)
    response = await ops.post(
        f"{base}/milestones/picking/confirm", data={"csrf_token": csrf, "actual_date": ""}
    )
    assert response.status_code == 422
    assert "Give the date the milestone was done." in text_of(response)
    response = await ops.post(
        f"{base}/milestones/arrival/replan",
        data={"csrf_token": csrf, "planned_date": "not a date", "reason": "Port strike"},
    )
    assert response.status_code == 422 and "planned_date" in text_of(response)
    assert 'value="Port strike"' in response.text  # what was typed stays
    response = await ops.post(
        f"{base}/milestones/teleport/replan",
        data={"csrf_token": csrf, "planned_date": TODAY.isoformat(), "reason": "x"},
    )
    assert response.status_code == 422 and "There is no milestone teleport." in text_of(response)
    response = await ops.post(f"{base}/release-hold", data={"csrf_token": csrf, "reason": "x"})
    assert response.status_code == 409
    assert "This shipment is not held." in text_of(response)
    forged = await ops.post(
        f"{base}/milestones/picking/confirm",
        data={"csrf_token": "forged", "actual_date": TODAY.isoformat()},
    )
    assert forged.status_code == 403
    assert await snapshot(session_factory, shipment) == before


# --- through the real shipment workflow -----------------------------------------------------


async def test_ops_plan_on_the_todo_page_and_the_warehouse_dispatches_from_the_queue(
    api, browser_session, worker, env
):
    number = await confirmed_order(api)
    today = await workflow_today(env)
    plan = await todo_of(await api("ops"), number, "plan_shipment")
    ops = await browser_session("ops")
    page = await ops.get(f"/todos/{plan['id']}")
    form = {
        f"planned-{code}": (today + timedelta(days=i + 1)).isoformat()
        for i, code in enumerate(("picking", "dispatch", "arrival"))
    }
    planned = await ops.post(
        f"/todos/{plan['id']}/complete",
        data={"csrf_token": csrf_of(page.text), "outcome": "planned", **form},
    )
    assert planned.status_code == 303, planned.text

    dispatch = await todo_of(await api("warehouse"), number, "confirm_dispatch")
    warehouse = await browser_session("warehouse")
    queue = await warehouse.get("/shipments")
    assert f'action="/shipments/{dispatch["id"]}/dispatch"' in card_of(queue.text, number)
    sent = await warehouse.post(
        f"/shipments/{dispatch['id']}/dispatch",
        data={
            "csrf_token": csrf_of(queue.text),
            "carrier": "SF Express",
            "tracking_number": "SF5566",
        },
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/shipments"
    after = await warehouse.get("/shipments")
    assert "Dispatch confirmed." in after.text and f'data-order="{number}"' not in after.text

    order_page = await ops.get(f"/orders/{number}")
    rows = re.findall(r'<tr class="milestone ms-(\w+)" data-milestone="(\w+)"', order_page.text)
    assert rows == [
        ("done_on_time", "picking"),
        ("done_on_time", "dispatch"),
        ("pending", "arrival"),
    ]
    assert "SF5566" in order_page.text and "In transit" in order_page.text
    # the owner reports a problem from the order page
    sales = await browser_session("sales")
    raised = await sales.post(
        f"/orders/{number}/exceptions",
        data={
            "csrf_token": csrf_of((await sales.get(f"/orders/{number}")).text),
            "kind": "damaged",
            "description": "Pump housing cracked",
        },
    )
    assert raised.status_code == 303, raised.text
    shown = text_of(await sales.get(f"/orders/{number}"))
    assert "The exception is raised; operations will handle it." in shown
    assert "Pump housing cracked" in shown
    handle = await todo_of(await api("ops"), number, "handle_exception")
    todo_page = await ops.get(f"/todos/{handle['id']}")
    assert "Pump housing cracked" in text_of(todo_page)
    assert 'name="reship"' in todo_page.text


# --- milestones in their order (issue 16, item 7) -------------------------------------------

CUSTOMS_FIRST = "Confirm customs_declaration first: it comes before %s and is not done yet."
CUSTOMS_FIRST_ZH = "请先确认 customs_declaration：它在 %s 之前，尚未完成。"


async def export_on_its_way(api, session_factory):
    return await fulfilment_order(
        api, session_factory, mode="export", status="in_transit", milestones=export_in_transit()
    )


@needs_catalog
@pytest.mark.parametrize(
    ("locale", "message"), [("en", CUSTOMS_FIRST), ("zh_CN", CUSTOMS_FIRST_ZH)], ids=["en", "zh"]
)
async def test_the_order_page_refuses_a_milestone_before_customs_in_the_users_language(
    api, browser_session, session_factory, locale, message
):
    shipment = await export_on_its_way(api, session_factory)
    before = await snapshot(session_factory, shipment)
    base = f"/orders/{shipment.number}"
    ops = await browser_session("ops")
    if locale == "zh_CN":
        await choose_language(ops, "zh_CN")
    response = await ops.post(
        f"{base}/milestones/commodity_inspection/confirm",
        data={"csrf_token": csrf_of((await ops.get(base)).text), "actual_date": TODAY.isoformat()},
    )
    assert response.status_code == 409
    assert message % "commodity_inspection" in text_of(response)
    assert await snapshot(session_factory, shipment) == before


@needs_catalog
@pytest.mark.parametrize(
    ("locale", "message"), [("en", CUSTOMS_FIRST), ("zh_CN", CUSTOMS_FIRST_ZH)], ids=["en", "zh"]
)
async def test_the_arrival_todo_page_refuses_arrival_before_customs_in_the_users_language(
    api, browser_session, session_factory, locale, message
):
    shipment = await export_on_its_way(api, session_factory)
    todo_id = await open_todo(session_factory, shipment, "confirm_arrival", "ops")
    before = await snapshot(session_factory, shipment)
    ops = await browser_session("ops")
    if locale == "zh_CN":
        await choose_language(ops, "zh_CN")
    page = await ops.get(f"/todos/{todo_id}")
    response = await ops.post(
        f"/todos/{todo_id}/complete",
        data={
            "csrf_token": csrf_of(page.text),
            "outcome": "arrived",
            "actual_date": TODAY.isoformat(),
        },
    )
    assert response.status_code == 409
    assert message % "arrival" in text_of(response)
    assert await snapshot(session_factory, shipment) == before


async def test_a_milestone_left_open_at_arrival_is_on_the_order_page_and_its_todo_says_why(
    api, browser_session, session_factory
):
    shipment = await export_on_its_way(api, session_factory)
    todo_id = await open_todo(
        session_factory,
        shipment,
        "confirm_milestone",
        "ops",
        facts={"code": "customs_declaration", "arrived_on": TODAY.isoformat()},
    )
    ops = await browser_session("ops")
    order_page = await ops.get(f"/orders/{shipment.number}")
    assert f'href="/todos/{todo_id}"' in order_page.text
    page = await ops.get(f"/todos/{todo_id}")
    assert page.status_code == 200, page.text
    assert 'option value="customs_declaration" selected' in page.text
    assert (
        f"The goods arrived on {TODAY.isoformat()} before this milestone was confirmed"
        in text_of(page)
    )
