"""A change request recorded over a real database: weighed on the changed order for its
approval, never below what was dispatched, invoiced or paid, nothing written when refused, and
nothing twice when the step runs again."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from sqlalchemy import select, update

from models.domain.changes import LineChange
from models.tables import Order, OrderChangeRequest, OrderLine, OrderRevision, Product
from tests.activities.change_fixtures import (
    PUMP,
    count,
    dispatch_all,
    events,
    more_pumps_and_a_valve,
    placed,
    reserved,
    saved,
)

__all__ = ["placed"]  # the fixture, used by name


# -- recorded and weighed ----------------------------------------------------------------------


async def test_a_change_request_is_recorded_open_and_weighed_on_the_changed_order(placed):
    step = placed.request(lines=more_pumps_and_a_valve(placed))
    first = await placed.changes.record_change_request(step)
    second = await placed.changes.record_change_request(step)

    assert first.problem is None and first == second
    assert first.needs_estimate  # a quantity changed and a product was added
    facts = first.facts
    assert facts.total == D("26700.00")  # 3 × 8,500 + 1,200
    assert [(ln.line_id, ln.quantity, ln.unit_cost) for ln in facts.lines] == [
        (placed.line_id, D("3"), None),
        (-1, D("1"), None),
    ]
    assert facts.exposure == D("26700.00")  # the customer's other orders owe nothing
    async with placed.session_factory() as session:
        [request] = list(await session.scalars(select(OrderChangeRequest)))
    assert (request.status, request.number, request.reason) == ("open", 1, "Customer needs more")
    assert request.requested_by_id == placed.owner.user_id
    assert await events(placed.session_factory, placed.order, "change_requested") == 1
    order = await saved(placed.session_factory, placed.order)
    assert (order.total, order.revision) == (D("17000.00"), 1)  # nothing applied yet


async def test_a_price_cut_keeps_the_estimate_and_weighs_the_deeper_discount(placed):
    cut = [LineChange(line_id=placed.line_id, quantity=D("2"), discount_percent=D("25"))]
    recorded = await placed.changes.record_change_request(placed.request(lines=cut))

    assert not recorded.needs_estimate  # the same goods: pricing is not asked again
    assert recorded.facts.max_discount_percent == D("25.00")
    assert recorded.facts.total == D("12750.00")
    assert recorded.facts.expected_margin == D("2750.00")  # 12,750 less the 10,000 expected
    assert recorded.facts.lines[0].unit_cost == D("5000.00")


async def test_an_existing_line_sent_without_its_discount_keeps_it(placed):
    async with placed.session_factory() as session:
        await session.execute(
            update(OrderLine)
            .where(OrderLine.id == placed.line_id)
            .values(discount_percent=D("10"), amount=D("15300.00"))
        )
        await session.execute(
            update(Order).where(Order.id == placed.order.id).values(total=D("15300.00"))
        )
        await session.commit()
    more = [
        LineChange(line_id=placed.line_id, quantity=D("3")),  # its price and discount as they are
        LineChange(product_id=PUMP, quantity=D("1")),  # a new line: no discount
    ]
    recorded = await placed.changes.record_change_request(placed.request(lines=more))

    assert recorded.problem is None
    assert recorded.facts.total == D("31450.00")  # 3 × 8,500 × 90 % + 8,500
    assert recorded.facts.max_discount_percent == D("10.00")
    assert not any(c.field.endswith(".discount_percent") for c in recorded.changes)


async def test_stock_the_order_already_holds_is_not_counted_short_again(placed):
    async with placed.session_factory() as session:
        await session.execute(update(Product).where(Product.id == PUMP).values(stock_on_hand=3))
        await session.commit()
    more = [LineChange(line_id=placed.line_id, quantity=D("3"))]
    recorded = await placed.changes.record_change_request(placed.request(lines=more))
    # 3 on hand, 2 of them reserved for this very order: the change's 3 fit.
    assert recorded.facts.lines[0].available == D("3")


async def test_a_second_change_request_while_one_is_open_is_refused(placed):
    await placed.changes.record_change_request(
        placed.request(requested_delivery_date=date.today() + timedelta(days=30))
    )
    second = await placed.changes.record_change_request(
        placed.request(2, requested_delivery_date=date.today() + timedelta(days=40))
    )
    assert second.problem == "Change request 1 is still open: decide or withdraw it first."
    assert await count(placed.session_factory, OrderChangeRequest) == 1


async def test_a_line_the_order_does_not_have_is_refused_and_nothing_is_written(placed):
    wrong = [LineChange(line_id=999999, quantity=D("1"))]
    recorded = await placed.changes.record_change_request(placed.request(lines=wrong))
    assert recorded.problem == "Line 1: the order has no line 999999."
    assert recorded.refusal().template == "Line %(number)s: the order has no line %(line)s."
    assert await count(placed.session_factory, OrderChangeRequest) == 0
    assert await events(placed.session_factory, placed.order, "change_requested") == 0


# -- what a change may not undo ------------------------------------------------------------


async def test_fewer_than_were_dispatched_is_refused_and_points_to_a_return(placed):
    await dispatch_all(placed)
    fewer = [LineChange(line_id=placed.line_id, quantity=D("1"))]
    recorded = await placed.changes.record_change_request(placed.request(lines=fewer))
    assert "already dispatched" in recorded.problem and "return" in recorded.problem
    assert await count(placed.session_factory, OrderChangeRequest) == 0


async def test_a_total_below_what_was_invoiced_is_refused_until_a_credit_note(placed):
    async with placed.session_factory() as session:
        await session.execute(
            update(Order).where(Order.id == placed.order.id).values(invoiced=D("17000"))
        )
        await session.commit()
    cut = [LineChange(line_id=placed.line_id, quantity=D("2"), discount_percent=D("10"))]
    recorded = await placed.changes.record_change_request(placed.request(lines=cut))
    assert recorded.problem.startswith("The new total 15,300.00 is below the 17,000.00 already")
    assert "credit note" in recorded.problem


async def test_a_total_below_what_was_paid_is_refused_as_a_refund(placed):
    async with placed.session_factory() as session:
        await session.execute(
            update(Order).where(Order.id == placed.order.id).values(paid=D("17000"))
        )
        await session.commit()
    recorded = await placed.changes.record_change_request(
        placed.request(order_discount_percent=D("5"))
    )
    assert "refunded" in recorded.problem
    assert await count(placed.session_factory, OrderChangeRequest) == 0


async def test_money_invoiced_between_request_and_approval_stops_the_change(placed):
    cut = [LineChange(line_id=placed.line_id, quantity=D("1"))]
    await placed.changes.record_change_request(placed.request(lines=cut))
    async with placed.session_factory() as session:
        await session.execute(
            update(Order).where(Order.id == placed.order.id).values(invoiced=D("17000"))
        )
        await session.commit()
    applied = await placed.changes.apply_change(placed.apply())

    assert "credit note" in applied.problem
    order = await saved(placed.session_factory, placed.order)
    assert (order.total, order.revision) == (D("17000.00"), 1)
    assert await count(placed.session_factory, OrderRevision) == 0
    assert await reserved(placed.session_factory, PUMP) == D("2")


async def test_once_the_goods_are_accepted_a_change_adds_none_but_may_cut_the_price(placed):
    async with placed.session_factory() as session:
        await session.execute(
            update(Order).where(Order.id == placed.order.id).values(shipment_status="accepted")
        )
        await session.commit()
    more = [LineChange(line_id=placed.line_id, quantity=D("3"))]
    recorded = await placed.changes.record_change_request(placed.request(lines=more))
    assert recorded.problem is not None and "accepted the goods" in recorded.problem
    assert await count(placed.session_factory, OrderChangeRequest) == 0
    cut = [LineChange(line_id=placed.line_id, quantity=D("2"), discount_percent=D("5"))]
    recorded = await placed.changes.record_change_request(placed.request(lines=cut))
    assert recorded.problem is None
