"""The shipment's side of an approved change to its order: ops re-plan the timetable (lines or
the delivery date changed before dispatch), and extra quantities after dispatch go in a new
dispatch round for the warehouse."""

from __future__ import annotations

from sqlalchemy import select
from temporalio import activity

from activities.change_terms import move_reserved
from activities.shipments.milestones import _close_late_todos
from activities.shipments.records import OPS, PLAN_SLA, ask_dispatch, milestones_of, still_delayed
from activities.store import StepStore
from models.domain import ExtraDispatch, OpenReplan, RecordPlan, ShipmentStepResult, TodoKind
from models.tables import OrderLine, StockReservation


class ShipmentChangeActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def open_replan(self, step: OpenReplan) -> ShipmentStepResult:
        """Ops get a replan_shipment to-do: the order changed before dispatch, its timetable
        is planned again (the same form as the first plan, with the dates as they are)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await rec.open_todo(
                key=step.todo_key,
                order=order,
                workflow_id=step.workflow_id,
                kind=TodoKind.replan_shipment,
                assignees=OPS,
                due_in=PLAN_SLA,
                facts={"revision": step.revision},
            )
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @activity.defn
    async def replan_shipment(self, step: RecordPlan) -> ShipmentStepResult:
        """Ops planned the changed order again: each milestone not done yet takes its new
        planned date (a late one is late no more, its late to-dos cancelled)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await rec.close_todo(step.todo_key, outcome="planned", by_user_id=step.actor_id)
            known = await milestones_of(session, order)
            for planned in step.milestones:
                row = known.get(planned.code.value)
                if row is None or row.actual_on is not None:
                    continue
                if row.planned_on != planned.planned_date:
                    row.planned_on = planned.planned_date
                    row.late_since = None
                    await _close_late_todos(rec, step.workflow_id, planned.code, cancel=True)
            await rec.add_event(
                key=f"{step.todo_key}/done",
                order=order,
                kind="shipment_replanned",
                actor_id=step.actor_id,
                **{m.code.value: m.planned_date.isoformat() for m in step.milestones},
            )
            delayed = await still_delayed(session, order)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids, delayed=delayed)

    @activity.defn
    async def extra_dispatch(self, step: ExtraDispatch) -> ShipmentStepResult:
        """What an approved change adds after the goods left goes in a new dispatch round: the
        extra quantity of each line is reserved in it, and the warehouse is asked to ship it."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            lines = {
                line.id: line
                for line in await session.scalars(
                    select(OrderLine).where(
                        OrderLine.order_id == order.id, OrderLine.id.in_(step.quantities)
                    )
                )
            }
            known = set(
                await session.scalars(
                    select(StockReservation.order_line_id).where(
                        StockReservation.round == step.dispatch_round,
                        StockReservation.order_line_id.in_(list(lines)),
                    )
                )
            )
            for line_id, quantity in step.quantities.items():
                line = lines.get(line_id)
                if line is None or line_id in known or quantity <= 0:
                    continue
                session.add(
                    StockReservation(
                        order_line_id=line_id, round=step.dispatch_round,
                        product_id=line.product_id, quantity=quantity, reserved_at=rec.now,
                    )
                )  # fmt: skip
                await move_reserved(session, line.product_id, quantity)
            await rec.add_event(
                key=step.step_key, order=order, kind="extra_dispatch_asked", actor_id=None,
                round=step.dispatch_round, revision=step.revision,
            )  # fmt: skip
            await ask_dispatch(rec, order, step.workflow_id, round_=step.dispatch_round)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids)
