"""The administrator's JSON API: orders whose approval no one can decide, routed again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from models.domain import Role
from models.queries import unroutable_orders
from models.tables import User
from web.api import ApiRoute, refused
from web.commands import orders as orders_commands
from web.commands.actions import Refused
from web.deps import ApiUser, ScopedOrder, SessionDep, TemporalClient
from web.schemas import RoutedAgainOut, UnroutableOrderOut, errors
from web.views import unroutable_out

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


async def api_admin(user: ApiUser) -> User:
    if user.role != Role.admin.value:
        raise HTTPException(403, "This is for administrators.")
    return user


ApiAdmin = Annotated[User, Depends(api_admin)]


@router.get(
    "/admin/unroutable",
    response_model=list[UnroutableOrderOut],
    responses=errors(403),
    tags=["admin"],
)
async def unroutable(user: ApiAdmin, session: SessionDep) -> list[UnroutableOrderOut]:
    """Orders whose approval no one can decide, and why, longest waiting first (admin only)."""
    return [unroutable_out(o) for o in await unroutable_orders(session=session, user=user)]


@router.post(
    "/orders/{number}/route-again",
    response_model=RoutedAgainOut,
    responses=errors(403, 409),
    tags=["admin"],
)
async def route_again(
    user: ApiAdmin, order: ScopedOrder, session: SessionDep, client: TemporalClient
) -> RoutedAgainOut:
    """Route an unroutable order's approval again, after fixing the policy or the people
    (admin only; 409 when the order is not unroutable). `unroutable_reason` in the answer is
    set when it still cannot be routed."""
    try:
        order = await orders_commands.route_again(
            session=session, user=user, order=order, client=client
        )
    except Refused as error:
        raise refused(error) from error
    return RoutedAgainOut.model_validate(order)
