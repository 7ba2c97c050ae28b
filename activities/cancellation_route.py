"""Who approves a confirmed order's cancellation, or a return, after the manager, by the
approval policy in force when it is asked for."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import Assignee, CancellationStep, Role
from models.policy import current_policy
from models.tables import Department, Order, User
from workflows.rules.cancellation import director_step, needs_director


async def directors_after_manager(
    session: AsyncSession, order: Order, step: CancellationStep
) -> list[Assignee]:
    """The director's step of this cancellation (empty: the manager's approval is enough)."""
    policy = await current_policy(session=session)
    return await directors_above(
        session,
        order,
        amount=order.total,
        above=policy.cancellation_director_above,
        requester_id=step.actor_id or 0,
        approver=step.approver,
    )


async def directors_above(
    session: AsyncSession,
    order: Order,
    *,
    amount: Decimal,
    above: Decimal | None,
    requester_id: int,
    approver: Assignee | None,
) -> list[Assignee]:
    """The director's step after the manager's (`approver`, a department's manager) when the
    amount is above the policy's (empty: the manager's approval is enough)."""
    if not needs_director(amount, above):
        return []
    manager_id = None
    if approver is not None and approver.department_id is not None:
        manager_id = await session.scalar(
            select(Department.manager_id).where(Department.id == approver.department_id)
        )
    directors = set(
        await session.scalars(
            select(User.id).where(User.role == Role.director.value, User.active.is_(True))
        )
    )
    return director_step(
        directors, owner_id=order.owner_id, requester_id=requester_id, manager_id=manager_id
    )
