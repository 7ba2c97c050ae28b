"""Who approves a confirmed order's cancellation after the manager, by the approval policy in
force when the cancellation is asked for."""

from __future__ import annotations

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
    if not needs_director(order.total, policy.cancellation_director_above):
        return []
    manager_id = None
    if step.approver is not None and step.approver.department_id is not None:
        manager_id = await session.scalar(
            select(Department.manager_id).where(Department.id == step.approver.department_id)
        )
    directors = set(
        await session.scalars(
            select(User.id).where(User.role == Role.director.value, User.active.is_(True))
        )
    )
    return director_step(
        directors,
        owner_id=order.owner_id,
        requester_id=step.actor_id or 0,
        manager_id=manager_id,
    )
