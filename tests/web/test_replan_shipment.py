"""Ops re-plan the shipment after an approved change (replan_shipment, issue 16 item 3): the
order's delivery date moved before dispatch, ops get the to-do and complete it through
`POST /api/v1/todos/{id}/complete` or the to-do page's form; the milestones take the new dates.
Every refusal (dates out of order, a date in the past, a milestone left out, someone other than
ops, the to-do completed twice) says why, in English and Chinese, and changes nothing."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

from sqlalchemy import select

from models.tables import Order, Todo
from tests.web.conftest import csrf_of
from tests.web.test_collection_api import complete
from tests.web.test_fulfilment_api import confirmed_order, planned, refused, workflow_today
from tests.web.test_i18n import chinese_session, needs_catalog, text_of, zh_catalog_compiled
from tests.web.test_orders_api import todo_of

__all__ = ["zh_catalog_compiled"]  # the fixture, used by name

NOT_OPEN = "This to-do is no longer open."
NOT_YOURS = "This to-do is not assigned to you."


async def replan_todo(api, env) -> tuple[str, dict, date]:
    """A confirmed order planned by ops (picking, dispatch, arrival from tomorrow), whose
    delivery date a change moved 30 days later before dispatch: ops' replan_shipment to-do."""
    number = await confirmed_order(api)
    today = await workflow_today(env)
    ops, sales, manager = await api("ops"), await api("sales"), await api("sales_manager")
    plan = await todo_of(ops, number, "plan_shipment")
    await complete(
        ops, plan, {"outcome": "planned", "milestones": planned(start=today + timedelta(days=1))}
    )
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    later = date.fromisoformat(order["requested_delivery_date"]) + timedelta(days=30)
    asked = await sales.post(
        f"/api/v1/orders/{number}/change-requests",
        json={"reason": "The site is not ready", "requested_delivery_date": later.isoformat()},
    )
    assert asked.status_code == 202, asked.text
    await complete(
        manager, await todo_of(manager, number, "approve_change"), {"outcome": "approve"}
    )
    return number, await todo_of(ops, number, "replan_shipment"), today


async def milestones_of(client, number: str) -> list[tuple[str, str]]:
    order = (await client.get(f"/api/v1/orders/{number}")).json()
    return [(m["code"], m["planned_date"]) for m in order["milestones"]]


async def todo_status(session_factory, todo_id: int) -> tuple[str, str | None]:
    async with session_factory() as session:
        todo = await session.get_one(Todo, todo_id)
        return todo.status, todo.outcome


async def settled_milestones(client, number: str, expected: list[tuple[str, str]]) -> None:
    for _ in range(100):  # the workflow's step writes them as it answers; read until they show
        if await milestones_of(client, number) == expected:
            return
        await asyncio.sleep(0.05)
    assert await milestones_of(client, number) == expected


async def test_ops_replan_the_changed_order_through_the_api_and_the_milestones_move(
    api, worker, env, session_factory
):
    number, todo, today = await replan_todo(api, env)
    ops, sales = await api("ops"), await api("sales")
    assert todo["kind"] == "replan_shipment" and todo["order_number"] == number
    later = planned(start=today + timedelta(days=20))

    done = await complete(ops, todo, {"outcome": "planned", "milestones": later})

    assert done["stage"] == "fulfilment"
    expected = [(m["code"], m["planned_date"]) for m in later]
    await settled_milestones(sales, number, expected)
    assert await todo_status(session_factory, todo["id"]) == ("done", "planned")
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert "shipment_replanned" in [e["kind"] for e in order["timeline"]]
    # the same plan sent again (its answer lost) gets the same answer; another one is refused
    assert await complete(ops, todo, {"outcome": "planned", "milestones": later}) == done
    again = planned(start=today + timedelta(days=40))
    await refused(
        ops, f"/api/v1/todos/{todo['id']}/complete", {"outcome": "planned", "milestones": again},
        409, NOT_OPEN,
    )  # fmt: skip
    assert await milestones_of(sales, number) == expected


async def test_refused_replans_say_why_and_change_nothing(api, worker, env, session_factory):
    number, todo, today = await replan_todo(api, env)
    ops, sales = await api("ops"), await api("sales")
    before = await milestones_of(sales, number)
    path = f"/api/v1/todos/{todo['id']}/complete"
    start = today + timedelta(days=10)
    swapped = planned(start=start)
    swapped[1]["planned_date"], swapped[2]["planned_date"] = (
        swapped[2]["planned_date"],
        swapped[1]["planned_date"],
    )
    cases = [
        (
            swapped,
            f"The dates are out of order: arrival ({swapped[2]['planned_date']}) comes before "
            f"dispatch ({swapped[1]['planned_date']}).",
        ),
        (
            planned(start=today - timedelta(days=3)),
            f"The picking date {(today - timedelta(days=3)).isoformat()} is in the past.",
        ),
        (
            planned(start=start)[:2],
            "Give a planned date for milestone arrival.",
        ),
    ]
    for milestones, detail in cases:
        response = await ops.post(path, json={"outcome": "planned", "milestones": milestones})
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == detail
    for intruder in ("warehouse", "sales", "sales_manager", "finance"):
        response = await (await api(intruder)).post(
            path, json={"outcome": "planned", "milestones": planned(start=start)}
        )
        assert response.status_code == 403, (intruder, response.text)
        assert response.json()["detail"] == NOT_YOURS, intruder
    assert await milestones_of(sales, number) == before
    assert await todo_status(session_factory, todo["id"]) == ("open", None)
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        assert order.shipment_status != "in_transit"


async def test_ops_replan_on_the_todo_page_refusals_said_on_the_form(
    api, browser_session, worker, env, session_factory
):
    number, todo, today = await replan_todo(api, env)
    sales = await api("sales")
    before = await milestones_of(sales, number)
    ops = await browser_session("ops")
    page = text_of(await ops.get(f"/todos/{todo['id']}"))
    assert "The order changed before dispatch (revision 2): plan its milestones again." in page
    shown = dict(re.findall(r'name="planned-(\w+)" value="([^"]*)"', page))
    assert shown == dict(before)  # the form starts from the dates as they are

    def form(start: date) -> dict[str, str]:
        return {f"planned-{m['code']}": m["planned_date"] for m in planned(start=start)}

    wrong = form(today + timedelta(days=10)) | {
        "planned-picking": (today + timedelta(days=30)).isoformat()
    }
    refused_page = await ops.post(
        f"/todos/{todo['id']}/complete",
        data={"csrf_token": csrf_of(page), "outcome": "planned", **wrong},
    )
    assert refused_page.status_code == 422
    said = text_of(refused_page)
    assert "The dates are out of order: dispatch" in said
    assert f'value="{wrong["planned-picking"]}"' in said  # what was typed stays
    warehouse = await browser_session("warehouse")
    forbidden = await warehouse.post(
        f"/todos/{todo['id']}/complete",
        data={"csrf_token": csrf_of((await warehouse.get("/profile")).text), "outcome": "planned",
              **form(today + timedelta(days=10))},
    )  # fmt: skip
    assert forbidden.status_code == 403 and NOT_YOURS in text_of(forbidden)
    assert await milestones_of(sales, number) == before

    good = form(today + timedelta(days=12))
    done = await ops.post(
        f"/todos/{todo['id']}/complete",
        data={"csrf_token": csrf_of(page), "outcome": "planned", **good},
    )
    assert done.status_code == 303, text_of(done)
    await settled_milestones(
        sales, number, [(k.removeprefix("planned-"), v) for k, v in good.items()]
    )
    twice = await ops.post(
        f"/todos/{todo['id']}/complete",
        data={
            "csrf_token": csrf_of(page),
            "outcome": "planned",
            **form(today + timedelta(days=14)),
        },
    )
    assert twice.status_code == 409 and NOT_OPEN in text_of(twice)
    assert await todo_status(session_factory, todo["id"]) == ("done", "planned")


@needs_catalog
async def test_a_replan_out_of_order_is_refused_in_chinese(api, browser_session, worker, env):
    number, todo, today = await replan_todo(api, env)
    ops = await chinese_session(browser_session, "ops")
    page = text_of(await ops.get(f"/todos/{todo['id']}"))
    assert "订单在发货前已变更（第 2 版）：请重新计划各节点。" in page
    past = today - timedelta(days=2)
    dates = {f"planned-{m['code']}": m["planned_date"] for m in planned(start=past)}
    response = await ops.post(
        f"/todos/{todo['id']}/complete",
        data={"csrf_token": csrf_of(page), "outcome": "planned", **dates},
    )
    assert response.status_code == 422
    assert f"节点 picking 的日期 {past.isoformat()} 已经过去。" in text_of(response)
