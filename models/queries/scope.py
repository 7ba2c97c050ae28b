"""Whose orders a user sees: departments managed, the actor, the WHERE clause of their scope."""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import (
    COST_VIEWERS,
    Actor,
    Role,
    Stage,
)
from models.tables import (
    Department,
    Order,
    User,
)

# Roles that see every order once it has been submitted.
SUBMITTED_ORDER_ROLES = frozenset({Role.pricing, Role.finance, Role.ops, Role.ops_manager})
# Roles that see an order once it is confirmed (it reached their stage).
CONFIRMED_ORDER_ROLES = frozenset({Role.warehouse, Role.service})
AFTER_CONFIRMATION = [
    s.value
    for s in (
        Stage.confirmed,
        Stage.fulfilment,
        Stage.acceptance,
        Stage.collection,
        Stage.cost_review,
        Stage.closed,
    )
]


async def managed_department_ids(*, session: AsyncSession, user: User) -> list[int]:
    return list(
        await session.scalars(select(Department.id).where(Department.manager_id == user.id))
    )


async def actor_for(*, session: AsyncSession, user: User) -> Actor:
    """The user as an actor; kept for the session (one request), which asks for it repeatedly."""
    actors: dict[int, Actor] = session.info.setdefault("actors", {})
    if user.id not in actors:
        actors[user.id] = Actor(
            user_id=user.id,
            role=Role(user.role),
            managed_department_ids=await managed_department_ids(session=session, user=user),
        )
    return actors[user.id]


async def department_subtree(*, session: AsyncSession, roots: list[int]) -> list[int]:
    """The given departments and every department below them."""
    found = set(roots)
    frontier = set(roots)
    while frontier:
        children = set(
            await session.scalars(select(Department.id).where(Department.parent_id.in_(frontier)))
        )
        frontier = children - found
        found |= children
    return sorted(found)


async def order_scope(*, session: AsyncSession, user: User) -> ColumnElement[bool]:
    """The orders this user may see, as a WHERE clause (DESIGN: the people and their scope)."""
    role = Role(user.role)
    if role in (Role.director, Role.admin):
        return true()
    if role == Role.sales:
        return Order.owner_id == user.id
    if role == Role.follower:
        return Order.department_id == user.department_id
    if role == Role.sales_manager:
        managed = await managed_department_ids(session=session, user=user)
        tree = await department_subtree(session=session, roots=[*managed, user.department_id])
        return Order.department_id.in_(tree)
    if role in SUBMITTED_ORDER_ROLES:
        return Order.stage != Stage.draft.value
    if role in CONFIRMED_ORDER_ROLES:
        return Order.stage.in_(AFTER_CONFIRMATION)
    return Order.id.is_(None)


def sees_costs(user: User) -> bool:
    return Role(user.role) in COST_VIEWERS


def may_edit(user: User, order: Order) -> bool:
    """Entering and revising orders is their owner's (followers edit only their own)."""
    return order.owner_id == user.id
