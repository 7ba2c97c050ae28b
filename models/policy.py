"""The approval policy in force and its saved versions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import ApprovalPolicy
from models.tables import ApprovalPolicyVersion
from workflows import rules


def policy_of(row: ApprovalPolicyVersion) -> ApprovalPolicy:
    return ApprovalPolicy.model_validate({**row.body, "version": row.version})


async def current_policy(*, session: AsyncSession) -> ApprovalPolicy:
    """The highest saved version; the first policy when none was ever saved."""
    row = await session.scalar(
        select(ApprovalPolicyVersion).order_by(ApprovalPolicyVersion.version.desc()).limit(1)
    )
    return policy_of(row) if row is not None else rules.DEFAULT_APPROVAL_POLICY
