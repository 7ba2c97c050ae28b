"""Activities of an order's shipment: plan, hold and release, dispatch with stock leaving, late
milestones, arrival, acceptance and exceptions; one transaction per step, idempotent by key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.orders import OrderActivities
from activities.steps import StepRecorder
from models.domain import (
    Assignee,
    MilestoneCode,
    MilestoneState,
    Role,
    ShipmentStep,
    ShipmentStepResult,
    Stage,
    TodoKind,
)
from models.links import ContactLinks
from models.tables import (
    Contact,
    Dispatch,
    Milestone,
    Order,
    OrderLine,
    Product,
    ShipmentException,
    StockReservation,
    Todo,
)

PLAN_SLA = timedelta(days=1)
DISPATCH_SLA = timedelta(days=1)
OPS = [Assignee(role=Role.ops)]


@dataclass
class ContactRecipient:
    """A customer's contact as a mail recipient (contacts have no account)."""

    id: int
    full_name: str
    email: str
    locale: str | None = None


class ShipmentActivities(OrderActivities):
    def __init__(
        self, *args: Any, contact_links: ContactLinks | None = None, **kwargs: Any
    ) -> None:
        """`args` and `kwargs` are OrderActivities' own."""
        super().__init__(*args, **kwargs)
        self.contact_links = contact_links

    @activity.defn
    async def start_shipment(self, step: ShipmentStep) -> ShipmentStepResult:
        """Fulfilment begins on confirmation: each line's stock is reserved, the customer's
        contacts are told the order is confirmed, and ops are asked for the timetable."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id)
            rec = self._recorder(session)
            if order.shipment_status is None:
                order.shipment_status = "planning"
                rec.set_stage(order, Stage.fulfilment)
            await self._reserve(session, order, round_=1, rec=rec)
            contacts = await session.scalars(
                select(Contact).where(Contact.customer_id == order.customer_id, Contact.email != "")
            )
            await rec.notify(
                key=f"{step.workflow_id}/confirmed",
                users=[ContactRecipient(c.id, c.name, c.email) for c in contacts],
                order=order,
                event="confirmed",
                with_link=False,
            )
            assert step.todo_key is not None  # ops' plan_shipment to-do
            await rec.open_todo(
                key=step.todo_key,
                order=order,
                workflow_id=step.workflow_id,
                kind=TodoKind.plan_shipment,
                assignees=OPS,
                due_in=PLAN_SLA,
                requested_by_id=None,
            )
            await session.commit()
            return ShipmentStepResult(
                opened=rec.opened, mail_ids=rec.mail_ids, stage=Stage.fulfilment
            )

    @activity.defn
    async def plan_shipment(self, step: ShipmentStep) -> ShipmentStepResult:
        """Ops set the milestones' planned dates; the warehouse is asked to dispatch, unless the
        shipment waits for the deposit."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            assert step.todo_key is not None  # ops plan on their to-do
            await rec.close_todo(step.todo_key, outcome="planned", by_user_id=step.actor_id)
            known = {
                m.code: m
                for m in await session.scalars(
                    select(Milestone).where(Milestone.order_id == order.id)
                )
            }
            for position, planned in enumerate(step.milestones, start=1):
                milestone = known.get(planned.code.value)
                if milestone is None:
                    session.add(
                        Milestone(
                            order_id=order.id,
                            position=position,
                            code=planned.code.value,
                            planned_on=planned.planned_date,
                        )
                    )
                else:
                    milestone.planned_on = planned.planned_date
            await rec.add_event(
                key=f"{step.todo_key}/done",
                order=order,
                kind="shipment_planned",
                actor_id=step.actor_id,
                **{m.code.value: m.planned_date.isoformat() for m in step.milestones},
            )
            if step.held:
                order.shipment_status = "held"
                await rec.add_event(
                    key=f"{step.workflow_id}/held",
                    order=order,
                    kind="held_for_deposit",
                    actor_id=None,
                )
            else:
                await self._ask_dispatch(rec, order, step.workflow_id, round_=1)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @activity.defn
    async def release_hold(self, step: ShipmentStep) -> ShipmentStepResult:
        """The deposit is paid, or ops release the hold with a reason: the warehouse may ship."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            order.hold_released_reason = step.reason
            await rec.add_event(
                key=step.step_key,
                order=order,
                kind="hold_released",
                actor_id=step.actor_id,
                reason=step.reason,
            )
            if step.open_dispatch:
                await self._ask_dispatch(rec, order, step.workflow_id, round_=1)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    async def _ask_dispatch(
        self, rec: StepRecorder, order: Order, workflow_id: str, *, round_: int
    ) -> None:
        order.shipment_status = "awaiting_dispatch"
        await rec.open_todo(
            key=f"{workflow_id}/dispatch/{round_}",
            order=order,
            workflow_id=workflow_id,
            kind=TodoKind.confirm_dispatch,
            assignees=[Assignee(role=Role.warehouse)],
            due_in=DISPATCH_SLA,
        )

    @activity.defn
    async def dispatch(self, step: ShipmentStep) -> ShipmentStepResult:
        """The warehouse hands the goods to the carrier: the round's reserved stock leaves (on
        hand and reserved both drop, never below zero), the owner and the customer's contacts
        are told, with the tracking number, and ops wait for the arrival. Refused, changing
        nothing, when the stock is not there."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            known = await session.scalar(
                select(Dispatch).where(
                    Dispatch.order_id == order.id, Dispatch.round == step.dispatch_round
                )
            )
            if known is None:
                reservations = list(
                    await session.scalars(
                        select(StockReservation).where(
                            StockReservation.round == step.dispatch_round,
                            StockReservation.order_line_id.in_(
                                select(OrderLine.id).where(OrderLine.order_id == order.id)
                            ),
                        )
                    )
                )
                for reservation in reservations:
                    if reservation.taken_at is not None:
                        continue
                    taken = await session.execute(
                        update(Product)
                        .where(
                            Product.id == reservation.product_id,
                            Product.stock_on_hand >= reservation.quantity,
                            Product.reserved >= reservation.quantity,
                        )
                        .values(
                            stock_on_hand=Product.stock_on_hand - reservation.quantity,
                            reserved=Product.reserved - reservation.quantity,
                        )
                    )
                    # An UPDATE's result is a CursorResult, which counts rows (typed as Result).
                    if cast("CursorResult[Any]", taken).rowcount != 1:
                        wanted, product_id = reservation.quantity, reservation.product_id
                        await session.rollback()  # nothing of this dispatch is kept
                        code, on_hand = (
                            await session.execute(
                                select(Product.code, Product.stock_on_hand).where(
                                    Product.id == product_id
                                )
                            )
                        ).one()
                        return ShipmentStepResult(
                            problem=(
                                f"Not enough {code} to dispatch: {wanted.normalize():f} "
                                f"reserved for this order, {on_hand.normalize():f} on hand."
                            )
                        )
                    reservation.taken_at = rec.now
                session.add(
                    Dispatch(
                        order_id=order.id,
                        round=step.dispatch_round,
                        carrier=step.carrier,
                        tracking_number=step.tracking_number,
                        dispatched_on=step.actual_date,
                        dispatched_by_id=step.actor_id,
                        created_at=rec.now,
                    )
                )
            assert step.todo_key is not None  # the warehouse's confirm_dispatch to-do
            await rec.close_todo(step.todo_key, outcome="dispatched", by_user_id=step.actor_id)
            await self._record_milestones(session, order, step, by_id=step.actor_id)
            order.shipment_status = "in_transit"
            await rec.add_event(
                key=f"{step.todo_key}/done",
                order=order,
                kind="dispatched",
                actor_id=step.actor_id,
                carrier=step.carrier,
                tracking_number=step.tracking_number,
                round=step.dispatch_round,
            )
            told = f"carrier {step.carrier}, tracking number {step.tracking_number}"
            await rec.notify(
                key=f"{step.todo_key}/done", users=[order.owner], order=order, event="dispatched",
                comment=told,
            )  # fmt: skip
            await self._tell_contacts(rec, order, step, told)
            await rec.open_todo(
                key=f"{step.workflow_id}/arrival/{step.dispatch_round}",
                order=order,
                workflow_id=step.workflow_id,
                kind=TodoKind.confirm_arrival,
                assignees=OPS,
                due_in=None,
            )
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    async def _tell_contacts(
        self, rec: StepRecorder, order: Order, step: ShipmentStep, told: str
    ) -> None:
        contacts = await rec.session.scalars(
            select(Contact).where(Contact.customer_id == order.customer_id, Contact.email != "")
        )
        for contact in contacts:

            async def arrival_link(contact: Contact = contact) -> dict[str, str]:
                assert self.contact_links is not None  # only then is the link asked for
                token = await self.contact_links.issue(
                    rec.session,
                    order_id=order.id,
                    contact_id=contact.id,
                    dispatch_round=step.dispatch_round,
                    now=rec.now,
                )
                link = f"{rec.base_url}/arrival/{token}"
                return {"comment": f"{told}. When the goods arrive, please confirm here: {link}"}

            await rec.notify(
                key=f"{step.todo_key}/done/contact/{contact.id}",
                users=[ContactRecipient(contact.id, contact.name, contact.email)],
                order=order,
                event="dispatched",
                comment=told,
                with_link=False,
                fresh=arrival_link if self.contact_links is not None else None,
            )

    @activity.defn
    async def mark_late(self, step: ShipmentStep) -> ShipmentStepResult:
        """Milestones not done by their planned date: the order turns delayed, ops and the owner
        get one mail naming them all (once per milestone and planned date, however often the
        step is retried), and ops get a to-do to confirm each one that nobody else's to-do
        covers. Many orders fall due at once, so the step stays small."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            rows = {
                m.code: m
                for m in await session.scalars(
                    select(Milestone).where(Milestone.order_id == order.id)
                )
            }
            late = [
                m
                for m in step.milestones
                if (row := rows.get(m.code.value)) is not None and row.actual_on is None
            ]
            await session.execute(
                update(Milestone)
                .where(
                    Milestone.id.in_([rows[m.code.value].id for m in late]),
                    Milestone.late_since.is_(None),
                )
                .values(late_since=rec.now)
            )
            for milestone in late:
                await rec.add_event(
                    key=self._late_key(step, [milestone]), order=order, kind="milestone_late",
                    actor_id=None, milestone=milestone.code.value,
                    planned=milestone.planned_date.isoformat(),
                )  # fmt: skip
            if late:
                await rec.notify(
                    key=self._late_key(step, late),
                    users=[order.owner, *await rec.people(OPS)],
                    order=order,
                    event="milestone_late",
                    comment="; ".join(
                        f"{m.code.value} was planned for {m.planned_date.isoformat()}" for m in late
                    ),
                )
            for milestone in late:
                if milestone.code in (MilestoneCode.dispatch, MilestoneCode.arrival):
                    continue  # the warehouse's or the arrival to-do is still open
                await rec.open_todo(
                    key=self._late_key(step, [milestone]),
                    order=order,
                    workflow_id=step.workflow_id,
                    kind=TodoKind.confirm_milestone,
                    assignees=OPS,
                    due_in=None,
                    facts={
                        "code": milestone.code.value,
                        "planned_date": milestone.planned_date.isoformat(),
                    },
                    mail=False,  # the mail above names the milestone
                )
            order.delayed = True
            order.updated_at = rec.now
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids, delayed=True)

    @staticmethod
    def _late_key(step: ShipmentStep, late: list[MilestoneState]) -> str:
        """The key of what a late step records: per milestone and planned date."""
        return f"{step.workflow_id}/late/" + "+".join(
            f"{m.code.value}/{m.planned_date.isoformat()}" for m in late
        )

    @activity.defn
    async def confirm_milestone(self, step: ShipmentStep) -> ShipmentStepResult:
        """Ops confirm a milestone with its actual date; the order is no longer delayed once no
        milestone is late."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            # A confirmation names the milestone and the day it was done.
            assert step.code is not None and step.actual_date is not None
            await self._record_milestones(session, order, step, by_id=step.actor_id)
            await self._close_late_todos(rec, step)
            await rec.add_event(
                key=step.step_key, order=order, kind="milestone_done", actor_id=step.actor_id,
                milestone=step.code.value, actual=step.actual_date.isoformat(),
            )  # fmt: skip
            delayed = await self._still_delayed(session, order)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids, delayed=delayed)

    @activity.defn
    async def replan_milestone(self, step: ShipmentStep) -> ShipmentStepResult:
        """Ops move a milestone's planned date, with a reason; a late one is late no more."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            # A re-plan names the milestone and its new date.
            assert step.code is not None and step.planned_date is not None
            row = await session.scalar(
                select(Milestone).where(
                    Milestone.order_id == order.id, Milestone.code == step.code.value
                )
            )
            assert row is not None  # plan_shipment recorded every milestone
            before = row.planned_on
            if before != step.planned_date:
                row.planned_on = step.planned_date
                row.late_since = None
            await self._close_late_todos(rec, step, outcome="cancelled")
            await rec.add_event(
                key=step.step_key, order=order, kind="milestone_replanned",
                actor_id=step.actor_id, milestone=step.code.value,
                planned=step.planned_date.isoformat(), before=before.isoformat(),
                reason=step.reason,
            )  # fmt: skip
            delayed = await self._still_delayed(session, order)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids, delayed=delayed)

    @activity.defn
    async def confirm_arrival(self, step: ShipmentStep) -> ShipmentStepResult:
        """The goods arrived (ops, or the customer's contact through the dispatch mail). Orders
        with a product that needs installation wait for service's acceptance; the others are
        accepted on arrival and the owner is told to collect what is due."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            # Ops' confirm_arrival to-do (or the contact's link for it), and the day of arrival.
            assert step.todo_key is not None and step.actual_date is not None
            await rec.close_todo(step.todo_key, outcome="arrived", by_user_id=step.actor_id)
            await self._record_milestones(session, order, step, by_id=step.actor_id)
            order.shipment_status = "arrived"
            await rec.add_event(
                key=f"{step.todo_key}/done", order=order, kind="arrived",
                actor_id=step.actor_id, actual=step.actual_date.isoformat(),
                by_customer_contact=step.contact_id,
            )  # fmt: skip
            if step.open_acceptance:
                rec.set_stage(order, Stage.acceptance)
                await rec.open_todo(
                    key=f"{step.workflow_id}/acceptance/{step.dispatch_round}",
                    order=order,
                    workflow_id=step.workflow_id,
                    kind=TodoKind.confirm_acceptance,
                    assignees=[Assignee(role=Role.service)],
                    due_in=timedelta(days=3),
                )
            else:
                await self._accept(rec, order, step, step.actual_date, signed_by="")
            delayed = await self._still_delayed(session, order)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids, delayed=delayed)

    @activity.defn
    async def record_acceptance(self, step: ShipmentStep) -> ShipmentStepResult:
        """Service's verdict: accepted (date, who signed), or a defect that opens an exception."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            assert step.todo_key is not None  # service's confirm_acceptance to-do
            await rec.close_todo(
                step.todo_key, outcome=step.outcome, by_user_id=step.actor_id, comment=step.reason
            )
            result = ShipmentStepResult()
            if step.outcome == "accepted":
                assert step.actual_date is not None  # an acceptance carries its date
                await self._accept(rec, order, step, step.actual_date, signed_by=step.signed_by)
            else:
                result.exception_number = await self._open_exception(rec, order, step)
            await session.commit()
            result.opened, result.mail_ids = rec.opened, rec.mail_ids
            return result

    async def _accept(
        self, rec: StepRecorder, order: Order, step: ShipmentStep, on: date, *, signed_by: str
    ) -> None:
        order.accepted_on = on
        order.accepted_signed_by = signed_by or None
        order.shipment_status = "accepted"
        rec.set_stage(order, Stage.collection)
        key = f"{step.workflow_id}/accepted"
        await rec.add_event(
            key=key, order=order, kind="accepted", actor_id=step.actor_id,
            on=on.isoformat(), signed_by=signed_by or None,
        )  # fmt: skip
        await rec.notify(
            key=key, users=[order.owner], order=order, event="accepted",
            comment="Please collect the payment due on acceptance.",
        )  # fmt: skip

    @activity.defn
    async def raise_exception(self, step: ShipmentStep) -> ShipmentStepResult:
        """Something went wrong after dispatch: ops get a to-do to handle it."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            number = await self._open_exception(rec, order, step)
            await session.commit()
            return ShipmentStepResult(
                opened=rec.opened, mail_ids=rec.mail_ids, exception_number=number
            )

    async def _open_exception(self, rec: StepRecorder, order: Order, step: ShipmentStep) -> int:
        session = rec.session
        number = step.number  # the workflow numbers its exceptions
        known = await session.scalar(
            select(ShipmentException).where(
                ShipmentException.order_id == order.id, ShipmentException.number == number
            )
        )
        if known is None:
            session.add(
                ShipmentException(
                    order_id=order.id,
                    number=number,
                    kind=(step.exception_kind.value if step.exception_kind else "damaged"),
                    description=step.reason,
                    raised_by_id=step.actor_id,
                    raised_at=rec.now,
                )
            )
        key = f"{step.workflow_id}/exception/{number}"
        await rec.add_event(
            key=key, order=order, kind="exception_raised", actor_id=step.actor_id,
            exception=step.exception_kind.value if step.exception_kind else None,
            description=step.reason,
        )  # fmt: skip
        await rec.open_todo(
            key=key,
            order=order,
            workflow_id=step.workflow_id,
            kind=TodoKind.handle_exception,
            assignees=OPS,
            due_in=timedelta(days=1),
            requested_by_id=step.actor_id,
            facts={"number": number, "description": step.reason},
        )
        return number

    @activity.defn
    async def resolve_exception(self, step: ShipmentStep) -> ShipmentStepResult:
        """Ops resolved an exception. Where goods go again, a new dispatch round: stock is
        reserved again and the warehouse asked to ship; otherwise service checks again when
        the exception came from a defect at acceptance."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id)
            rec = self._recorder(session)
            assert step.todo_key is not None  # ops' handle_exception to-do
            await rec.close_todo(step.todo_key, outcome="resolved", by_user_id=step.actor_id)
            row = await session.scalar(
                select(ShipmentException).where(
                    ShipmentException.order_id == order.id,
                    ShipmentException.number == step.number,
                )
            )
            if row is not None and row.resolved_at is None:
                row.resolution = step.reason
                row.reship = step.reship
                row.resolved_by_id = step.actor_id
                row.resolved_at = rec.now
            await rec.add_event(
                key=f"{step.todo_key}/done", order=order, kind="exception_resolved",
                actor_id=step.actor_id, resolution=step.reason, reship=step.reship,
            )  # fmt: skip
            if step.reship:
                await self._reserve(session, order, round_=step.dispatch_round, rec=rec)
                await self._ask_dispatch(rec, order, step.workflow_id, round_=step.dispatch_round)
            elif step.open_acceptance:
                rec.set_stage(order, Stage.acceptance)
                await rec.open_todo(
                    key=f"{step.workflow_id}/acceptance/recheck/{step.number}",
                    order=order,
                    workflow_id=step.workflow_id,
                    kind=TodoKind.confirm_acceptance,
                    assignees=[Assignee(role=Role.service)],
                    due_in=timedelta(days=3),
                )
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    async def _reserve(
        self, session: AsyncSession, order: Order, *, round_: int, rec: StepRecorder
    ) -> None:
        """Set each line's quantity aside for a dispatch round (once per line and round)."""
        known = set(
            await session.scalars(
                select(StockReservation.order_line_id).where(
                    StockReservation.round == round_,
                    StockReservation.order_line_id.in_([ln.id for ln in order.lines]),
                )
            )
        )
        for line in order.lines:
            if line.id in known:
                continue
            session.add(
                StockReservation(
                    order_line_id=line.id,
                    round=round_,
                    product_id=line.product_id,
                    quantity=line.quantity,
                    reserved_at=rec.now,
                )
            )
            await session.execute(
                update(Product)
                .where(Product.id == line.product_id)
                .values(reserved=Product.reserved + line.quantity)
            )

    async def _record_milestones(
        self, session: AsyncSession, order: Order, step: ShipmentStep, *, by_id: int | None
    ) -> None:
        """Set the actual dates the step carries (a milestone keeps its first actual date)."""
        rows = await _milestones(session, order)
        for done in step.milestones:
            row = rows.get(done.code.value)
            if row is not None and done.actual_date is not None and row.actual_on is None:
                row.actual_on = done.actual_date
                row.confirmed_by_id = by_id

    async def _close_late_todos(
        self, rec: StepRecorder, step: ShipmentStep, outcome: str = "done"
    ) -> None:
        assert step.code is not None  # confirm_milestone and replan_milestone name it
        prefix = f"{step.workflow_id}/late/{step.code.value}/"
        todos = list(
            await rec.session.scalars(
                select(Todo).where(
                    Todo.key.startswith(prefix, autoescape=True), Todo.status == "open"
                )
            )
        )
        if outcome == "cancelled":
            await rec.cancel_todos(todos)
            return
        for todo in todos:
            await rec.close_todo(todo.key, outcome="done", by_user_id=step.actor_id)

    async def _still_delayed(self, session: AsyncSession, order: Order) -> bool:
        late = await session.scalar(
            select(func.count())
            .select_from(Milestone)
            .where(
                Milestone.order_id == order.id,
                Milestone.late_since.is_not(None),
                Milestone.actual_on.is_(None),
            )
        )
        order.delayed = bool(late)
        return order.delayed


async def _milestones(session: AsyncSession, order: Order) -> dict[str, Milestone]:
    rows = await session.scalars(select(Milestone).where(Milestone.order_id == order.id))
    return {m.code: m for m in rows}
