"""Activities that start a shipment: stock reserved, timetable recorded, hold released."""

from __future__ import annotations

from temporalio import activity

from activities.contact_mail import tell_contacts
from activities.shipments.records import (
    OPS,
    PLAN_SLA,
    ask_dispatch,
    milestones_of,
    reserve,
)
from activities.store import StepStore
from models.domain import (
    RecordPlan,
    ReleaseHold,
    ShipmentStepResult,
    Stage,
    StartShipment,
    TodoKind,
)
from models.tables import Milestone


class ShipmentActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def start_shipment(self, step: StartShipment) -> ShipmentStepResult:
        """Fulfilment begins on confirmation: each line's stock is reserved, the customer's
        contacts are told the order is confirmed, and ops are asked for the timetable."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
            if order.shipment_status is None:
                order.shipment_status = "planning"
                rec.set_stage(order, Stage.fulfilment)
            await reserve(rec, order, round_=1)
            await tell_contacts(
                rec,
                order,
                key=f"{step.workflow_id}/confirmed",
                event="confirmed",
                values=lambda words: {"delivery": words.date(order.requested_delivery_on)},
            )
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
    async def plan_shipment(self, step: RecordPlan) -> ShipmentStepResult:
        """Ops set the milestones' planned dates; the warehouse is asked to dispatch, unless the
        shipment waits for the deposit."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await rec.close_todo(step.todo_key, outcome="planned", by_user_id=step.actor_id)
            known = await milestones_of(session, order)
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
                await ask_dispatch(rec, order, step.workflow_id, round_=1)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @activity.defn
    async def release_hold(self, step: ReleaseHold) -> ShipmentStepResult:
        """The deposit is paid, or ops release the hold with a reason: the warehouse may ship."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            order.hold_released_reason = step.reason
            await rec.add_event(
                key=step.step_key,
                order=order,
                kind="hold_released",
                actor_id=step.actor_id,
                reason=step.reason,
            )
            if step.open_dispatch:
                await ask_dispatch(rec, order, step.workflow_id, round_=1)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids)
