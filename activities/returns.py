"""Activities of an order's returns: asked for (never more than was dispatched and has not come
back or been asked for already), approved or rejected, then received by the warehouse
(activities/return_receipts.py)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.cancellation import told
from activities.cancellation_route import directors_above
from activities.change_terms import dispatched_by_line, reservations_of
from activities.steps import StepRecorder
from activities.store import StepStore
from models.domain import (
    Assignee,
    Refusal,
    ReturnLine,
    ReturnStep,
    ReturnStepResult,
    Role,
    Stage,
    TodoKind,
)
from models.domain.returns import (
    NOT_DISPATCHED,
    OPEN_RETURN_STATUSES,
    RETURN_CLOSED_ORDER,
    quantity_text,
)
from models.policy import current_policy
from models.tables import Order, OrderReturn, OrderReturnLine, User
from workflows import rules

ZERO = Decimal("0")
WAREHOUSE = [Assignee(role=Role.warehouse)]
# A return in these is still expected back (in full or in part).
OPEN_STATUSES = OPEN_RETURN_STATUSES


async def return_of(session: AsyncSession, order: Order, number: int) -> OrderReturn:
    found = await session.scalar(
        select(OrderReturn).where(OrderReturn.order_id == order.id, OrderReturn.number == number)
    )
    assert found is not None  # recorded by the step that asked for it
    return found


async def returns_of(session: AsyncSession, order: Order) -> list[OrderReturn]:
    rows = await session.scalars(
        select(OrderReturn).where(OrderReturn.order_id == order.id).order_by(OrderReturn.number)
    )
    return list(rows)


def expected_of(order_return: OrderReturn) -> dict[int, Decimal]:
    """What the return still expects back, per order line (none once received or closed)."""
    if order_return.status not in OPEN_STATUSES:
        return {}
    return {
        line.order_line_id: line.quantity - line.received
        for line in order_return.lines
        if line.quantity > line.received
    }


async def taken_by_line(session: AsyncSession, order: Order) -> dict[int, Decimal]:
    """Per order line: what came back, and what open returns still expect."""
    taken: dict[int, Decimal] = {}
    for order_return in await returns_of(session, order):
        expected = expected_of(order_return)
        for line in order_return.lines:
            more = line.received + expected.get(line.order_line_id, ZERO)
            taken[line.order_line_id] = taken.get(line.order_line_id, ZERO) + more
    return taken


async def received_by_line(session: AsyncSession, order: Order) -> dict[int, Decimal]:
    """Per order line: what came back so far, over every return."""
    received: dict[int, Decimal] = {}
    for order_return in await returns_of(session, order):
        for line in order_return.lines:
            received[line.order_line_id] = received.get(line.order_line_id, ZERO) + line.received
    return received


def asked_value(order_return: OrderReturn) -> Decimal:
    """The value of the lines asked back, at each line's net unit price, to the cent."""
    return rules.money(
        sum((line.quantity * line.unit_net_price for line in order_return.lines), ZERO)
    )


def lines_text(order: Order, quantities: dict[int, Decimal]) -> str:
    """'PUMP-10 × 2, VALVE-3 × 1' for the timeline and the to-do."""
    codes = {line.id: line.product.code for line in order.lines}
    return ", ".join(f"{codes.get(i, i)} × {quantity_text(q)}" for i, q in quantities.items())


async def people_of_return(
    rec: StepRecorder, order: Order, order_return: OrderReturn, *, besides: int | None
) -> list[User]:
    """The owner, whoever asked and whoever decided, each once, leaving out the one acting."""
    ids = [order_return.requested_by_id, order_return.decided_by_id]
    asked = await rec.people([Assignee(user_id=i) for i in ids if i is not None])
    return told([order.owner, *asked], besides=besides)


class ReturnActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def record_return_request(self, step: ReturnStep) -> ReturnStepResult:
        """The return is recorded with its lines at each line's net unit price, unless the
        order takes no return or a line asks for more than can still come back (nothing is
        written then). The owner is told when someone else asked."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
            known = await session.scalar(
                select(OrderReturn.id).where(
                    OrderReturn.order_id == order.id, OrderReturn.number == step.number
                )
            )
            if known is None:
                if step.for_cancellation:  # everything that can still come back
                    step = await self._everything(session, order, step)
                    if not step.lines:  # nothing left out there: no return
                        return ReturnStepResult()
                elif (refusal := await self._refusal(session, order, step)) is not None:
                    return ReturnStepResult.refusing(refusal)
                self._record(rec, order, step)
                await session.flush()
            order_return = await return_of(session, order, step.number)
            expected = expected_of(order_return)
            await rec.add_event(
                key=step.step_key, order=order, kind="return_requested", actor_id=step.actor_id,
                number=step.number, lines=lines_text(order, expected), reason=step.reason,
            )  # fmt: skip
            if step.actor_id != order.owner_id:
                await rec.notify(
                    key=step.step_key, users=[order.owner], order=order,
                    event="return_requested", comment=step.reason,
                )  # fmt: skip
            value = asked_value(order_return)
            directors = (
                [] if step.for_cancellation else await self._directors(session, order, step, value)
            )
            await session.commit()
            return ReturnStepResult(
                expected=expected, mail_ids=rec.mail_ids, value=value, directors=directors
            )

    @staticmethod
    async def _directors(
        session: AsyncSession, order: Order, step: ReturnStep, value: Decimal
    ) -> list[Assignee]:
        """The director's step after the manager's, by the approval policy in force."""
        policy = await current_policy(session=session)
        return await directors_above(
            session,
            order,
            amount=value,
            above=policy.return_director_above,
            requester_id=step.actor_id or 0,
            approver=step.approver,
        )

    async def _refusal(
        self, session: AsyncSession, order: Order, step: ReturnStep
    ) -> Refusal | None:
        if order.stage in (Stage.closed.value, Stage.cancelled.value):
            return Refusal(RETURN_CLOSED_ORDER, number=order.number)
        reservations = await reservations_of(session, [line.id for line in order.lines])
        dispatched = {k: v for k, v in dispatched_by_line(reservations).items() if v > 0}
        if not dispatched:
            return Refusal(NOT_DISPATCHED, number=order.number)
        room = rules.returnable(dispatched, await taken_by_line(session, order))
        return rules.return_refusal(step.lines, room)

    async def _everything(
        self, session: AsyncSession, order: Order, step: ReturnStep
    ) -> ReturnStep:
        """The cancellation's return: every line's dispatched goods not back or asked for."""
        reservations = await reservations_of(session, [line.id for line in order.lines])
        room = rules.returnable(
            dispatched_by_line(reservations), await taken_by_line(session, order)
        )
        lines = [
            ReturnLine(line_id=line_id, quantity=quantity)
            for line_id, quantity in sorted(room.items())
            if quantity > 0
        ]
        return step.model_copy(update={"lines": lines})

    def _record(self, rec: StepRecorder, order: Order, step: ReturnStep) -> None:
        lines = {line.id: line for line in order.lines}
        order_return = OrderReturn(
            order_id=order.id,
            number=step.number,
            status="requested",
            reason=step.reason,
            requested_by_id=step.actor_id,
            requested_at=rec.now,
            receipts=0,
            value=ZERO,
        )
        order_return.lines = [
            OrderReturnLine(
                order_line_id=asked.line_id,
                quantity=asked.quantity,
                received=ZERO,
                restocked=ZERO,
                scrapped=ZERO,
                unit_net_price=rules.money(
                    lines[asked.line_id].amount / lines[asked.line_id].quantity
                ),
                amount=ZERO,
            )
            for asked in step.lines
        ]
        rec.session.add(order_return)

    @activity.defn
    async def decide_return(self, step: ReturnStep) -> ReturnStepResult:
        """The approval round ended: rejected (with why; the goods stay with the customer), or
        approved, and the warehouse get a receive_return to-do for what comes back. The owner
        and whoever asked are told."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
            order_return = await return_of(session, order, step.number)
            rejected = step.outcome == "reject"
            if order_return.status == "requested":
                order_return.status = "rejected" if rejected else "approved"
                order_return.decided_by_id = step.actor_id
                order_return.decided_at = rec.now
                order_return.comment = step.comment or None
            expected = expected_of(order_return)
            event = "return_rejected" if rejected else "return_approved"
            await rec.add_event(
                key=step.step_key, order=order, kind=event, actor_id=step.actor_id,
                number=step.number, comment=step.comment or None,
            )  # fmt: skip
            if not rejected and step.todo_key is not None:
                await self._open_receipt(rec, order, step, step.todo_key, expected)
            concerned = await people_of_return(rec, order, order_return, besides=step.actor_id)
            await rec.notify(
                key=step.step_key, users=concerned, order=order, event=event,
                comment=step.comment,
            )  # fmt: skip
            await session.commit()
            return ReturnStepResult(expected=expected, opened=rec.opened, mail_ids=rec.mail_ids)

    @staticmethod
    async def _open_receipt(
        rec: StepRecorder, order: Order, step: ReturnStep, key: str, expected: dict[int, Decimal]
    ) -> None:
        codes = {line.id: line.product.code for line in order.lines}
        await rec.open_todo(
            key=key,
            order=order,
            workflow_id=step.workflow_id,
            kind=TodoKind.receive_return,
            assignees=WAREHOUSE,
            due_in=None,
            requested_by_id=step.actor_id,
            facts={
                "return": step.number,
                "lines": [
                    {"line_id": i, "product_code": codes.get(i, ""), "expected": quantity_text(q)}
                    for i, q in expected.items()
                ],
            },
        )
