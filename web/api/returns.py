"""Returns in the JSON API: goods asked back after dispatch by the owner (or a manager above
them), ops or service; approved in an approve_return to-do, received by the warehouse in a
receive_return to-do (POST /api/v1/todos/{id}/complete)."""

from __future__ import annotations

from fastapi import APIRouter

from web.api import ApiRoute, IdempotencyKey, refused
from web.commands import returns as return_commands
from web.commands.actions import Refused
from web.deps import ApiUser, ScopedOrder, SessionDep, TemporalClient
from web.schemas import errors
from web.schemas.returns import ReturnActionOut, ReturnRequestIn

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


@router.post(
    "/orders/{number}/returns",
    status_code=202,
    response_model=ReturnActionOut,
    responses=errors(403, 409),
    tags=["orders"],
)
async def request_return(
    order: ScopedOrder,
    form: ReturnRequestIn,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
    idempotency_key: IdempotencyKey = None,
) -> ReturnActionOut:
    """The owner, a manager of the owner's department tree, ops or service ask for goods to
    come back: `lines` [`line_id`, `quantity`] (at most what was dispatched less what came
    back or is asked for in an open return) and `reason`. The owner's department manager gets
    an `approve_return` to-do; approved, the warehouse a `receive_return`. 202 with the
    return's `return_number`. 403 for anyone else; 409 before dispatch, in the cost review,
    closed or cancelled; 422 without lines or a reason, a quantity of zero or less, a line
    twice, or more than can come back."""
    try:
        done = await return_commands.request_return(
            session=session,
            user=user,
            order=order,
            form=form,
            client=client,
            idempotency_key=idempotency_key,
        )
    except Refused as error:
        raise refused(error) from error
    return ReturnActionOut(
        number=order.number, return_number=done.number, status=done.status, stage=done.stage.value
    )
