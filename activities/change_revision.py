"""An approved change written onto the order as its next revision: lines, terms, totals, stock
reserved and expected cost, and the revision row with its diff."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from activities.change_terms import (
    ChangedLine,
    ChangedOrder,
    dispatched_by_line,
    move_reserved,
    reservations_of,
)
from activities.steps import StepRecorder
from models.domain import CostEstimate
from models.tables import Order, OrderChangeRequest, OrderLine, OrderRevision, StockReservation
from models.tables import PaymentPlanItem as PaymentPlanRow
from workflows import rules


async def write_revision(
    rec: StepRecorder,
    order: Order,
    request: OrderChangeRequest,
    changed: ChangedOrder,
    estimate: CostEstimate | None,
) -> OrderRevision:
    """The order takes the change (in the step's transaction): its lines (kept, added,
    removed), terms and totals, the stock reserved for what is not dispatched yet, the
    expected cost and margin; its revision number goes up by one and the revision row keeps
    who asked, when, and the diff."""
    session = rec.session
    reservations = await reservations_of(session, [ln.id for ln in order.lines])
    await _release_removed(session, reservations, changed.removed)
    unit_costs = {line.line_id: line.unit_cost for line in estimate.lines} if estimate else {}
    order.lines = [
        _line(ln, position, unit_costs) for position, ln in enumerate(changed.lines, start=1)
    ]
    await session.flush()  # new lines get their ids, removed ones are gone
    await _follow_reservations(rec, order, reservations)
    after = changed.after
    order.order_discount_percent = after.order_discount_percent
    order.target_total = after.target_total
    order.requested_delivery_on = after.requested_delivery_date
    if after.payment_plan != changed.before.payment_plan:
        order.payment_plan = [
            PaymentPlanRow(
                position=n, percent=item.percent, trigger=item.trigger.value,
                offset_days=item.offset_days, fixed_on=item.fixed_date,
            )
            for n, item in enumerate(after.payment_plan, start=1)
        ]  # fmt: skip
    order.total, order.list_total = after.total, changed.list_total
    _expected_cost(order, estimate)
    order.revision += 1
    order.updated_at = rec.now
    request.status = "approved"
    request.decided_at = rec.now
    revision = OrderRevision(
        order_id=order.id,
        number=order.revision,
        created_at=rec.now,
        created_by_id=request.requested_by_id,
        change_request_id=request.id,
        changes=[c.model_dump() for c in rules.revision_changes(changed.before, after)],
    )
    session.add(revision)
    await session.flush()
    return revision


def _line(changed: ChangedLine, position: int, unit_costs: dict[int, Decimal]) -> OrderLine:
    """The order line as the change makes it; its unit cost is the new estimate's, else kept
    while its product and quantity are unchanged."""
    line = changed.line or OrderLine(product_id=changed.product.id, product=changed.product)
    unit_cost = unit_costs.get(changed.facts_id, line.unit_cost if changed.same_goods else None)
    line.position = position
    line.quantity = changed.quantity
    line.unit_price = changed.unit_price
    line.discount_percent = changed.discount_percent
    line.amount = changed.amount
    line.unit_cost = unit_cost
    return line


async def _release_removed(
    session: AsyncSession, reservations: list[StockReservation], removed: Sequence[OrderLine]
) -> None:
    """A removed line's stock goes back to the shelf (the floor check refused removing a line
    that was dispatched), and its reservation rows go with it."""
    gone = {line.id for line in removed}
    for row in [r for r in reservations if r.order_line_id in gone]:
        assert row.taken_at is None, "change_floor_refusal refuses removing a dispatched line"
        await move_reserved(session, row.product_id, -row.quantity)
        await session.delete(row)
        reservations.remove(row)
    await session.flush()


async def _follow_reservations(
    rec: StepRecorder, order: Order, reservations: list[StockReservation]
) -> None:
    """Stock reserved follows the new quantities: a round not dispatched yet reserves the
    line's new quantity, and a new line is reserved in that round too. Before confirmation
    nothing is reserved (confirmation reserves); once every round left, what the change adds
    goes in a new dispatch round (extra_dispatch)."""
    if not reservations:
        return
    waiting = {r.order_line_id: r for r in reservations if r.taken_at is None}
    open_round = max((r.round for r in waiting.values()), default=None)
    reserved_lines = {r.order_line_id for r in reservations}
    for line in order.lines:
        row = waiting.get(line.id)
        if row is not None:  # the rest of a partial dispatch: less what left of its round
            target = line.quantity - sum(
                (r.quantity for r in reservations if r.taken_at is not None
                 and r.order_line_id == line.id and r.dispatch_chain == row.dispatch_chain),
                Decimal("0"),
            )  # fmt: skip
            await move_reserved(rec.session, line.product_id, target - row.quantity)
            row.quantity = target
        elif open_round is not None and line.id not in reserved_lines:
            rec.session.add(
                StockReservation(
                    order_line_id=line.id, round=open_round, product_id=line.product_id,
                    quantity=line.quantity, reserved_at=rec.now,
                )
            )  # fmt: skip
            await move_reserved(rec.session, line.product_id, line.quantity)


def extra_dispatch(order: Order, reservations: Sequence[StockReservation]) -> dict[int, Decimal]:
    """Once the order's goods started leaving: per line with no round waiting, what it asks
    beyond what was dispatched (for a new dispatch round)."""
    if not reservations:
        return {}
    waiting = {r.order_line_id for r in reservations if r.taken_at is None}
    dispatched = dispatched_by_line(reservations)
    return {
        line.id: line.quantity - dispatched.get(line.id, Decimal("0"))
        for line in order.lines
        if line.id not in waiting and line.quantity > dispatched.get(line.id, Decimal("0"))
    }


def _expected_cost(order: Order, estimate: CostEstimate | None) -> None:
    """The expected cost and margin follow the change once every line has its unit cost (the
    kept estimate's, or the new one's); else they wait for pricing's new estimate."""
    if any(line.unit_cost is None for line in order.lines):
        order.expected_cost = order.expected_margin = None
        return
    if estimate is None and order.expected_cost is None:
        return  # never estimated: costing does that
    freight = estimate.freight if estimate else order.freight_cost or Decimal("0")
    installation = estimate.installation if estimate else order.installation_cost or Decimal("0")
    other = estimate.other if estimate else order.other_cost or Decimal("0")
    goods = sum(
        (rules.money(line.quantity * (line.unit_cost or 0)) for line in order.lines), Decimal("0")
    )
    cost = goods + rules.money(freight) + rules.money(installation) + rules.money(other)
    order.freight_cost, order.installation_cost, order.other_cost = freight, installation, other
    order.expected_cost, order.expected_margin = cost, order.total - cost
