"""An approved change applied over a real database as the order's next revision (lines,
totals, stock reserved, the diff, one mail each), run twice writing nothing twice; a rejected or
withdrawn change leaves everything else as it was."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal as D

from sqlalchemy import select, update

from models.domain import CostEstimate, LineCost
from models.domain.changes import LineChange
from models.tables import (
    Installment,
    Order,
    OrderChangeRequest,
    OrderLine,
    OrderRevision,
    OutboxMail,
    StockReservation,
    User,
)
from tests import helpers
from tests.activities.change_fixtures import (
    CONTACT,
    PUMP,
    VALVE,
    change_mails,
    count,
    dispatch_all,
    events,
    more_pumps_and_a_valve,
    placed,
    reserved,
    saved,
)

__all__ = ["placed"]  # the fixture, used by name


# -- applied as the next revision ------------------------------------------------------------


async def test_an_approved_change_becomes_revision_2_with_lines_totals_stock_and_its_diff(
    placed,
):
    async with placed.session_factory() as session:  # the owner reads Chinese
        await session.execute(update(User).where(User.username == "sales").values(locale="zh_CN"))
        await session.commit()
    await placed.changes.record_change_request(placed.request(lines=more_pumps_and_a_valve(placed)))
    approver = await helpers.user(placed.session_factory, "sales_manager")
    step = placed.apply(actor_id=approver.id, approver_ids=[approver.id])
    applied = await placed.changes.apply_change(step)

    assert applied.problem is None
    assert (applied.revision, applied.total) == (2, D("26700.00"))
    assert [(c.field, c.before, c.after) for c in applied.changes] == [
        ("lines[PUMP-10].quantity", "2", "3"),
        ("lines[VALVE-3]", "", "1 × 1200"),
        ("total", "17000", "26700"),
    ]
    assert [(i.position, i.amount, i.paid) for i in applied.installments] == [
        (1, D("26700.00"), D("0"))
    ]
    assert applied.replan  # lines changed before dispatch: ops plan again
    assert applied.extra_dispatch == {}
    order = await saved(placed.session_factory, placed.order)
    assert (order.total, order.list_total, order.revision) == (D("26700.00"), D("26700.00"), 2)
    assert order.expected_cost is None  # the valve has no estimate yet: pricing gives it
    async with placed.session_factory() as session:
        lines = list(
            await session.scalars(
                select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
            )
        )
        [revision] = list(await session.scalars(select(OrderRevision)))
        request = await session.scalar(select(OrderChangeRequest))
        rounds = list(
            await session.execute(select(StockReservation.round, StockReservation.quantity))
        )
    assert [(ln.product_id, ln.quantity, ln.amount) for ln in lines] == [
        (PUMP, D("3"), D("25500.00")),
        (VALVE, D("1"), D("1200.00")),
    ]
    assert lines[0].unit_cost is None and lines[1].unit_cost is None
    assert (revision.number, revision.created_by_id) == (2, placed.owner.user_id)
    assert revision.changes[0] == {"field": "lines[PUMP-10].quantity", "before": "2", "after": "3"}
    assert (request.status, request.decided_by_id) == ("approved", approver.id)
    assert sorted(rounds) == [(1, D("1")), (1, D("3"))]
    assert await reserved(placed.session_factory, PUMP) == D("3")
    assert await reserved(placed.session_factory, VALVE) == D("1")
    assert await events(placed.session_factory, placed.order, "change_applied") == 1
    assert await change_mails(placed) == Counter(
        {
            "sales@o2c.example.com": 1,
            "sales_manager@o2c.example.com": 1,
            "ops@o2c.example.com": 1,
            "warehouse@o2c.example.com": 1,
            "finance@o2c.example.com": 1,
            CONTACT: 1,
        }
    )
    async with placed.session_factory() as session:
        subject = await session.scalar(
            select(OutboxMail.subject).where(
                OutboxMail.to_address == "sales@o2c.example.com",
                OutboxMail.id > placed.setup_mails,
            )
        )
    assert "变更" in subject  # in the owner's language


async def test_applying_a_change_again_writes_no_second_revision_reservation_or_mail(placed):
    await placed.changes.record_change_request(placed.request(lines=more_pumps_and_a_valve(placed)))
    first = await placed.changes.apply_change(placed.apply())
    mails = await change_mails(placed)
    second = await placed.changes.apply_change(placed.apply())

    assert first.problem is None and second == first
    assert await count(placed.session_factory, OrderRevision) == 1
    assert await count(placed.session_factory, StockReservation) == 2
    assert await reserved(placed.session_factory, PUMP) == D("3")
    assert await reserved(placed.session_factory, VALVE) == D("1")
    assert (await saved(placed.session_factory, placed.order)).revision == 2
    assert await events(placed.session_factory, placed.order, "change_applied") == 1
    assert await change_mails(placed) == mails


async def test_a_later_change_removing_a_line_gives_its_stock_back(placed):
    await placed.changes.record_change_request(placed.request(lines=more_pumps_and_a_valve(placed)))
    await placed.changes.apply_change(placed.apply())
    fewer = [LineChange(line_id=placed.line_id, quantity=D("1"))]
    recorded = await placed.changes.record_change_request(placed.request(2, lines=fewer))
    applied = await placed.changes.apply_change(placed.apply(2))

    assert recorded.needs_estimate and applied.revision == 3
    assert ("lines[VALVE-3]", "1 × 1200", "") in [
        (c.field, c.before, c.after) for c in applied.changes
    ]
    assert await reserved(placed.session_factory, PUMP) == D("1")
    assert await reserved(placed.session_factory, VALVE) == D("0")
    assert await count(placed.session_factory, StockReservation) == 1
    assert (
        await count(placed.session_factory, OrderLine, OrderLine.order_id == placed.order.id) == 1
    )
    order = await saved(placed.session_factory, placed.order)
    assert (order.total, order.revision) == (D("8500.00"), 3)


async def test_a_price_cut_keeps_the_estimate_and_the_margin_follows(placed):
    cut = [LineChange(line_id=placed.line_id, quantity=D("2"), unit_price=D("8000"))]
    await placed.changes.record_change_request(placed.request(lines=cut))
    applied = await placed.changes.apply_change(placed.apply())

    assert not applied.replan  # a price is no matter for the shipment's plan
    order = await saved(placed.session_factory, placed.order)
    assert (order.total, order.expected_cost, order.expected_margin) == (
        D("16000.00"),
        D("10000.00"),
        D("6000.00"),
    )
    assert await reserved(placed.session_factory, PUMP) == D("2")  # same quantity, same stock


async def test_more_after_dispatch_goes_in_a_new_dispatch_round_and_money_paid_stays(placed):
    await dispatch_all(placed)
    async with placed.session_factory() as session:  # half of the 17,000 was paid
        await session.execute(update(Installment).values(paid=D("8500")))
        await session.execute(
            update(Order).where(Order.id == placed.order.id).values(paid=D("8500"))
        )
        await session.commit()
    more = [LineChange(line_id=placed.line_id, quantity=D("3"))]
    await placed.changes.record_change_request(placed.request(lines=more))
    applied = await placed.changes.apply_change(placed.apply())

    assert applied.extra_dispatch == {placed.line_id: D("1")}
    assert not applied.replan  # the goods left: no re-plan, a new round
    assert [(i.amount, i.paid) for i in applied.installments] == [(D("25500.00"), D("8500"))]
    assert await reserved(placed.session_factory, PUMP) == D("0")  # the new round reserves


async def test_a_new_delivery_date_and_payment_plan_are_in_the_revision(placed):
    day = date.today() + timedelta(days=45)
    plan = [
        {"percent": "50", "trigger": "confirmation"},
        {"percent": "50", "trigger": "acceptance", "offset_days": 30},
    ]
    await placed.changes.record_change_request(
        placed.request(requested_delivery_date=day, payment_plan=plan)
    )
    applied = await placed.changes.apply_change(placed.apply())

    fields = [c.field for c in applied.changes]
    assert fields == ["requested_delivery_date", "payment_plan"]
    assert applied.changes[1].after == "50 % confirmation, 50 % acceptance +30 d"
    assert [(i.position, i.amount) for i in applied.installments] == [
        (2, D("8500.00")),
        (3, D("8500.00")),
    ]
    assert applied.replan
    order = await saved(placed.session_factory, placed.order)
    assert order.requested_delivery_on == day and order.total == D("17000.00")


# -- rejected or withdrawn: nothing else changes ---------------------------------------------


async def test_a_rejected_change_leaves_the_order_as_it_was_and_tells_the_requester_why(placed):
    await placed.changes.record_change_request(placed.request(lines=more_pumps_and_a_valve(placed)))
    manager = await helpers.user(placed.session_factory, "sales_manager")
    step = placed.close(1, manager.id, "No stock for that")
    await placed.changes.reject_change(step)
    result = await placed.changes.reject_change(step)

    assert result.problem is None
    async with placed.session_factory() as session:
        request = await session.scalar(select(OrderChangeRequest))
        lines = list(
            await session.scalars(select(OrderLine).where(OrderLine.order_id == placed.order.id))
        )
    assert (request.status, request.comment, request.decided_by_id) == (
        "rejected",
        "No stock for that",
        manager.id,
    )
    assert [(ln.quantity, ln.amount) for ln in lines] == [(D("2"), D("17000.00"))]
    order = await saved(placed.session_factory, placed.order)
    assert (order.total, order.revision) == (D("17000.00"), 1)
    assert await reserved(placed.session_factory, PUMP) == D("2")
    assert await count(placed.session_factory, OrderRevision) == 0
    assert await events(placed.session_factory, placed.order, "change_rejected") == 1
    assert await change_mails(placed) == Counter({"sales@o2c.example.com": 1})
    applied = await placed.changes.apply_change(placed.apply())
    assert applied.problem == "Change request 1 is decided already."


async def test_a_withdrawn_change_changes_nothing_else_and_mails_nobody(placed):
    await placed.changes.record_change_request(placed.request(order_discount_percent=D("5")))
    await placed.changes.withdraw_change(placed.close(1, placed.owner.user_id))

    async with placed.session_factory() as session:
        assert await session.scalar(select(OrderChangeRequest.status)) == "withdrawn"
    order = await saved(placed.session_factory, placed.order)
    assert (order.total, order.order_discount_percent, order.revision) == (D("17000.00"), None, 1)
    assert await events(placed.session_factory, placed.order, "change_withdrawn") == 1
    assert await change_mails(placed) == Counter()
    # Withdrawn, a new request may be made.
    again = await placed.changes.record_change_request(
        placed.request(2, order_discount_percent=D("5"))
    )
    assert again.problem is None


async def test_pricings_new_estimate_of_the_changed_lines_sets_the_expected_cost(placed):
    await placed.changes.record_change_request(placed.request(lines=more_pumps_and_a_valve(placed)))
    estimate = CostEstimate(
        lines=[
            LineCost(line_id=placed.line_id, unit_cost=D("5000")),
            LineCost(line_id=-1, unit_cost=D("700")),  # the valve, new in the change
        ],
        freight=D("100"),
    )
    await placed.changes.apply_change(placed.apply(estimate=estimate))

    order = await saved(placed.session_factory, placed.order)
    assert (order.expected_cost, order.expected_margin) == (D("15800.00"), D("10900.00"))
    assert order.freight_cost == D("100.00")
    async with placed.session_factory() as session:
        costs = list(
            await session.scalars(
                select(OrderLine.unit_cost)
                .where(OrderLine.order_id == order.id)
                .order_by(OrderLine.position)
            )
        )
    assert costs == [D("5000.00"), D("700.00")]
