"""Returns in the JSON API: the order's `returned`, `net_total` and `returns` (each with its
lines), and POST /api/v1/orders/{number}/returns: who may ask (the owner, a manager above
them, ops, service; a rep on another rep's order 404, the warehouse, pricing and finance
403), when (after dispatch, before the cost review), and how much (at most what was
dispatched less what came back or is asked for); every refusal changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models.tables import Order, OrderReturn, OrderReturnLine, Refund, StockReservation, User
from tests.web.test_fulfilment_api import fulfilment_order

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
