"""Activities from arrival to the customer's acceptance, and exceptions after dispatch."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from temporalio import activity

from activities.shipments.milestones import ask_actual_dates
from activities.shipments.records import (
    OPS,
    ask_dispatch,
    record_milestones,
    reserve,
    still_delayed,
)
from activities.steps import StepRecorder
from activities.store import StepStore
from models.domain import (
    Assignee,
    ExceptionKind,
    RaiseException,
    RecordAcceptance,
    RecordArrival,
    ResolveException,
    Role,
    ShipmentStep,
    ShipmentStepResult,
    Stage,
    TodoKind,
)
from models.tables import Order, ShipmentException

ACCEPTANCE_SLA = timedelta(days=3)
SERVICE = [Assignee(role=Role.service)]


class AcceptanceActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def confirm_arrival(self, step: RecordArrival) -> ShipmentStepResult:
        """The goods arrived (ops, or the customer's contact through the dispatch mail). Orders
        with a product that needs installation wait for service's acceptance; the others are
        accepted on arrival and the owner is told to collect what is due."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await rec.close_todo(step.todo_key, outcome="arrived", by_user_id=step.actor_id)
            await record_milestones(session, order, step.milestones, by_id=step.actor_id)
            order.shipment_status = "arrived"
            await rec.add_event(
                key=f"{step.todo_key}/done", order=order, kind="arrived",
                actor_id=step.actor_id, actual=step.actual_date.isoformat(),
                by_customer_contact=step.contact_id,
            )  # fmt: skip
            await ask_actual_dates(
                rec, order, step.workflow_id, step.backfill, arrived_on=step.actual_date
            )
            if step.open_acceptance:
                await _ask_acceptance(rec, order, step, f"acceptance/{step.dispatch_round}")
            else:
                await _accept(rec, order, step, step.actual_date, signed_by="")
            delayed = await still_delayed(session, order)
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids, delayed=delayed)

    @activity.defn
    async def record_acceptance(self, step: RecordAcceptance) -> ShipmentStepResult:
        """Service's verdict: accepted (date, who signed), or a defect that opens an exception."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await rec.close_todo(
                step.todo_key, outcome=step.outcome, by_user_id=step.actor_id, comment=step.reason
            )
            result = ShipmentStepResult()
            if step.outcome == "accepted":
                assert step.actual_date is not None  # an acceptance carries its date
                await _accept(rec, order, step, step.actual_date, signed_by=step.signed_by)
            else:
                result.exception_number = await _open_exception(rec, order, step)
            await session.commit()
            result.opened, result.mail_ids = rec.opened, rec.mail_ids
            return result

    @activity.defn
    async def raise_exception(self, step: RaiseException) -> ShipmentStepResult:
        """Something went wrong after dispatch: ops get a to-do to handle it."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            number = await _open_exception(rec, order, step)
            await session.commit()
            return ShipmentStepResult(
                opened=rec.opened, mail_ids=rec.mail_ids, exception_number=number
            )

    @activity.defn
    async def resolve_exception(self, step: ResolveException) -> ShipmentStepResult:
        """Ops resolved an exception. Where goods go again, a new dispatch round: stock is
        reserved again and the warehouse asked to ship; otherwise service checks again when
        the exception came from a defect at acceptance."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
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
                await reserve(rec, order, round_=step.dispatch_round)
                await ask_dispatch(rec, order, step.workflow_id, round_=step.dispatch_round)
            elif step.open_acceptance:
                await _ask_acceptance(rec, order, step, f"acceptance/recheck/{step.number}")
            await session.commit()
            return ShipmentStepResult(opened=rec.opened, mail_ids=rec.mail_ids)


async def _ask_acceptance(rec: StepRecorder, order: Order, step: ShipmentStep, name: str) -> None:
    """Service get a to-do to confirm the installation and the customer's acceptance."""
    rec.set_stage(order, Stage.acceptance)
    await rec.open_todo(
        key=f"{step.workflow_id}/{name}",
        order=order,
        workflow_id=step.workflow_id,
        kind=TodoKind.confirm_acceptance,
        assignees=SERVICE,
        due_in=ACCEPTANCE_SLA,
    )


async def _accept(
    rec: StepRecorder,
    order: Order,
    step: ShipmentStep,
    on: date,
    *,
    signed_by: str,
) -> None:
    """The customer accepted the goods: the order goes to collection and its owner is told."""
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


async def _open_exception(
    rec: StepRecorder, order: Order, step: RecordAcceptance | RaiseException
) -> int:
    """Record the exception (once per number; the workflow numbers them) and give ops a to-do
    to handle it."""
    session = rec.session
    number = step.number
    known = await session.scalar(
        select(ShipmentException).where(
            ShipmentException.order_id == order.id, ShipmentException.number == number
        )
    )
    kind = step.exception_kind or ExceptionKind.damaged
    if known is None:
        session.add(
            ShipmentException(
                order_id=order.id,
                number=number,
                kind=kind.value,
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
