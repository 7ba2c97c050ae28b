"""Returns in the JSON API: the order's `returned`, `net_total` and `returns` (each with its
lines), and POST /api/v1/orders/{number}/returns: who may ask (the owner, a manager above
them, ops, service; a rep on another rep's order 404, the warehouse, pricing and finance
403), when (after dispatch, before the cost review), and how much (at most what was
dispatched less what came back or is asked for); every refusal changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models.tables import Order, OrderReturn, OrderReturnLine, Refund, StockReservation, User
from tests.web.test_collection_api import collecting_order, complete
from tests.web.test_fulfilment_api import fulfilment_order
from tests.web.test_orders_api import todo_of

ASKED_BY = "sales"


@dataclass
class Dispatched:
    """An order whose goods left the warehouse (built in the database), and its line ids."""

    number: str
    order_id: int
    pump: int  # 2 × 8,500.00
    valve: int  # 10 × 1,200.00 less 5 % = 11,400.00


async def dispatched_order(
    api, session_factory, *, owner: str = "sales", stage: str = "collection"
) -> Dispatched:
    """A two-line order (PUMP-10 × 2, VALVE-3 × 10; 28,400.00) all of which was dispatched,
    at `stage`; without a workflow (refusals the database sees need none)."""
    shipment = await fulfilment_order(
        api, session_factory, owner=owner, status="arrived", reserve=True
    )
    async with session_factory() as session:
        order = await session.get_one(Order, shipment.order_id)
        await session.refresh(order, ["lines"])
        order.stage = stage
        order.collection_status = "due"
        reservations = await session.scalars(
            select(StockReservation).where(
                StockReservation.order_line_id.in_([line.id for line in order.lines])
            )
        )
        for reservation in reservations:
            reservation.taken_at = datetime.now(UTC)
        pump, valve = sorted(order.lines, key=lambda line: line.position)
        await session.commit()
        return Dispatched(shipment.number, order.id, pump.id, valve.id)


async def write_return(session_factory, order: Dispatched, *, status: str = "closed") -> None:
    """Return 1 of the order as the warehouse left it: 1 pump back and restocked (8,500.00);
    4 valves asked for, 3 back, 2 restocked and 1 scrapped (3 × 1,140.00 = 3,420.00), the
    fourth closed; a refund of 1,000.00 waiting for finance."""
    now = datetime.now(UTC)
    async with session_factory() as session:
        asker = await session.scalar(select(User).where(User.username == ASKED_BY))
        approver = await session.scalar(select(User).where(User.username == "sales_manager"))
        row = OrderReturn(
            order_id=order.order_id, number=1, status=status, reason="Two arrived damaged",
            requested_by_id=asker.id, requested_at=now, decided_by_id=approver.id,
            decided_at=now, receipts=1, value=Decimal("11920.00"), received_at=now,
            closed_reason="The fourth valve was lost in transit" if status == "closed" else None,
        )  # fmt: skip
        row.lines = [
            OrderReturnLine(
                order_line_id=order.pump, quantity=Decimal("1"), received=Decimal("1"),
                restocked=Decimal("1"), scrapped=Decimal("0"),
                unit_net_price=Decimal("8500.00"), amount=Decimal("8500.00"),
            ),
            OrderReturnLine(
                order_line_id=order.valve, quantity=Decimal("4"), received=Decimal("3"),
                restocked=Decimal("2"), scrapped=Decimal("1"),
                unit_net_price=Decimal("1140.00"), amount=Decimal("3420.00"),
            ),
        ]  # fmt: skip
        session.add(row)
        session.add(
            Refund(
                order_id=order.order_id, number=1,
                todo_key=f"order-{order.number}/return/1/refund/1",
                due=Decimal("1000.00"), status="pending", created_at=now,
            )
        )  # fmt: skip
        placed = await session.get_one(Order, order.order_id)
        placed.returned = Decimal("11920.00")
        await session.commit()


async def return_rows(session_factory, order: Dispatched) -> int:
    async with session_factory() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OrderReturn)
            .where(OrderReturn.order_id == order.order_id)
        )
        return count or 0


# --- the order as the API returns it -----------------------------------------------------------


async def test_the_order_shows_what_came_back_its_net_total_and_each_return_with_its_lines(
    api, session_factory
):
    order = await dispatched_order(api, session_factory)
    await write_return(session_factory, order)

    body = (await (await api("sales")).get(f"/api/v1/orders/{order.number}")).json()

    assert body["total"] == "28400.00"
    assert (body["returned"], body["net_total"]) == ("11920.00", "16480.00")
    (shown,) = body["returns"]
    assert shown["number"] == 1 and shown["status"] == "closed"
    assert shown["reason"] == "Two arrived damaged"
    assert shown["requested_by"]["username"] == "sales"
    assert shown["decided_by"]["username"] == "sales_manager"
    assert shown["closed_reason"] == "The fourth valve was lost in transit"
    assert shown["value"] == "11920.00"
    assert [
        (ln["line_id"], ln["product_code"], ln["quantity"], ln["received"], ln["restocked"],
         ln["scrapped"], ln["unit_net_price"], ln["amount"])
        for ln in shown["lines"]
    ] == [
        (order.pump, "PUMP-10", "1.000", "1.000", "1.000", "0.000", "8500.00", "8500.00"),
        (order.valve, "VALVE-3", "4.000", "3.000", "2.000", "1.000", "1140.00", "3420.00"),
    ]  # fmt: skip
    assert [(r["amount"], r["status"]) for r in body["refunds"]] == [("1000.00", "pending")]


async def test_an_order_nothing_came_back_of_has_its_total_as_net_total(api, session_factory):
    order = await dispatched_order(api, session_factory)

    body = (await (await api("sales")).get(f"/api/v1/orders/{order.number}")).json()

    assert (body["returned"], body["net_total"], body["returns"]) == ("0.00", "28400.00", [])


@pytest.mark.parametrize("username", ["finance", "warehouse", "director", "sales_manager"])
async def test_every_role_that_sees_the_order_sees_its_returns(api, session_factory, username):
    order = await dispatched_order(api, session_factory)
    await write_return(session_factory, order)

    body = (await (await api(username)).get(f"/api/v1/orders/{order.number}")).json()

    assert body["net_total"] == "16480.00" and len(body["returns"]) == 1


async def test_a_rep_does_not_see_another_reps_order_or_its_returns(api, session_factory):
    order = await dispatched_order(api, session_factory)
    await write_return(session_factory, order)

    answer = await (await api("sales2")).get(f"/api/v1/orders/{order.number}")

    assert answer.status_code == 404


# --- asking for a return: refusals the database sees (no workflow is asked) -------------------


def asked(order: Dispatched, pumps: str = "1", valves: str | None = None, **body) -> dict:
    lines = [{"line_id": order.pump, "quantity": pumps}]
    if valves is not None:
        lines.append({"line_id": order.valve, "quantity": valves})
    return {"lines": lines, "reason": "Arrived damaged", **body}


async def ask(client, number: str, body: dict, status: int = 202) -> dict:
    response = await client.post(f"/api/v1/orders/{number}/returns", json=body)
    assert response.status_code == status, response.text
    return response.json()


@pytest.mark.parametrize("username", ["warehouse", "pricing", "finance", "follower"])
async def test_only_the_owner_a_manager_above_ops_or_service_ask_for_a_return(
    api, session_factory, username
):
    order = await dispatched_order(api, session_factory)

    refused = await ask(await api(username), order.number, asked(order), 403)

    assert refused["detail"] == (
        "Only the order's owner, a manager above them, ops or service can ask for a return."
    )
    assert await return_rows(session_factory, order) == 0


async def test_a_rep_cannot_ask_to_return_another_reps_order(api, session_factory):
    order = await dispatched_order(api, session_factory)

    refused = await ask(await api("sales2"), order.number, asked(order), 404)

    assert refused["detail"] == f"There is no order {order.number}."
    assert await return_rows(session_factory, order) == 0


@pytest.mark.parametrize(
    ("stage", "detail"),
    [
        ("closed", "Order {number} is closed or cancelled: it takes no return."),
        ("cancelled", "Order {number} is closed or cancelled: it takes no return."),
        ("cost_review", "Order {number} takes no return at this stage."),
        ("confirmed", "Order {number} has not been dispatched: there is nothing to return."),
    ],
)
async def test_a_closed_cancelled_or_undispatched_order_takes_no_return(
    api, session_factory, stage, detail
):
    order = await dispatched_order(api, session_factory, stage=stage)

    refused = await ask(await api("sales"), order.number, asked(order), 409)

    assert refused["detail"] == detail.format(number=order.number)
    assert await return_rows(session_factory, order) == 0


async def test_an_order_whose_goods_have_not_left_takes_no_return(api, session_factory):
    shipment = await fulfilment_order(
        api, session_factory, status="awaiting_dispatch", reserve=True
    )

    refused = await ask(
        await api("ops"),
        shipment.number,
        {"lines": [{"line_id": 1, "quantity": "1"}], "reason": "x"},
        409,
    )

    assert "has not been dispatched" in refused["detail"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"lines": [], "reason": "Damaged"}, "Say which lines come back and how many of each."),
        ({"reason": " "}, "Say why the goods come back."),
        ({"pumps": "0"}, "Line {pump}: the quantity must be more than zero."),
        ({"pumps": "-1"}, "Line {pump}: the quantity must be more than zero."),
        ({"twice": True}, "Line {pump} is listed twice."),
        (
            {"pumps": "3"},
            "Line {pump}: 3 is more than the 2 that can still come back "
            "(dispatched less returned or asked for).",
        ),
    ],
)
async def test_a_bad_return_request_is_refused_with_a_clear_message(
    api, session_factory, body, detail
):
    order = await dispatched_order(api, session_factory)
    if "lines" in body:
        sent = body
    elif "twice" in body:
        sent = asked(order)
        sent["lines"] *= 2
    elif "pumps" in body:
        sent = asked(order, body["pumps"])
    else:
        sent = asked(order, **body)

    refused = await ask(await api("sales"), order.number, sent, 422)

    assert refused["detail"] == detail.format(pump=order.pump)
    assert await return_rows(session_factory, order) == 0


async def test_what_came_back_or_is_asked_for_cannot_be_asked_for_again(api, session_factory):
    order = await dispatched_order(api, session_factory)
    await write_return(session_factory, order)  # 1 pump and 3 valves back, the 4th closed

    refused = await ask(await api("ops"), order.number, asked(order, "1", valves="8"), 422)

    assert refused["detail"] == (
        f"Line {order.valve}: 8 is more than the 7 that can still come back "
        "(dispatched less returned or asked for)."
    )
    assert await return_rows(session_factory, order) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"lines": [{"line_id": 0, "quantity": "1"}], "reason": "x"},
        {"lines": [{"line_id": 1, "quantity": "lots"}], "reason": "x"},
        {"lines": [{"line_id": 1, "quantity": "1.0001"}], "reason": "x"},
        {"lines": "all", "reason": "x"},
    ],
)
async def test_a_return_body_that_does_not_validate_is_422(api, session_factory, body):
    order = await dispatched_order(api, session_factory)

    await ask(await api("sales"), order.number, body, 422)

    assert await return_rows(session_factory, order) == 0


# --- through the workflow: asked, approved, received --------------------------------------------


async def dispatched_through_the_workflow(api) -> tuple[str, dict[str, int]]:
    """An order entered, approved, planned and dispatched through the API (its collection
    running): its number and its line ids by product code."""
    number = await collecting_order(api)
    ops, warehouse = await api("ops"), await api("warehouse")
    plan = [
        {"code": code, "planned_date": (date.today() + timedelta(days=n)).isoformat()}
        for n, code in enumerate(("picking", "dispatch", "arrival"), start=1)
    ]
    await complete(
        ops, await todo_of(ops, number, "plan_shipment"), {"outcome": "planned", "milestones": plan}
    )
    await complete(
        warehouse,
        await todo_of(warehouse, number, "confirm_dispatch"),
        {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": "SF-RET-1"},
    )
    lines = (await ops.get(f"/api/v1/orders/{number}")).json()["lines"]
    return number, {line["product_code"]: line["id"] for line in lines}


async def order_of(client, number: str) -> dict:
    return (await client.get(f"/api/v1/orders/{number}")).json()


@pytest.mark.own_test_server
async def test_a_return_is_asked_approved_and_received_part_restocked_part_scrapped_the_rest_closed(
    api, worker, session_factory
):
    number, lines = await dispatched_through_the_workflow(api)
    sales, manager, warehouse = (
        await api("sales"),
        await api("sales_manager"),
        await api("warehouse"),
    )
    body = {
        "lines": [
            {"line_id": lines["PUMP-10"], "quantity": "1"},
            {"line_id": lines["VALVE-3"], "quantity": "4"},
        ],
        "reason": "Arrived damaged",
    }

    answer = await ask(sales, number, body)
    assert (answer["return_number"], answer["status"]) == (1, "requested")
    # The same request sent again (its answer lost) is the same action: no second return.
    assert (await ask(sales, number, body))["return_number"] == 1
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(OrderReturn)) == 1
    approval = await todo_of(manager, number, "approve_return")
    # The warehouse and whoever asked do not approve it.
    for someone in (warehouse, sales):
        refused = await complete(someone, approval, {"outcome": "approve"}, 403)
        assert refused["detail"] == "This to-do is not assigned to you."
    await complete(manager, approval, {"outcome": "approve"})

    receipt = await todo_of(warehouse, number, "receive_return")
    pump, valve = lines["PUMP-10"], lines["VALVE-3"]
    too_many = [{"line_id": pump, "quantity": "2", "condition": "restock"}]
    refused = await complete(warehouse, receipt, {"outcome": "received", "received": too_many}, 422)
    assert refused["detail"] == f"Line {pump}: 2 received is more than the 1 still expected back."
    broken = [{"line_id": pump, "quantity": "1", "condition": "repair"}]
    refused = await complete(warehouse, receipt, {"outcome": "received", "received": broken}, 422)
    assert refused["detail"] == f"Line {pump}: the condition must be restock or scrap."
    assert (await order_of(sales, number))["returned"] == "0.00"  # nothing changed

    got = [
        {"line_id": pump, "quantity": "1", "condition": "restock"},
        {"line_id": valve, "quantity": "2", "condition": "restock"},
        {"line_id": valve, "quantity": "1", "condition": "scrap"},
    ]
    await complete(
        warehouse,
        receipt,
        {"outcome": "received", "received": got, "close_rest": True, "close_reason": "Lost"},
    )

    order = await order_of(sales, number)
    assert (order["returned"], order["net_total"]) == ("11920.00", "16480.00")
    # What is still owed is on the net total (it said 28,400.00 less what was paid before).
    owed = Decimal(order["net_total"]) - Decimal(order["paid"])
    assert Decimal(order["outstanding"]) == owed
    assert sum(Decimal(i["amount"]) - Decimal(i["paid"]) for i in order["installments"]) == owed
    (shown,) = order["returns"]
    assert (shown["status"], shown["closed_reason"], shown["value"]) == (
        "closed",
        "Lost",
        "11920.00",
    )
    assert shown["decided_by"]["username"] == "sales_manager"
    assert [(ln["received"], ln["restocked"], ln["scrapped"]) for ln in shown["lines"]] == [
        ("1.000", "1.000", "0.000"),
        ("3.000", "2.000", "1.000"),
    ]
    kinds = [e["kind"] for e in order["timeline"]]
    assert {"return_requested", "return_approved", "return_received", "return_closed"} <= set(kinds)
