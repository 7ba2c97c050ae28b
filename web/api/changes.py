"""Change requests in the JSON API: asked for by the owner or a manager above them, approved
like an order (approve_change to-dos), withdrawn by whoever asked."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from models.domain.changes import ChangeRequested
from models.tables import Order, OrderChangeRequest
from web.api import ApiRoute, refused
from web.commands import changes as change_commands
from web.commands.actions import Refused
from web.commands.changes import ChangeRequestForm
from web.deps import ApiUser, ScopedOrder, SessionDep, TemporalClient
from web.schemas import errors
from web.schemas.changes import ChangeRequestActionOut

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


@router.post(
    "/orders/{number}/change-requests",
    status_code=202,
    response_model=ChangeRequestActionOut,
    responses=errors(403, 409),
    tags=["orders"],
)
async def request_change(
    order: ScopedOrder,
    form: ChangeRequestForm,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> ChangeRequestActionOut:
    """The owner or a manager of the owner's department tree asks to change a submitted order
    (before its cost review): `reason` (required) and any of `lines` (an existing line by
    `line_id`, a new one by `product_id`, each with `quantity`, optional `unit_price` and
    `discount_percent`; a line left out is removed), `order_discount_percent` or
    `target_total`, `requested_delivery_date`, `payment_plan` (of what is not paid yet). The
    policy routes its approval on the order as changed (approve_change to-dos); approved, it
    becomes the order's next revision. 403 for anyone else; 409 on a draft, an order being
    revised, in cost review, closed or cancelled, or while another request is open; 422 for a
    change that changes nothing, has no reason, or would go below what was dispatched,
    invoiced or paid."""
    try:
        done = await change_commands.request_change(
            session=session, user=user, order=order, form=form, client=client
        )
    except Refused as error:
        raise refused(error) from error
    return await _answer(session, order, done)


@router.post(
    "/orders/{number}/change-requests/{change_request_id}/withdraw",
    status_code=202,
    response_model=ChangeRequestActionOut,
    responses=errors(403, 404, 409),
    tags=["orders"],
)
async def withdraw_change(
    order: ScopedOrder,
    change_request_id: int,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> ChangeRequestActionOut:
    """Whoever asked withdraws their open change request (its approval round ends, the order
    stays as it was). 403 for anyone else; 409 once it is decided."""
    try:
        done = await change_commands.withdraw_change(
            session=session,
            user=user,
            order=order,
            request_id=change_request_id,
            client=client,
        )
    except Refused as error:
        raise refused(error) from error
    return await _answer(session, order, done)


async def _answer(
    session: SessionDep, order: Order, done: ChangeRequested
) -> ChangeRequestActionOut:
    request_id = await session.scalar(
        select(OrderChangeRequest.id).where(
            OrderChangeRequest.order_id == order.id, OrderChangeRequest.number == done.number
        )
    )
    return ChangeRequestActionOut(
        number=order.number,
        change_request_id=request_id or 0,
        change_request_number=done.number,
        status=done.status,
        stage=done.stage.value,
    )
