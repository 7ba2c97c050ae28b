"""The warehouse's day through the real app: the awaiting-shipment queue says where the goods go
and whom the carrier calls, a packing list prints per dispatch (no prices), and a dispatch can
leave in part (some lines or quantities now, the rest in a later dispatch), on the day it
happened, from the to-do page, the queue and the API; every refusal changes nothing."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.tables import Contact, Order, OrderLine, Product, StockReservation, Todo
from tests.web.conftest import csrf_of
from tests.web.test_fulfilment_api import (
    complete,
    confirmed_order,
    domestic_plan,
    fulfilment_order,
    open_todo,
    planned,
    workflow_today,
)
from tests.web.test_i18n import (
    choose_language,
    needs_catalog,
    zh_catalog_compiled,  # noqa: F401 (the fixture needs_catalog uses)
)
from tests.web.test_orders_api import todo_of

ADDRESS = "East China, Shanghai Precision Machinery Co."


def text_of(page) -> str:
    return html.unescape(page.text)


async def with_phone(session_factory, phone: str = "+86 21 5555 0101") -> str:
    """The first customer's contact gets a phone number; their name."""
    async with session_factory() as session:
        contact = await session.scalar(select(Contact).where(Contact.customer_id == 1))
        contact.phone = phone
        await session.commit()
        return contact.name


async def waiting_order(api, session_factory, owner: str = "sales"):
    """An order waiting for the warehouse: its stock reserved and its dispatch to-do open."""
    ready = await fulfilment_order(
        api,
        session_factory,
        owner=owner,
        status="awaiting_dispatch",
        milestones=domestic_plan(),
        reserve=True,
    )
    todo_id = await open_todo(session_factory, ready, "confirm_dispatch", "warehouse")
    return ready, todo_id


# --- the queue and the packing list ------------------------------------------------------------


async def test_the_queue_shows_the_ship_to_address_and_the_customers_contact(
    api, browser_session, session_factory
):
    contact = await with_phone(session_factory)
    ready, todo_id = await waiting_order(api, session_factory)
    page = await (await browser_session("warehouse")).get("/shipments")
    assert page.status_code == 200, page.text
    card = text_of(page).split(f'data-order="{ready.number}"')[1].split('<div class="card')[0]
    assert ADDRESS in card
    assert contact in card and 'href="tel:+86 21 5555 0101"' in card
    assert f'href="/shipments/{ready.number}/packing-list"' in card
    # the dispatch form takes per line what leaves now (all that remains by default) and a date
    assert 'name="dispatch-' in card and 'value="2"' in card and 'value="10"' in card
    assert 'name="dispatched_on"' in card

    queue = (await (await api("warehouse")).get("/api/v1/shipments")).json()
    [item] = [i for i in queue if i["number"] == ready.number]
    assert item["ship_to"] == ADDRESS
    assert item["contacts"] == [{"name": contact, "phone": "+86 21 5555 0101"}]
    assert item["dispatch_round"] == 1 and item["dispatch_todo_id"] == todo_id
    assert sorted(Decimal(ln["to_dispatch"]) for ln in item["lines"]) == [2, 10]


async def test_the_packing_list_has_the_lines_to_pack_and_no_prices(
    api, browser_session, session_factory
):
    contact = await with_phone(session_factory)
    ready, _ = await waiting_order(api, session_factory)
    page = await (await browser_session("warehouse")).get(f"/shipments/{ready.number}/packing-list")
    assert page.status_code == 200, page.text
    text = text_of(page)
    for fact in (ready.number, "Shanghai Precision Machinery Co.", ADDRESS, contact, "+86 21"):
        assert fact in text
    rows = re.findall(r"<tr data-line=\"\d+\">(.*?)</tr>", text, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    assert [c[0] for c in cells] == ["PUMP-10", "VALVE-3"]
    assert [c[2] for c in cells] == ["2", "10"] and cells[0][3] == "pcs"
    assert "¥" not in text and "8,500" not in text and "CNY" not in text  # no prices


@needs_catalog
async def test_the_packing_list_and_the_queue_speak_chinese(api, browser_session, session_factory):
    await with_phone(session_factory)
    ready, _ = await waiting_order(api, session_factory)
    warehouse = await browser_session("warehouse")
    await choose_language(warehouse, "zh_CN")
    page = text_of(await warehouse.get(f"/shipments/{ready.number}/packing-list"))
    assert "装箱单" in page and "收货地址" in page and "产品编码" in page
    queue = text_of(await warehouse.get("/shipments"))
    assert "收货地址" in queue and "本次发货" in queue and "发货日期" in queue


async def test_only_those_who_ship_and_the_owner_get_a_packing_list(
    api, browser_session, session_factory
):
    ready, _ = await waiting_order(api, session_factory, owner="sales")
    path = f"/shipments/{ready.number}/packing-list"
    for role in ("finance", "pricing", "service"):  # they see the order, they do not ship it
        page = await (await browser_session(role)).get(path)
        assert page.status_code == 403, role
        assert "The packing list is for the warehouse, operations and the order" in text_of(page)
    assert (await (await browser_session("sales")).get(path)).status_code == 200  # the owner
    # another rep does not see the order at all: its number does not leak
    assert (await (await browser_session("sales2")).get(path)).status_code == 404
    for role in ("ops", "director"):
        assert (await (await browser_session(role)).get(path)).status_code == 200
    nothing = await fulfilment_order(api, session_factory, status="planning")
    page = await (await browser_session("warehouse")).get(
        f"/shipments/{nothing.number}/packing-list"
    )
    assert page.status_code == 404
    assert "There is no dispatch to pack for this order yet." in text_of(page)


# --- a partial dispatch through the real workflow ------------------------------------------------


async def planned_order(api, env) -> tuple[str, dict[str, int]]:
    """An order of 2 pumps and 10 valves confirmed and planned: its line ids by product code."""
    number = await confirmed_order(api)
    ops = await api("ops")
    plan = await todo_of(ops, number, "plan_shipment")
    today = await workflow_today(env)
    await complete(ops, plan, {"outcome": "planned", "milestones": planned(start=today)})
    order = (await ops.get(f"/api/v1/orders/{number}")).json()
    return number, {ln["product_code"]: ln["id"] for ln in order["lines"]}


async def state(session_factory, number: str) -> dict:
    """What a refused dispatch must leave as it was: stock, reservations, open to-dos."""
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        stock = list(
            await session.execute(
                select(Product.code, Product.stock_on_hand, Product.reserved).order_by(Product.id)
            )
        )
        held = list(
            await session.execute(
                select(StockReservation.round, StockReservation.quantity, StockReservation.taken_at)
                .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
                .where(OrderLine.order_id == order.id)
                .order_by(StockReservation.id)
            )
        )
        todos = list(
            await session.execute(
                select(Todo.key, Todo.status).where(Todo.order_id == order.id).order_by(Todo.id)
            )
        )
        return {"stock": stock, "held": held, "todos": todos, "status": order.shipment_status}


async def stock_of(session_factory, code: str) -> Decimal:
    async with session_factory() as session:
        return await session.scalar(select(Product.stock_on_hand).where(Product.code == code))


async def test_the_warehouse_dispatches_part_on_the_page_and_the_rest_through_the_api(
    api, browser_session, session_factory, worker, env
):
    number, line = await planned_order(api, env)
    warehouse = await browser_session("warehouse")
    first = await todo_of(await api("warehouse"), number, "confirm_dispatch")
    page = await warehouse.get(f"/todos/{first['id']}")
    assert f'name="dispatch-{line["PUMP-10"]}"' in page.text
    assert f'href="/shipments/{number}/packing-list?round=1"' in page.text
    pumps, valves = (
        await stock_of(session_factory, "PUMP-10"),
        await stock_of(session_factory, "VALVE-3"),
    )
    day = await workflow_today(env)
    sent = await warehouse.post(
        f"/todos/{first['id']}/complete",
        data={
            "csrf_token": csrf_of(page.text),
            "outcome": "dispatched",
            f"dispatch-{line['PUMP-10']}": "1",
            f"dispatch-{line['VALVE-3']}": "4",
            "dispatched_on": day.isoformat(),
            "carrier": "SF Express",
            "tracking_number": "SF-PART-1",
        },
    )
    assert sent.status_code == 303, text_of(sent)
    assert await stock_of(session_factory, "PUMP-10") == pumps - 1
    assert await stock_of(session_factory, "VALVE-3") == valves - 4

    api_warehouse = await api("warehouse")
    rest = await todo_of(api_warehouse, number, "confirm_dispatch")
    assert rest["id"] != first["id"]
    packing = text_of(
        await warehouse.get(f"/shipments/{number}/packing-list?round=1")
    )  # what left in the first dispatch
    assert re.search(r"PUMP-10</td><td>[^<]*</td><td class=\"num\">1<", packing)
    order = (await api_warehouse.get(f"/api/v1/orders/{number}")).json()
    assert [d["tracking_number"] for d in order["dispatches"]] == ["SF-PART-1"]
    assert {m["code"]: m["actual_date"] for m in order["milestones"]}["dispatch"] is None

    await complete(
        api_warehouse,
        rest,
        {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": "SF-PART-2"},
    )
    assert await stock_of(session_factory, "PUMP-10") == pumps - 2
    assert await stock_of(session_factory, "VALVE-3") == valves - 10
    ops = await api("ops")
    await todo_of(ops, number, "confirm_arrival")  # the arrival is asked once everything left
    order = (await ops.get(f"/api/v1/orders/{number}")).json()
    assert {m["code"]: m["actual_date"] for m in order["milestones"]}["dispatch"] == str(day)
    timeline = text_of(await (await browser_session("sales")).get(f"/orders/{number}"))
    assert "Dispatched in part" in timeline and "PUMP-10 × 1; VALVE-3 × 4" in timeline


async def test_a_partial_dispatch_through_the_api_leaves_the_rest_for_a_new_to_do(
    api, session_factory, worker, env
):
    number, line = await planned_order(api, env)
    warehouse = await api("warehouse")
    first = await todo_of(warehouse, number, "confirm_dispatch")
    await complete(
        warehouse,
        first,
        {
            "outcome": "dispatched",
            "carrier": "SF Express",
            "tracking_number": "SF1",
            "dispatched_on": str(await workflow_today(env)),
            "dispatch_lines": [{"line_id": line["VALVE-3"], "quantity": "10"}],
        },
    )
    rest = await todo_of(warehouse, number, "confirm_dispatch")
    queue = (await warehouse.get("/api/v1/shipments")).json()
    [item] = [i for i in queue if i["number"] == number]
    assert item["dispatch_todo_id"] == rest["id"] and item["dispatch_round"] == 2
    assert {ln["product_code"]: Decimal(ln["to_dispatch"]) for ln in item["lines"]} == {
        "PUMP-10": 2,
        "VALVE-3": 0,
    }


@pytest.mark.parametrize(
    ("lines", "detail"),
    [
        ({"PUMP-10": "3"}, "Line {PUMP-10}: only 2 is left to dispatch."),
        ({"PUMP-10": "0", "VALVE-3": "0"}, "Give a quantity to dispatch for at least one line."),
        ({"PUMP-10": "-1"}, "Line {PUMP-10}: the quantity to dispatch cannot be negative."),
        ({"999999": "1"}, "Line 999999 is not a line of this order."),
    ],
)
async def test_a_bad_dispatch_through_the_api_is_refused_and_changes_nothing(
    api, session_factory, worker, env, lines, detail
):
    number, line = await planned_order(api, env)
    warehouse = await api("warehouse")
    todo = await todo_of(warehouse, number, "confirm_dispatch")
    before = await state(session_factory, number)
    body = {
        "outcome": "dispatched",
        "carrier": "SF Express",
        "tracking_number": "SF1",
        "dispatch_lines": [{"line_id": line.get(k, k), "quantity": q} for k, q in lines.items()],
    }
    refused = await complete(warehouse, todo, body, 422)
    assert refused["detail"] == detail.format_map({k: v for k, v in line.items()})
    assert await state(session_factory, number) == before


async def test_a_dispatch_date_in_the_future_or_before_confirmation_is_refused(
    api, session_factory, worker, env
):
    number, _ = await planned_order(api, env)
    warehouse = await api("warehouse")
    todo = await todo_of(warehouse, number, "confirm_dispatch")
    before = await state(session_factory, number)
    day = await workflow_today(env)
    body = {"outcome": "dispatched", "carrier": "SF", "tracking_number": "SF1"}
    future = await complete(
        warehouse, todo, {**body, "dispatched_on": str(day + timedelta(2))}, 422
    )
    assert future["detail"] == "The dispatch date cannot be in the future."
    async with session_factory() as session:
        confirmed = (
            await session.scalar(select(Order.confirmed_at).where(Order.number == number))
        ).date()
    early = await complete(
        warehouse, todo, {**body, "dispatched_on": str(confirmed - timedelta(1))}, 422
    )
    assert early["detail"] == (
        f"The dispatch date cannot be before the order was confirmed ({confirmed.isoformat()})."
    )
    assert await state(session_factory, number) == before


@needs_catalog
async def test_a_refused_quantity_on_the_page_is_said_in_chinese_and_marks_its_line(
    api, browser_session, session_factory, worker, env
):
    number, line = await planned_order(api, env)
    todo = await todo_of(await api("warehouse"), number, "confirm_dispatch")
    warehouse = await browser_session("warehouse")
    await choose_language(warehouse, "zh_CN")
    before = await state(session_factory, number)
    page = await warehouse.get(f"/todos/{todo['id']}")
    assert "待发数量" in text_of(page) and "本次发货" in text_of(page)
    refused = await warehouse.post(
        f"/todos/{todo['id']}/complete",
        data={
            "csrf_token": csrf_of(page.text),
            "outcome": "dispatched",
            f"dispatch-{line['PUMP-10']}": "5",
            f"dispatch-{line['VALVE-3']}": "1",
            "dispatched_on": str(await workflow_today(env)),
            "carrier": "顺丰",
            "tracking_number": "SF9",
        },
    )
    assert refused.status_code == 422
    text = text_of(refused)
    assert f"第 {line['PUMP-10']} 行：只剩 2 待发货。" in text
    row = text.split(f'<tr data-line="{line["PUMP-10"]}"')[1].split("</tr>")[0]
    assert 'class="refused"' in row and 'aria-invalid="true"' in row and 'value="5"' in row
    assert 'value="顺丰"' in text  # what was typed stays
    assert await state(session_factory, number) == before


async def test_the_queue_form_dispatches_in_part_too(
    api, browser_session, session_factory, worker, env
):
    number, line = await planned_order(api, env)
    todo = await todo_of(await api("warehouse"), number, "confirm_dispatch")
    warehouse = await browser_session("warehouse")
    queue = await warehouse.get("/shipments")
    sent = await warehouse.post(
        f"/shipments/{todo['id']}/dispatch",
        data={
            "csrf_token": csrf_of(queue.text),
            f"dispatch-{line['PUMP-10']}": "2",
            f"dispatch-{line['VALVE-3']}": "",
            "dispatched_on": str(await workflow_today(env)),
            "carrier": "SF Express",
            "tracking_number": "SF-Q1",
        },
    )
    assert sent.status_code == 303, text_of(sent)
    rest = await todo_of(await api("warehouse"), number, "confirm_dispatch")
    assert rest["id"] != todo["id"]
