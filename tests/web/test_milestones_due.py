"""Operations' "Milestones due" (issue 18, item 10): every planned milestone not yet confirmed
across the orders they see, late / today / this week / later by the company's calendar, on a
page and in the API; each confirmed in place through the command its own form uses; refused to
the other roles."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models.company import company_today
from models.tables import Order, TimelineEvent
from tests.web.conftest import csrf_of
from tests.web.test_fulfilment_api import (
    EXPORT,
    complete,
    confirmed_order,
    fulfilment_order,
    open_todo,
    planned,
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


def rows_of(page_text: str) -> list[tuple[str, str, str]]:
    """The list's rows, in order: (window, order number, milestone code)."""
    return re.findall(
        r'<tr class="due-row due-(\w+)" data-order="([^"]+)" data-milestone="(\w+)">', page_text
    )


def row_of(page_text: str, number: str, code: str) -> str:
    match = re.search(
        rf'<tr class="due-row[^"]*" data-order="{number}" data-milestone="{code}">(.*?)</tr>',
        page_text,
        re.S,
    )
    assert match, f"no row for {number} {code}"
    return match.group(1)


def end_of_week(today: date) -> date:
    return today + timedelta(days=6 - today.weekday())


async def three_orders(api, session_factory, today: date):
    """A domestic order late on picking, dispatching today and arriving later; an export order
    dispatched, its arrival's to-do open, the rest planned for the end of this week; a
    cancelled order with a milestone never done (not listed)."""
    late = await fulfilment_order(
        api,
        session_factory,
        milestones=[
            ("picking", today - timedelta(days=2), None),
            ("dispatch", today, None),
            ("arrival", today + timedelta(days=10), None),
        ],
    )
    week_end = end_of_week(today)
    export = await fulfilment_order(
        api,
        session_factory,
        mode="export",
        status="in_transit",
        milestones=[
            (code, today - timedelta(days=3), today - timedelta(days=3)) for code in EXPORT[:2]
        ]
        + [(code, week_end, None) for code in EXPORT[2:]],
    )
    arrival_todo = await open_todo(session_factory, export, "confirm_arrival", "ops")
    cancelled = await fulfilment_order(
        api, session_factory, milestones=[("picking", today - timedelta(days=1), None)]
    )
    async with session_factory() as session:
        (await session.get(Order, cancelled.order_id)).stage = "cancelled"
        await session.commit()
    return late, export, arrival_todo


async def test_ops_get_every_milestone_not_yet_confirmed_by_when_it_is_due(
    api, session_factory, settings
):
    today = company_today(settings.time_zone)
    late, export, arrival_todo = await three_orders(api, session_factory, today)
    ops = await api("ops")
    response = await ops.get("/api/v1/milestones/due")
    assert response.status_code == 200, response.text
    items = response.json()
    # the earliest planned first; the export order's done milestones and the cancelled order's
    # milestone are not there
    this_week = "this_week" if end_of_week(today) > today else "today"
    assert [(i["number"], i["code"], i["due"]) for i in items] == [
        (late.number, "picking", "late"),
        (late.number, "dispatch", "today"),
        *[(export.number, code, this_week) for code in EXPORT[2:]],
        (late.number, "arrival", "later"),
    ]
    assert items[0] == {
        "number": late.number,
        "customer": "Shanghai Precision Machinery Co.",
        "shipping_mode": "domestic",
        "code": "picking",
        "planned_date": (today - timedelta(days=2)).isoformat(),
        "due": "late",
        "confirmed_with": "milestone",
        "todo_id": None,
    }
    how = {(i["number"], i["code"]): (i["confirmed_with"], i["todo_id"]) for i in items}
    assert how[(late.number, "dispatch")] == ("warehouse", None)
    assert how[(late.number, "arrival")] == ("dispatch_first", None)
    assert how[(export.number, "arrival")] == ("todo", arrival_todo)
    assert how[(export.number, "customs_declaration")] == ("milestone", None)

    only_late = (await ops.get("/api/v1/milestones/due?due=late")).json()
    assert [(i["number"], i["code"]) for i in only_late] == [(late.number, "picking")]
    manager = await api("ops_manager")
    assert (await manager.get("/api/v1/milestones/due?due=today")).json() == [
        i for i in items if i["due"] == "today"
    ]
    unknown = await ops.get("/api/v1/milestones/due?due=soonish")
    assert unknown.status_code == 422
    assert "due" in unknown.json()["detail"]


async def test_the_page_groups_the_milestones_with_a_confirm_form_where_ops_confirm(
    api, browser_session, session_factory, settings
):
    today = company_today(settings.time_zone)
    late, export, arrival_todo = await three_orders(api, session_factory, today)
    ops = await browser_session("ops")
    home = await ops.get("/")
    assert 'href="/milestones/due"' in home.text and 'href="/plan-shipments"' in home.text
    page = await ops.get("/milestones/due")
    assert page.status_code == 200, page.text
    text = text_of(page)
    assert re.search(r"<h1>Milestones due <span class=\"badge\">7</span></h1>", text)
    windows = [w for w, _, _ in rows_of(text)]
    assert windows == sorted(windows, key=["late", "today", "this_week", "later"].index)
    assert '<h2 class="due-heading due-late" id="due-late">Overdue' in text
    picking = row_of(text, late.number, "picking")
    assert f'action="/milestones/due/{late.number}/picking/confirm"' in picking
    assert "Shanghai Precision Machinery Co." in picking and "Picking" in picking
    assert 'name="actual_date"' in picking
    dispatch = row_of(text, late.number, "dispatch")
    assert "<form" not in dispatch
    assert "The warehouse confirms it as the goods leave." in dispatch
    arrival = row_of(text, export.number, "arrival")
    assert f'action="/milestones/due/arrival/{arrival_todo}"' in arrival
    assert "<form" not in row_of(text, late.number, "arrival")

    only_late = text_of(await ops.get("/milestones/due?due=late"))
    assert rows_of(only_late) == [("late", late.number, "picking")]
    assert '<a href="/milestones/due?due=late" class="here">Overdue (1)</a>' in only_late


@needs_catalog
async def test_the_milestones_due_page_speaks_chinese(
    api, browser_session, session_factory, settings
):
    late, _, _ = await three_orders(api, session_factory, company_today(settings.time_zone))
    ops = await chinese_session(browser_session, "ops")
    text = text_of(await ops.get("/milestones/due"))
    assert "<h1>待确认节点" in text
    assert "逾期" in text and "今日到期" in text and "备货" in text and ">确认</button>" in text
    assert "Overdue" not in text and "Picking" not in text and "Confirm<" not in text
    refused = await ops.post(
        f"/milestones/due/{late.number}/picking/confirm",
        data={"csrf_token": csrf_of(text), "actual_date": ""},
    )
    assert refused.status_code == 422
    assert "请填写节点的实际完成日期。" in row_of(text_of(refused), late.number, "picking")


@pytest.mark.parametrize("role", REFUSED_ROLES)
async def test_other_roles_are_refused_the_milestones_due_on_the_page_and_in_the_api(
    api, browser_session, session_factory, settings, role
):
    late, _, _ = await three_orders(api, session_factory, company_today(settings.time_zone))
    before = await snapshot(session_factory, late)
    client = await api(role)
    response = await client.get("/api/v1/milestones/due")
    assert (response.status_code, response.json()) == (403, {"detail": NOT_FOR_YOU})
    person = await browser_session(role)
    home = await person.get("/")
    assert 'href="/milestones/due"' not in home.text
    page = await person.get("/milestones/due")
    assert page.status_code == 403 and NOT_FOR_YOU in text_of(page)
    csrf = csrf_of(home.text)
    posted = await person.post(
        f"/milestones/due/{late.number}/picking/confirm",
        data={"csrf_token": csrf, "actual_date": company_today(settings.time_zone).isoformat()},
    )
    assert posted.status_code in (403, 404)  # 404: an order the role does not see
    assert await snapshot(session_factory, late) == before


async def test_a_refused_confirmation_is_said_next_to_its_row_and_changes_nothing(
    api, browser_session, session_factory, settings
):
    today = company_today(settings.time_zone)
    late, export, _ = await three_orders(api, session_factory, today)
    before = await snapshot(session_factory, export)
    ops = await browser_session("ops")
    csrf = csrf_of((await ops.get("/milestones/due")).text)
    # an export milestone before the one it follows is done: refused, said at its row
    out_of_turn = await ops.post(
        f"/milestones/due/{export.number}/commodity_inspection/confirm",
        data={"csrf_token": csrf, "actual_date": today.isoformat(), "due": "this_week"},
    )
    assert out_of_turn.status_code == 409
    row = text_of(out_of_turn).split(f'data-order="{export.number}" data-milestone="commodity')[1]
    row = row.split("</tr>")[0]
    assert "Confirm port_departure first" in row and 'role="alert"' in row
    assert f'value="{today.isoformat()}"' in row
    blank = await ops.post(
        f"/milestones/due/{late.number}/picking/confirm",
        data={"csrf_token": csrf, "actual_date": ""},
    )
    assert blank.status_code == 422
    assert "Give the date the milestone was done." in row_of(text_of(blank), late.number, "picking")
    dispatch = await ops.post(
        f"/milestones/due/{late.number}/dispatch/confirm",
        data={"csrf_token": csrf, "actual_date": today.isoformat()},
    )
    assert dispatch.status_code == 422  # the warehouse confirms the dispatch
    assert 'role="alert"' in row_of(text_of(dispatch), late.number, "dispatch")
    assert await snapshot(session_factory, export) == before


async def test_ops_confirm_picking_and_arrival_in_place_and_the_list_shows_them_gone(
    api, browser_session, env, worker, session_factory
):
    number = await confirmed_order(api)
    api_ops, warehouse = await api("ops"), await api("warehouse")
    today = await workflow_today(env)
    plan = await todo_of(api_ops, number, "plan_shipment")
    await complete(
        api_ops, plan, {"outcome": "planned", "milestones": planned(start=today + timedelta(1))}
    )
    ops = await browser_session("ops")
    page = text_of(await ops.get("/milestones/due"))
    assert [(n, c) for _, n, c in rows_of(page)] == [
        (number, "picking"),
        (number, "dispatch"),
        (number, "arrival"),
    ]
    csrf = csrf_of(page)
    form = {"csrf_token": csrf, "actual_date": today.isoformat()}
    for _ in range(2):  # a double click is one confirmation
        done = await ops.post(f"/milestones/due/{number}/picking/confirm", data=form)
        assert (done.status_code, done.headers["location"]) == (303, "/milestones/due")
        after = await ops.get("/milestones/due")
        assert f"Order {number}: Picking is confirmed." in text_of(after)
        assert [c for _, n, c in rows_of(after.text) if n == number] == ["dispatch", "arrival"]

    dispatch = await todo_of(warehouse, number, "confirm_dispatch")
    await complete(
        warehouse,
        dispatch,
        {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": "SF9"},
    )
    arrival = await todo_of(api_ops, number, "confirm_arrival")
    page = text_of(await ops.get("/milestones/due"))
    assert f'action="/milestones/due/arrival/{arrival["id"]}"' in row_of(page, number, "arrival")
    for _ in range(2):
        done = await ops.post(f"/milestones/due/arrival/{arrival['id']}", data=form)
        assert done.status_code == 303, done.text
    after = await ops.get("/milestones/due")
    assert f"Order {number}: Arrival is confirmed." in text_of(after)
    assert rows_of(after.text) == []
    assert "No milestone is waiting to be confirmed." in text_of(after)
    order = (await api_ops.get(f"/api/v1/orders/{number}")).json()
    assert [m["actual_date"] for m in order["milestones"]] == [today.isoformat()] * 3
    async with session_factory() as session:
        events = await session.scalar(
            select(func.count())
            .select_from(TimelineEvent)
            .join(Order, Order.id == TimelineEvent.order_id)
            .where(Order.number == number, TimelineEvent.kind == "milestone_done")
        )
        assert events == 1  # picking, once
