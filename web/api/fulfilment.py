"""Fulfilment in the JSON API: shipment exceptions, milestones, the deposit hold and the
warehouse's queue."""

from __future__ import annotations

from enum import StrEnum

from fastapi import APIRouter

from web.api import ApiRoute, IdempotencyKey, refused
from web.commands import fulfilment as fulfilment_commands
from web.commands.actions import Refused
from web.commands.fulfilment import (
    ExceptionRequest,
    HoldReleaseRequest,
    MilestoneDone,
    MilestoneNewDate,
    shipment_queue,
)
from web.deps import ApiUser, ScopedOrder, SessionDep, TemporalClient
from web.schemas import ShipmentActionOut, ShipmentQueueItemOut, errors
from web.views import queue_item_out

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


@router.post(
    "/orders/{number}/exceptions",
    status_code=202,
    response_model=ShipmentActionOut,
    responses=errors(403, 409),
    tags=["fulfilment"],
)
async def raise_exception(
    order: ScopedOrder,
    report: ExceptionRequest,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
    idempotency_key: IdempotencyKey = None,
) -> ShipmentActionOut:
    """Report something wrong after dispatch: `kind` (damaged, missing_parts, replacement,
    reshipment) and `description`; ops get a to-do to handle it. For ops, service and the
    order's owner; 409 before dispatch."""
    try:
        done = await fulfilment_commands.raise_exception(
            session=session,
            user=user,
            order=order,
            report=report,
            client=client,
            idempotency_key=idempotency_key,
        )
    except Refused as error:
        raise refused(error) from error
    return ShipmentActionOut(number=order.number, stage=done.stage.value)


@router.post(
    "/orders/{number}/milestones/{code}/confirm",
    response_model=ShipmentActionOut,
    responses=errors(403, 409),
    tags=["fulfilment"],
)
async def confirm_milestone(
    order: ScopedOrder,
    code: str,
    done: MilestoneDone,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> ShipmentActionOut:
    """Ops confirm a milestone with its `actual_date` (dispatch and arrival are confirmed
    with their own to-dos)."""
    try:
        result = await fulfilment_commands.confirm_milestone(
            session=session, user=user, order=order, code=code, done=done, client=client
        )
    except Refused as error:
        raise refused(error) from error
    return ShipmentActionOut(number=order.number, stage=result.stage.value)


@router.post(
    "/orders/{number}/milestones/{code}/replan",
    response_model=ShipmentActionOut,
    responses=errors(403, 409),
    tags=["fulfilment"],
)
async def replan_milestone(
    order: ScopedOrder,
    code: str,
    replan: MilestoneNewDate,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> ShipmentActionOut:
    """Ops move a milestone not yet done to a new `planned_date`, with a `reason`."""
    try:
        result = await fulfilment_commands.replan_milestone(
            session=session, user=user, order=order, code=code, replan=replan, client=client
        )
    except Refused as error:
        raise refused(error) from error
    return ShipmentActionOut(number=order.number, stage=result.stage.value)


@router.post(
    "/orders/{number}/release-hold",
    response_model=ShipmentActionOut,
    responses=errors(403, 409),
    tags=["fulfilment"],
)
async def release_hold(
    order: ScopedOrder,
    release: HoldReleaseRequest,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> ShipmentActionOut:
    """Ops let a shipment held for its deposit go to the warehouse, with a `reason`."""
    try:
        result = await fulfilment_commands.release_hold(
            session=session, user=user, order=order, release=release, client=client
        )
    except Refused as error:
        raise refused(error) from error
    return ShipmentActionOut(number=order.number, stage=result.stage.value)


class QueueStatus(StrEnum):
    awaiting = "awaiting"
    held = "held"


@router.get(
    "/shipments",
    response_model=list[ShipmentQueueItemOut],
    responses=errors(403),
    tags=["fulfilment"],
)
async def shipments(
    user: ApiUser, session: SessionDep, status: QueueStatus | None = None
) -> list[ShipmentQueueItemOut]:
    """The "awaiting shipment" queue: orders ready for dispatch (`awaiting`, each with its
    `confirm_dispatch` to-do) and those held for their deposit (`held`); both without a
    status. For the warehouse, ops, ops_manager and director."""
    try:
        items = await shipment_queue(
            session=session, user=user, status=status.value if status else None
        )
    except Refused as error:
        raise refused(error) from error
    return [queue_item_out(item) for item in items]
