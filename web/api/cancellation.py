"""Cancelling an order in the JSON API: at once before confirmation, asked for (and approved by
the owner's department manager) after it."""

from __future__ import annotations

from fastapi import APIRouter

from web.api import ApiRoute, refused
from web.commands import cancellation as cancellation_commands
from web.commands.actions import Refused
from web.commands.cancellation import CancelForm
from web.deps import ApiUser, ScopedOrder, SessionDep, TemporalClient
from web.schemas import errors
from web.schemas.cancellation import CancellationActionOut

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


@router.post(
    "/orders/{number}/cancel",
    status_code=202,
    response_model=CancellationActionOut,
    responses=errors(403, 409),
    tags=["orders"],
)
async def cancel_order(
    order: ScopedOrder,
    form: CancelForm,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> CancellationActionOut:
    """The owner or a manager of the owner's department tree cancels the order: `reason_code`
    (customer_request, duplicate, credit, stock, price, other) and `reason`, both required
    (422 without). Before confirmation it is cancelled at once (`stage` cancelled); after it
    the owner's department manager gets an `approve_cancellation` to-do (`todo_key`). 403 for
    anyone else; 409 when it is cancelled already, a cancellation waits for approval, it is
    closed, or its goods have left (they come back through a return first)."""
    try:
        done = await cancellation_commands.cancel_order(
            session=session, user=user, order=order, form=form, client=client
        )
    except Refused as error:
        raise refused(error) from error
    return CancellationActionOut(
        number=order.number, stage=done.stage.value, todo_key=done.todo_key
    )
