"""What people do to an order's shipment outside their to-dos: ops confirm and re-plan
milestones and release a held shipment, operations, service or the owner raise an exception,
and the warehouse works the "awaiting shipment" queue; and the checks of milestones and their
dates that the fulfilment to-dos share."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from models.dates import done_date_refusal, planned_date_refusal
from models.domain import (
    MILESTONES,
    RAISABLE_EXCEPTIONS,
    ExceptionKind,
    ExceptionReport,
    HoldRelease,
    MilestoneCode,
    MilestoneConfirmation,
    MilestoneReplan,
    PlannedMilestone,
    Refusal,
    Role,
    ShippingMode,
    TodoDone,
)
from models.queries import (
    AWAITING_DISPATCH,
    HELD,
    QueueItem,
    actor_for,
    awaiting_shipment,
    milestone_of,
    milestones,
    was_dispatched,
)
from models.tables import Order, User
from web.commands.actions import Refused, action_id, refuse, send_action, send_update
from web.temporal import workflow_id
from workflows.shipment import ShipmentWorkflow

# Who confirms and re-plans milestones and releases a held shipment.
SHIPMENT_ROLES = frozenset({Role.ops, Role.ops_manager})
# Who raises an exception after dispatch, besides the order's owner.
EXCEPTION_ROLES = frozenset({Role.ops, Role.ops_manager, Role.service})
# Who works (or watches) the "awaiting shipment" queue.
SHIPMENT_QUEUE_ROLES = frozenset({Role.warehouse, Role.ops, Role.ops_manager, Role.director})
# Once the customer has accepted, a problem is no longer a shipment exception.
ACCEPTED = "accepted"
# Milestones confirmed their own way: dispatch by the warehouse, arrival with its to-do.
OWN_CONFIRMATION = frozenset({MilestoneCode.dispatch, MilestoneCode.arrival})
QUEUE_STATUSES = {"awaiting": (AWAITING_DISPATCH,), "held": (HELD,)}


class MilestoneDate(BaseModel):
    """A milestone's planned date in a plan_shipment completion. Both fields may be left out
    here so that the refusal can say which milestone lacks what."""

    code: str = ""
    planned_date: date | None = None


class ExceptionRequest(BaseModel):
    """The body of POST /api/v1/orders/{number}/exceptions."""

    kind: str = ""
    description: str = ""


class MilestoneDone(BaseModel):
    """The body of POST /api/v1/orders/{number}/milestones/{code}/confirm."""

    actual_date: date | None = None


class MilestoneNewDate(BaseModel):
    """The body of POST /api/v1/orders/{number}/milestones/{code}/replan."""

    planned_date: date | None = None
    reason: str = ""


class HoldReleaseRequest(BaseModel):
    """The body of POST /api/v1/orders/{number}/release-hold."""

    reason: str = ""


def shipment_workflow_id(order_number: str) -> str:
    return f"{workflow_id(order_number)}/shipment"


# -- milestones and their dates ------------------------------------------------------------------


def utc_today() -> date:
    return datetime.now(UTC).date()


def refuse_date(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise Refused.of(422, refusal)


def refuse_done_date(value: date, *, milestone: str, field: str = "actual_date") -> None:
    """A day something was done: not absurdly far back. Whether it is in the future is the
    workflow's to say, on the engine's clock."""
    refuse_date(
        done_date_refusal(value, milestone=milestone, today=max(value, utc_today()), field=field)
    )


def milestone_codes(order: Order) -> tuple[MilestoneCode, ...]:
    """The milestones of the order's shipping mode, in the order they happen."""
    return MILESTONES[ShippingMode(order.shipping_mode)]


def order_milestone(order: Order, raw: str) -> MilestoneCode:
    """The milestone named by `raw`, if the order's shipping mode has it (422 otherwise)."""
    try:
        code = MilestoneCode(raw.strip())
    except ValueError as error:
        raise Refused(422, "There is no milestone %(code)s.", code=raw) from error
    if code not in milestone_codes(order):
        raise Refused(
            422, "Order %(number)s has no milestone %(code)s.", number=order.number, code=code
        )
    return code


def confirmable_milestone(order: Order, raw: str) -> MilestoneCode:
    """A milestone that ops confirm themselves: not dispatch (the warehouse confirms it) nor
    arrival (its own to-do, or the customer's link)."""
    code = order_milestone(order, raw)
    refuse(MilestoneConfirmation.confirmed_its_own_way(code))
    return code


def planned_milestones(order: Order, given: list[MilestoneDate]) -> list[PlannedMilestone]:
    """Every milestone of the order's shipping mode with its planned date, in their order."""
    dates: dict[MilestoneCode, date] = {}
    for milestone in given:
        code = order_milestone(order, milestone.code)
        if code in dates:
            raise Refused(422, "Milestone %(code)s is given twice.", code=code)
        if milestone.planned_date is None:
            raise Refused(422, "Give a planned date for milestone %(code)s.", code=code)
        refuse_date(planned_date_refusal(milestone.planned_date, milestone=code, today=utc_today()))
        dates[code] = milestone.planned_date
    for code in milestone_codes(order):
        if code not in dates:
            raise Refused(422, "Give a planned date for milestone %(code)s.", code=code)
    return [PlannedMilestone(code=c, planned_date=dates[c]) for c in milestone_codes(order)]


# -- ops steer the shipment ----------------------------------------------------------------------


def may_raise_exception(user: User, order: Order) -> bool:
    return Role(user.role) in EXCEPTION_ROLES or order.owner_id == user.id


def may_steer_shipment(user: User) -> bool:
    """Confirm and re-plan milestones, release a held shipment: operations."""
    return Role(user.role) in SHIPMENT_ROLES


def require_shipment(order: Order) -> None:
    if order.shipment_status is None:
        raise Refused(409, "Order %(number)s has no shipment yet.", number=order.number)


def require_steering(user: User, refusal: str) -> None:
    if not may_steer_shipment(user):
        raise Refused(403, refusal)


def shipment_gone(order: Order) -> Refused:
    return Refused(409, "The shipment of order %(number)s is not running.", number=order.number)


def exception_kind(raw: str) -> ExceptionKind:
    """The kind of exception a person names (422 unless it is one they may raise)."""
    try:
        kind = ExceptionKind(raw.strip())
        if kind not in RAISABLE_EXCEPTIONS:
            raise ValueError(kind)
    except ValueError as error:
        allowed = ", ".join(k.value for k in RAISABLE_EXCEPTIONS)
        raise Refused(422, "The kind must be one of: %(allowed)s.", allowed=allowed) from error
    return kind


async def raise_exception(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    report: ExceptionRequest,
    client: Client,
    idempotency_key: str | None = None,
) -> TodoDone:
    """Something is wrong after dispatch (damaged, missing parts, replacement, reshipment):
    the shipment opens a to-do for ops to handle it. The same report sent again (same fields
    and idempotency key) is the same exception."""
    if not may_raise_exception(user, order):
        raise Refused(403, "Exceptions are raised by operations, service or the order's owner.")
    require_shipment(order)
    if order.shipment_status == ACCEPTED:
        raise Refused(409, "The customer has accepted the order.")
    if not await was_dispatched(session=session, order=order):
        raise Refused(409, "Nothing has been dispatched yet.")
    kind = exception_kind(report.kind)
    actor = await actor_for(session=session, user=user)
    report_in = ExceptionReport(actor=actor, kind=kind, description=report.description.strip())
    refuse(report_in.refusal())
    return await send_update(
        client,
        shipment_workflow_id(order.number),
        ShipmentWorkflow.raise_exception,
        report_in,
        gone=shipment_gone(order),
        update_id=action_id("raise_exception", report_in, idempotency_key),
    )


async def open_milestone(*, session: AsyncSession, order: Order, code: MilestoneCode) -> None:
    """409 unless the milestone is planned and not done yet."""
    milestone = await milestone_of(session=session, order=order, code=code.value)
    if milestone is None:
        raise Refused(409, "The shipment is not planned yet.")
    if milestone.actual_on is not None:
        raise Refused(409, "Milestone %(code)s is already done.", code=code)


async def out_of_turn(
    *, session: AsyncSession, order: Order, code: MilestoneCode
) -> Refused | None:
    """409 naming the first earlier milestone of the order's shipping mode not done yet: they
    are confirmed in the order they happen (the workflow's validator says the same)."""
    done = [
        MilestoneCode(m.code)
        for m in await milestones(session=session, order=order)
        if m.actual_on is not None
    ]
    refusal = MilestoneConfirmation.out_of_turn(
        code, mode=ShippingMode(order.shipping_mode), done=done
    )
    return None if refusal is None else Refused.of(409, refusal)


async def confirm_milestone(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    code: str,
    done: MilestoneDone,
    client: Client,
) -> TodoDone:
    """Ops confirm a milestone from the order page (not dispatch, not arrival)."""
    require_steering(user, "Only business operations confirm milestones.")
    require_shipment(order)
    milestone = confirmable_milestone(order, code)
    if done.actual_date is None:
        raise Refused(422, "Give the date the milestone was done.")
    refuse_done_date(done.actual_date, milestone=milestone)
    actor = await actor_for(session=session, user=user)
    confirmation = MilestoneConfirmation(actor=actor, code=milestone, actual_date=done.actual_date)
    refusal = None
    try:
        await open_milestone(session=session, order=order, code=milestone)
    except Refused as already:  # perhaps by this very confirmation, sent again
        refusal = already
    refusal = refusal or await out_of_turn(session=session, order=order, code=milestone)
    return await send_action(
        client,
        shipment_workflow_id(order.number),
        ShipmentWorkflow.confirm_milestone,
        confirmation,
        update_id=action_id("confirm_milestone", confirmation),
        gone=shipment_gone(order),
        refusal=refusal,
    )


async def replan_milestone(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    code: str,
    replan: MilestoneNewDate,
    client: Client,
) -> TodoDone:
    """Ops move a milestone not yet done to a new planned date, saying why."""
    require_steering(user, "Only business operations re-plan milestones.")
    require_shipment(order)
    milestone = order_milestone(order, code)
    if replan.planned_date is None:
        raise Refused(422, "Give the new planned date.")
    refuse_date(planned_date_refusal(replan.planned_date, milestone=milestone, today=utc_today()))
    actor = await actor_for(session=session, user=user)
    new_date = MilestoneReplan(
        actor=actor, code=milestone, planned_date=replan.planned_date, reason=replan.reason.strip()
    )
    refuse(new_date.refusal())
    await open_milestone(session=session, order=order, code=milestone)
    return await send_update(
        client,
        shipment_workflow_id(order.number),
        ShipmentWorkflow.replan_milestone,
        new_date,
        gone=shipment_gone(order),
        update_id=action_id("replan_milestone", new_date),
    )


async def release_hold(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    release: HoldReleaseRequest,
    client: Client,
) -> TodoDone:
    """Ops let a shipment held for its deposit go ahead, saying why."""
    require_steering(user, "Only business operations release a hold.")
    require_shipment(order)
    actor = await actor_for(session=session, user=user)
    hold_release = HoldRelease(actor=actor, reason=release.reason.strip())
    refuse(hold_release.refusal())
    return await send_action(
        client,
        shipment_workflow_id(order.number),
        ShipmentWorkflow.release_hold,
        hold_release,
        update_id=action_id("release_hold", hold_release),
        gone=shipment_gone(order),
        # released: perhaps by this very release, sent again
        refusal=Refused(409, "This shipment is not held.")
        if order.shipment_status != HELD
        else None,
    )


def may_see_shipment_queue(user: User) -> bool:
    return Role(user.role) in SHIPMENT_QUEUE_ROLES


async def shipment_queue(
    *, session: AsyncSession, user: User, status: str | None = None
) -> list[QueueItem]:
    """The "awaiting shipment" queue: `awaiting` (ready for dispatch), `held` (waiting for
    the deposit), or both (any other status)."""
    if not may_see_shipment_queue(user):
        raise Refused(403, "The shipment queue is for the warehouse and business operations.")
    statuses = QUEUE_STATUSES.get(status or "", (AWAITING_DISPATCH, HELD))
    return await awaiting_shipment(session=session, user=user, statuses=statuses)
