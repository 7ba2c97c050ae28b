"""The warehouse's dispatch: stock leaves, owner and contacts told, arrival awaited."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.contact_mail import contacts_of, tell_contact, tell_contacts
from activities.shipments.dispatch_parts import left_in_round, rest_reserved, split_rest
from activities.shipments.records import OPS, ask_dispatch, record_milestones
from activities.steps import Fresh, StepRecorder
from activities.store import StepStore
from models.domain import (
    MilestoneCode,
    MilestoneState,
    RecordDispatch,
    ShipmentStepResult,
    TodoKind,
)
from models.links import ContactLinks
from models.tables import Contact, Dispatch, Order, OrderLine, Product, StockReservation
from notifications.contact_words import ContactWords


class DispatchActivities:
    def __init__(self, store: StepStore, *, contact_links: ContactLinks | None = None) -> None:
        self.store = store
        self.contact_links = contact_links

    @activity.defn
    async def dispatch(self, step: RecordDispatch) -> ShipmentStepResult:
        """The warehouse hands the goods to the carrier: the round's reserved stock leaves (on
        hand and reserved both drop, never below zero), the owner and the customer's contacts
        are told, with the tracking number, and ops wait for the arrival. Refused, changing
        nothing, when the stock is not there."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            known = await session.scalar(
                select(Dispatch).where(
                    Dispatch.order_id == order.id, Dispatch.round == step.dispatch_round
                )
            )
            if known is None:
                problem = await _split_and_take(rec, order, step)
                if problem is not None:
                    return ShipmentStepResult(problem=problem)
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
            partial = await rest_reserved(rec, order, step.rest_round)
            await rec.close_todo(step.todo_key, outcome="dispatched", by_user_id=step.actor_id)
            await record_milestones(session, order, _done(step, partial), by_id=step.actor_id)
            if partial:  # the rest waits for the warehouse in its own round
                await ask_dispatch(rec, order, step.workflow_id, round_=step.rest_round)
                await self._tell_part(rec, order, step)
            else:
                order.shipment_status = "in_transit"
                await self._tell(rec, order, step)
                await rec.open_todo(
                    key=f"{step.workflow_id}/arrival/{step.dispatch_round}",
                    order=order,
                    workflow_id=step.workflow_id,
                    kind=TodoKind.confirm_arrival,
                    assignees=OPS,
                    due_in=None,
                )
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids, partial=partial)

    async def _tell_part(self, rec: StepRecorder, order: Order, step: RecordDispatch) -> None:
        """Part of the round left: the timeline (what left, where the rest waits), the owner
        and the customer's contacts learn it; the arrival link comes once everything left."""
        left = await left_in_round(rec, order, step.dispatch_round)
        await rec.add_event(
            key=f"{step.todo_key}/done", order=order, kind="dispatched_in_part",
            actor_id=step.actor_id, carrier=step.carrier, tracking_number=step.tracking_number,
            round=step.dispatch_round, lines=left, rest_round=step.rest_round,
            dispatched_on=step.actual_date,
        )  # fmt: skip
        told = f"carrier {step.carrier}, tracking number {step.tracking_number}: {left}"
        await rec.notify(
            key=f"{step.todo_key}/done", users=[order.owner], order=order,
            event="dispatched_in_part", comment=told,
        )  # fmt: skip
        await tell_contacts(
            rec, order, key=f"{step.todo_key}/done/contact", event="dispatched_in_part",
            values=lambda words: {
                "carrier": step.carrier, "tracking_number": step.tracking_number,
                "dispatched_on": words.date(step.actual_date or rec.now.date()), "lines": left,
            },
        )  # fmt: skip

    async def _tell(self, rec: StepRecorder, order: Order, step: RecordDispatch) -> None:
        """The timeline, the owner and the customer's contacts learn the carrier and tracking
        number; each contact's mail carries their own link to confirm the arrival."""
        await rec.add_event(
            key=f"{step.todo_key}/done",
            order=order,
            kind="dispatched",
            actor_id=step.actor_id,
            carrier=step.carrier,
            tracking_number=step.tracking_number,
            round=step.dispatch_round,
            lines=await left_in_round(rec, order, step.dispatch_round),
        )
        told = f"carrier {step.carrier}, tracking number {step.tracking_number}"
        await rec.notify(
            key=f"{step.todo_key}/done", users=[order.owner], order=order, event="dispatched",
            comment=told,
        )  # fmt: skip
        for contact in await contacts_of(rec.session, order):
            told_key = f"{step.todo_key}/done/contact/{contact.id}"  # as it always was
            await tell_contact(
                rec, order, contact, key=f"{told_key}/mail/{contact.id}", event="dispatched",
                values=lambda words: {
                    "carrier": step.carrier, "tracking_number": step.tracking_number,
                    "dispatched_on": words.date(step.actual_date or rec.now.date()),
                },
                fresh=self._arrival_link(rec, order, contact, step),
            )  # fmt: skip

    def _arrival_link(
        self, rec: StepRecorder, order: Order, contact: Contact, step: RecordDispatch
    ) -> Callable[[ContactWords], Fresh] | None:
        """The contact's own link to confirm the arrival, issued only for a mail not queued
        yet (a retried step finds the mail and issues none)."""
        links = self.contact_links
        if links is None:
            return None

        def fresh(words: ContactWords) -> Fresh:
            async def arrival_link() -> dict[str, Any]:
                token = await links.issue(
                    rec.session, order_id=order.id, contact_id=contact.id,
                    dispatch_round=step.dispatch_round, now=rec.now,
                )  # fmt: skip
                until = rec.now + links.lifetime  # written by queue_mail, in the company's zone
                return {"arrival_link": f"{rec.base_url}/arrival/{token}", "arrival_until": until}

            return arrival_link

        return fresh


def _done(step: RecordDispatch, partial: bool) -> list[MilestoneState]:
    """The milestones the dispatch confirms: picking and dispatch once everything left, only
    picking while a rest waits."""
    if not partial:
        return step.milestones
    return [m for m in step.milestones if m.code == MilestoneCode.picking]


async def _split_and_take(rec: StepRecorder, order: Order, step: RecordDispatch) -> str | None:
    """A partial dispatch first reserves its rest in the next round; then what stays in the
    round leaves. A problem rolls the whole step back."""
    if step.lines is not None and (problem := await split_rest(rec, order, step)):
        await rec.session.rollback()
        return problem
    return await _take_stock(rec, order, step.dispatch_round)


async def _take_stock(rec: StepRecorder, order: Order, round_: int) -> str | None:
    """The round's reserved stock leaves: on hand and reserved both drop. When a product's stock
    is not there, the whole step is rolled back and the problem returned."""
    session = rec.session
    reservations = await session.scalars(
        select(StockReservation).where(
            StockReservation.round == round_,
            StockReservation.order_line_id.in_(
                select(OrderLine.id).where(OrderLine.order_id == order.id)
            ),
        )
    )
    for reservation in list(reservations):
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
            return await _short(session, product_id, wanted)
        reservation.taken_at = rec.now
    return None


async def _short(session: AsyncSession, product_id: int, wanted: Decimal) -> str:
    """Why the dispatch is refused: the product, what the order reserved, what is on hand."""
    code, on_hand = (
        await session.execute(
            select(Product.code, Product.stock_on_hand).where(Product.id == product_id)
        )
    ).one()
    return (
        f"Not enough {code} to dispatch: {wanted.normalize():f} "
        f"reserved for this order, {on_hand.normalize():f} on hand."
    )
