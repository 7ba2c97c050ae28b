"""The approval, collection and variance policies in the JSON API: read the one in force, save a
new version (admin)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from models import policy
from models.domain import (
    ORDER_ENTRY_ROLES,
    CollectionPolicy,
    Decider,
    PolicyStage,
    Role,
    VariancePolicy,
)
from models.policy import CollectionPolicyBody, PolicyBody, PolicyRefusal, VariancePolicyBody
from models.tables import ApprovalPolicyVersion, User
from web.api import ApiRoute, refused
from web.deps import ApiUser, SessionDep
from web.forms.errors import InvalidInput
from web.schemas import errors
from workflows import rules

router = APIRouter(prefix="/api/v1", tags=["policy"], route_class=ApiRoute, responses=errors(403))


class PolicyVersionOut(BaseModel):
    """A saved version of the approval policy; thresholds travel as decimal strings."""

    version: int
    created_at: datetime | None
    created_by: str | None  # the administrator's username; None for the versions shipped
    stages: list[PolicyStage]
    notify: list[Decider]
    # A confirmed order's cancellation also needs the director above this total (None: never).
    cancellation_director_above: Decimal | None = None
    # A return also needs the director above this value asked back (None: never).
    return_director_above: Decimal | None = None


def version_out(row: ApprovalPolicyVersion) -> PolicyVersionOut:
    saved = policy.policy_of(row)
    return PolicyVersionOut(
        version=saved.version,
        # SQLite hands datetimes back without their zone; they were stored in UTC.
        created_at=row.created_at.replace(tzinfo=row.created_at.tzinfo or UTC),
        created_by=row.created_by.username if row.created_by else None,
        stages=saved.stages,
        notify=saved.notify,
        cancellation_director_above=saved.cancellation_director_above,
        return_director_above=saved.return_director_above,
    )


def _administrators(message: str) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets administrators through and answers 403 with `message` to anyone
    else, before the body is read."""

    async def administrator(user: ApiUser) -> User:
        if user.role != Role.admin.value:
            raise HTTPException(403, message)
        return user

    return administrator


def _readers(roles: frozenset[Role], message: str) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets the roles who work with a policy read it; 403 to anyone else."""

    async def reader(user: ApiUser) -> User:
        if user.role not in roles:
            raise HTTPException(403, message)
        return user

    return reader


# Who works with each policy: approvers and the admin who keeps it; those who enter orders pick
# a payment plan by name, and finance and the managers chase overdue money; operations and those
# who approve or pay for costs meet the variance threshold.
ApprovalPolicyReader = Annotated[
    User,
    Depends(
        _readers(
            frozenset({Role.admin, Role.director, Role.sales_manager, Role.finance}),
            "Only administrators, directors, sales managers and finance may see the approval "
            "policy.",
        )
    ),
]
CollectionPolicyReader = Annotated[
    User,
    Depends(
        _readers(
            frozenset({Role.admin, Role.director, Role.finance, *ORDER_ENTRY_ROLES}),
            "Only administrators, directors, finance and sales may see the collection policy.",
        )
    ),
]
VariancePolicyReader = Annotated[
    User,
    Depends(
        _readers(
            frozenset({Role.admin, Role.ops, Role.ops_manager, Role.director, Role.finance}),
            "Only administrators, directors, operations and finance may see the variance policy.",
        )
    ),
]
PolicyReader = Annotated[
    User,
    Depends(_administrators("Only an administrator may see the versions of the approval policy.")),
]
PolicyEditor = Annotated[
    User, Depends(_administrators("Only an administrator may change the approval policy."))
]


@router.get("/policy/approval", response_model=PolicyVersionOut)
async def approval_policy(user: ApprovalPolicyReader, session: SessionDep) -> PolicyVersionOut:
    """The approval policy in force: its stages in order, each stage's requirements (decided
    in parallel), who is told when an order passes the last stage, and the total above which
    a confirmed order's cancellation also needs the director (`cancellation_director_above`,
    null: never), and the value asked back above which a return does too
    (`return_director_above`, null: never)."""
    row = await policy.current_version(session=session)
    if row is not None:
        return version_out(row)
    shipped = rules.DEFAULT_APPROVAL_POLICY
    return PolicyVersionOut(
        version=shipped.version,
        created_at=None,
        created_by=None,
        stages=shipped.stages,
        notify=shipped.notify,
    )


@router.get("/policy/approval/versions", response_model=list[PolicyVersionOut])
async def approval_policy_versions(
    user: PolicyReader, session: SessionDep
) -> list[PolicyVersionOut]:
    """Every saved version, newest first (administrators)."""
    return [version_out(row) for row in await policy.policy_versions(session=session)]


@router.put("/policy/approval", response_model=PolicyVersionOut)
async def save_approval_policy(
    user: PolicyEditor, session: SessionDep, body: PolicyBody
) -> PolicyVersionOut:
    """Save a new version of the approval policy, in force from now on (administrators). The
    body is the policy without `version`; a refusal (422) names the field and saves nothing
    (a negative `cancellation_director_above` or `return_director_above` too).
    Rounds already routed keep the version they were routed by."""
    try:
        row = await policy.save_policy(session=session, user=user, body=body)
    except PolicyRefusal as refusal:
        raise refused(InvalidInput.at(refusal.field, refusal)) from refusal
    return version_out(row)


# -- the collection policy -----------------------------------------------------------------------

CollectionPolicyEditor = Annotated[
    User, Depends(_administrators("Only an administrator may change the collection policy."))
]


@router.get("/policy/collection", response_model=CollectionPolicy)
async def collection_policy(user: CollectionPolicyReader, session: SessionDep) -> CollectionPolicy:
    """The collection policy in force: days of the reminder before a due date, days overdue
    before the sales manager and the director are alerted, the payment plans sales may pick by
    name, and whether dispatch waits for the deposit."""
    return await policy.current_collection_policy(session=session)


@router.put("/policy/collection", response_model=CollectionPolicy)
async def save_collection_policy(
    user: CollectionPolicyEditor, session: SessionDep, body: CollectionPolicyBody
) -> CollectionPolicy:
    """Save a new version of the collection policy (administrators); orders confirmed from now
    on follow it. A refusal (422) names the field and saves nothing."""
    try:
        return await policy.save_collection_policy(session=session, user=user, body=body)
    except PolicyRefusal as refusal:
        raise refused(InvalidInput.at(refusal.field, refusal)) from refusal


# -- the variance policy -------------------------------------------------------------------------

VariancePolicyEditor = Annotated[
    User, Depends(_administrators("Only an administrator may change the variance policy."))
]


@router.get("/policy/variance", response_model=VariancePolicy)
async def variance_policy(user: VariancePolicyReader, session: SessionDep) -> VariancePolicy:
    """The variance policy in force: a cost variance above `threshold_percent` of the expected
    cost (default 5), or above `threshold_amount` when one is set, needs an explanation and the
    operations manager's approval."""
    return await policy.current_variance_policy(session=session)


@router.put("/policy/variance", response_model=VariancePolicy)
async def save_variance_policy(
    user: VariancePolicyEditor, session: SessionDep, body: VariancePolicyBody
) -> VariancePolicy:
    """Save a new version of the variance policy (administrators); cost reviews opened from now
    on follow it. 422 for a percentage outside 0–100 or a negative amount."""
    try:
        return await policy.save_variance_policy(session=session, user=user, body=body)
    except PolicyRefusal as refusal:
        raise refused(InvalidInput.at(refusal.field, refusal)) from refusal
