"""The administrator's JSON API: orders whose approval no one can decide, routed again; a
customer's contact changed (their language among others)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from models import admin as admin_models
from models.admin import AdminRefusal, ContactChange
from models.domain import Role
from models.queries import unroutable_orders
from models.tables import User
from web.api import ApiRoute, refused
from web.commands import orders as orders_commands
from web.commands.actions import Refused
from web.deps import ApiUser, ScopedOrder, SessionDep, TemporalClient
from web.schemas import (
    ContactOut,
    ContactPatch,
    Id,
    RoutedAgainOut,
    UnroutableOrderOut,
    errors,
)
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


@router.patch(
    "/customers/{customer_id}/contacts/{contact_id}",
    response_model=ContactOut,
    responses=errors(403, 404),
    tags=["admin"],
)
async def change_contact(
    customer_id: Id, contact_id: Id, body: ContactPatch, user: ApiAdmin, session: SessionDep
) -> ContactOut:
    """Change a customer's contact (admin only): any of `name`, `email`, `phone` and
    `language`, the language their mail is written in (`en` or `zh_CN`); a field left out
    keeps its value. 422 with the reason for a field that breaks a rule (an unknown language,
    an e-mail address that is not one), changing nothing; 404 when the customer has no such
    contact."""
    contact = await admin_models.get_contact(
        session=session, customer_id=customer_id, contact_id=contact_id
    )
    if contact is None:
        raise HTTPException(404, "The customer has no such contact.")
    change = ContactChange(
        id=contact.id,
        name=(contact.name if body.name is None else body.name).strip(),
        email=(contact.email if body.email is None else body.email).strip(),
        phone=(contact.phone if body.phone is None else body.phone).strip(),
        language=body.language.strip() if body.language is not None else None,
    )
    try:
        saved = await admin_models.save_contact(session=session, contact=contact, change=change)
    except AdminRefusal as refusal:
        raise refused(Refused.of(422, refusal)) from refusal
    return ContactOut.model_validate(saved)
