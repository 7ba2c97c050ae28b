"""Many shipments planned from one list (issue 18, item 10): ops' open plan_shipment to-dos with
the planned dates each to-do's own form asks for; the ticked ones are planned each through its
to-do's completion, a refused one is said next to its row and does not stop the others, and the
page after says which were planned. Refused to the other roles."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models.tables import Order, TimelineEvent
from tests.web.conftest import csrf_of
from tests.web.test_fulfilment_api import (
    DOMESTIC,
    confirmed_order,
    fulfilment_order,
    open_todo,
    snapshot,
    workflow_today,
)
from tests.web.test_i18n import (
    chinese_session,
    needs_catalog,
    zh_catalog_compiled,  # noqa: F401 (the fixture needs_catalog uses)
)
from tests.web.test_orders_api import todo_of

REFUSED_ROLES = ("sales", "warehouse", "finance", "pricing")
NOT_FOR_YOU = "The operations worklists are for business operations."


def text_of(response) -> str:
    return html.unescape(response.text)


def listed(page_text: str) -> list[str]:
    """The orders on the planning list, in order."""
    return re.findall(
        r'<div class="card plan-row[^"]*" data-todo="\d+" data-order="([^"]+)">', page_text
    )


def row_of(page_text: str, number: str) -> str:
    match = re.search(
        rf'<div class="card plan-row[^"]*" data-todo="\d+" data-order="{number}">(.*?)\n  </div>',
        page_text,
        re.S,
    )
    assert match, f"no row for {number}"
    return match.group(0)


def dates_for(todo_id: int, start: date, codes=DOMESTIC) -> dict[str, str]:
    return {
        f"planned-{todo_id}-{code}": (start + timedelta(days=i)).isoformat()
        for i, code in enumerate(codes)
    }


async def planned_events(session_factory, number: str) -> int:
    async with session_factory() as session:
        return await session.scalar(
            select(func.count())
            .select_from(TimelineEvent)
            .join(Order, Order.id == TimelineEvent.order_id)
            .where(Order.number == number, TimelineEvent.kind == "shipment_planned")
        )


async def test_ops_plan_two_shipments_from_one_list_each_through_its_own_todo(
    api, browser_session, env, worker, session_factory
):
    first, second = await confirmed_order(api), await confirmed_order(api)
    api_ops = await api("ops")
    todos = [await todo_of(api_ops, n, "plan_shipment") for n in (first, second)]
    today = await workflow_today(env)
    ops = await browser_session("ops")
    page = await ops.get("/plan-shipments")
    assert page.status_code == 200, page.text
    assert listed(page.text) == [first, second]
    row = row_of(text_of(page), first)
    for code in DOMESTIC:  # the fields of the single to-do's form, blank before any plan
        assert f'name="planned-{todos[0]["id"]}-{code}" value=""' in row
    assert f'name="plan" value="{todos[0]["id"]}"' in row
    assert "Shanghai Precision Machinery Co." in row and "Domestic" in row

    form = {
        "csrf_token": csrf_of(page.text),
        "plan": [str(t["id"]) for t in todos],
        **dates_for(todos[0]["id"], today + timedelta(days=1)),
        **dates_for(todos[1]["id"], today + timedelta(days=2)),
    }
    for _ in range(2):  # sent twice (a double click): each planned once
        done = await ops.post("/plan-shipments", data=form)
        assert (done.status_code, done.headers["location"]) == (303, "/plan-shipments")
        after = await ops.get("/plan-shipments")
        assert f"Planned: {first}, {second}." in text_of(after)
        assert listed(after.text) == []
    assert "No shipment is waiting to be planned." in text_of(after)
    for number, start in ((first, 1), (second, 2)):
        order = (await api_ops.get(f"/api/v1/orders/{number}")).json()
        assert [(m["code"], m["planned_date"]) for m in order["milestones"]] == [
            (code, (today + timedelta(days=start + i)).isoformat())
            for i, code in enumerate(DOMESTIC)
        ]
        assert await planned_events(session_factory, number) == 1
        await todo_of(await api("warehouse"), number, "confirm_dispatch")


async def test_a_refused_row_is_said_next_to_it_and_the_others_are_planned(
    api, browser_session, env, worker, session_factory
):
    refused, fine, untouched = [await confirmed_order(api) for _ in range(3)]
    api_ops = await api("ops")
    ids = {
        n: (await todo_of(api_ops, n, "plan_shipment"))["id"] for n in (refused, fine, untouched)
    }
    today = await workflow_today(env)
    ops = await browser_session("ops")
    page = await ops.get("/plan-shipments")
    bad_dates = dates_for(ids[refused], today + timedelta(days=1))
    bad_dates[f"planned-{ids[refused]}-arrival"] = ""  # one milestone without its date
    form = {
        "csrf_token": csrf_of(page.text),
        "plan": [str(ids[refused]), str(ids[fine])],
        **bad_dates,
        **dates_for(ids[fine], today + timedelta(days=1)),
        **dates_for(ids[untouched], today + timedelta(days=3)),  # typed, not ticked
    }
    response = await ops.post("/plan-shipments", data=form)
    assert response.status_code == 422
    text = text_of(response)
    assert f"Planned: {fine}." in text
    assert listed(response.text) == [refused, untouched]
    row = row_of(text, refused)
    assert "Give a planned date for milestone arrival." in row and 'role="alert"' in row
    assert "checked" in row  # still ticked, its dates kept
    assert f'value="{(today + timedelta(days=1)).isoformat()}"' in row
    assert 'role="alert"' not in row_of(text, untouched)
    assert await planned_events(session_factory, fine) == 1
    assert await planned_events(session_factory, refused) == 0
    assert await planned_events(session_factory, untouched) == 0


async def test_nothing_ticked_is_refused_and_changes_nothing(api, browser_session, session_factory):
    shipment = await fulfilment_order(api, session_factory)
    todo_id = await open_todo(session_factory, shipment, "plan_shipment", "ops")
    before = await snapshot(session_factory, shipment)
    ops = await browser_session("ops")
    page = await ops.get("/plan-shipments")
    response = await ops.post(
        "/plan-shipments",
        data={"csrf_token": csrf_of(page.text), **dates_for(todo_id, date.today())},
    )
    assert response.status_code == 422
    assert "Tick the shipments to plan." in text_of(response)
    assert await snapshot(session_factory, shipment) == before


async def test_a_row_starts_with_the_dates_planned_so_far(api, browser_session, session_factory):
    start = date.today() + timedelta(days=4)
    shipment = await fulfilment_order(
        api,
        session_factory,
        milestones=[(c, start + timedelta(days=i), None) for i, c in enumerate(DOMESTIC)],
    )
    todo_id = await open_todo(session_factory, shipment, "plan_shipment", "ops")
    ops = await browser_session("ops")
    row = row_of(text_of(await ops.get("/plan-shipments")), shipment.number)
    assert f'name="planned-{todo_id}-picking" value="{start.isoformat()}"' in row


@needs_catalog
async def test_the_planning_list_speaks_chinese(api, browser_session, session_factory):
    shipment = await fulfilment_order(api, session_factory)
    await open_todo(session_factory, shipment, "plan_shipment", "ops")
    ops = await chinese_session(browser_session, "ops")
    text = text_of(await ops.get("/plan-shipments"))
    assert "<h1>批量安排发货" in text and "备货" in text and "安排勾选的发货" in text
    assert "Plan shipments" not in text and "Picking" not in text
    refused = await ops.post("/plan-shipments", data={"csrf_token": csrf_of(text)})
    assert refused.status_code == 422 and "请勾选要安排计划的发货。" in text_of(refused)


@pytest.mark.parametrize("role", REFUSED_ROLES)
async def test_other_roles_are_refused_the_planning_list(
    api, browser_session, session_factory, role
):
    shipment = await fulfilment_order(api, session_factory)
    todo_id = await open_todo(session_factory, shipment, "plan_shipment", "ops")
    before = await snapshot(session_factory, shipment)
    person = await browser_session(role)
    home = await person.get("/")
    assert 'href="/plan-shipments"' not in home.text
    page = await person.get("/plan-shipments")
    assert page.status_code == 403 and NOT_FOR_YOU in text_of(page)
    posted = await person.post(
        "/plan-shipments",
        data={
            "csrf_token": csrf_of(home.text),
            "plan": str(todo_id),
            **dates_for(todo_id, date.today() + timedelta(days=1)),
        },
    )
    assert posted.status_code == 403 and NOT_FOR_YOU in text_of(posted)
    assert await snapshot(session_factory, shipment) == before
