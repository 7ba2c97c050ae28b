"""The approval, collection and variance policies in force and their saved versions."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models.admin import AdminRefusal
from models.domain import (
    THRESHOLD_CONDITIONS,
    ApprovalPolicy,
    CollectionPolicy,
    Decider,
    NamedPlan,
    PolicyStage,
    Role,
    VariancePolicy,
)
from models.tables import (
    ApprovalPolicyVersion,
    CollectionPolicyVersion,
    User,
    VariancePolicyVersion,
)
from workflows import rules

# A policy's table of saved versions, and the policy a saved version holds.
_PolicyRow = TypeVar(
    "_PolicyRow", ApprovalPolicyVersion, CollectionPolicyVersion, VariancePolicyVersion
)
_Policy = TypeVar("_Policy", ApprovalPolicy, CollectionPolicy, VariancePolicy)


async def _latest(session: AsyncSession, table: type[_PolicyRow]) -> _PolicyRow | None:
    """The highest saved version of a policy, None when none was ever saved."""
    return await session.scalar(select(table).order_by(table.version.desc()).limit(1))


def _as_policy(
    kind: type[_Policy],
    row: ApprovalPolicyVersion | CollectionPolicyVersion | VariancePolicyVersion,
) -> _Policy:
    """The policy a saved version holds, numbered as its row."""
    return kind.model_validate({**row.body, "version": row.version})


def policy_of(row: ApprovalPolicyVersion) -> ApprovalPolicy:
    return _as_policy(ApprovalPolicy, row)


async def current_policy(*, session: AsyncSession) -> ApprovalPolicy:
    """The highest saved version; the first policy when none was ever saved."""
    row = await current_version(session=session)
    return policy_of(row) if row is not None else rules.DEFAULT_APPROVAL_POLICY


# Saving a new version ---------------------------------------------------------------------------

CENT = Decimal("0.01")

# A requirement's code names its to-dos (`<workflow>/<stage>/<code>`) and is stored in a column of
# 50 characters: a word, no slashes or spaces.
_CODE = re.compile(r"^[\w-]{1,50}$")


class PolicyBody(BaseModel):
    """An approval policy as an administrator submits it: all but the version, which saving
    assigns (the next number)."""

    stages: list[PolicyStage]
    notify: list[Decider] = Field(default_factory=list)
    # A confirmed order's cancellation also goes to the director when its total is above this
    # (None: never); a negative amount is refused by the policy check, saying so.
    cancellation_director_above: Decimal | None = Field(
        default=None, max_digits=17, decimal_places=2
    )
    # A return also goes to the director when the value asked back is above this (None: never).
    return_director_above: Decimal | None = Field(default=None, max_digits=17, decimal_places=2)


class PolicyRefusal(AdminRefusal):
    """A policy that cannot be saved: the field it is about (`stages[1].position`, or "" for the
    policy as a whole) and why, for a person to read."""

    def __init__(self, field: str, template: str, **params: object) -> None:
        super().__init__(template, **params)
        self.field = field
        self.problem = str(self)
        self.args = (f"{field}: {self.problem}" if field else self.problem,)

    def reason(self, gettext: Callable[[str], str]) -> str:
        """Why, translated, without the field."""
        return super().translated(gettext)

    def translated(self, gettext: Callable[[str], str]) -> str:
        reason = self.reason(gettext)
        return f"{self.field}: {reason}" if self.field else reason


class PolicyChanged(PolicyRefusal):
    """Another version was saved after the one the editor started from."""

    def __init__(self, version: int) -> None:
        super().__init__(
            "",
            N_(
                "Version %(version)s of the approval policy was saved while you were editing. "
                "Check it and save again."
            ),
            version=version,
        )
        self.version = version


async def current_version(*, session: AsyncSession) -> ApprovalPolicyVersion | None:
    """The saved version in force (the highest), None when none was ever saved."""
    return await _latest(session, ApprovalPolicyVersion)


async def policy_versions(*, session: AsyncSession) -> list[ApprovalPolicyVersion]:
    """Every saved version, newest first."""
    return list(
        await session.scalars(
            select(ApprovalPolicyVersion).order_by(ApprovalPolicyVersion.version.desc())
        )
    )


def _as_template(message: str) -> str:
    # The pure checks return finished sentences; a literal % in one must survive formatting.
    return message.replace("%", "%%")


async def _staffing_problems(session: AsyncSession, body: PolicyBody) -> PolicyRefusal | None:
    """The first decider or notified person the database says cannot take part."""
    staffed = {
        Role(role)
        for role in await session.scalars(select(User.role).where(User.active.is_(True)).distinct())
        if role in Role.__members__
    }
    named = {
        requirement.decider.user_id
        for stage in body.stages
        for requirement in stage.requirements
        if requirement.decider.kind == "user"
    } | {d.user_id for d in body.notify if d.kind == "user"}
    people = {
        u.id: u for u in await session.scalars(select(User).where(User.id.in_(named - {None})))
    }
    for i, stage in enumerate(body.stages):
        for j, requirement in enumerate(stage.requirements):
            at = f"stages[{i}].requirements[{j}].decider"
            decider = requirement.decider
            if decider.kind == "role" and decider.role is not None:
                if decider.role == Role.admin:
                    return PolicyRefusal(
                        f"{at}.role", N_("Administrators make no business approvals.")
                    )
                if decider.role not in staffed:
                    return PolicyRefusal(
                        f"{at}.role",
                        N_("Nobody to decide: no active user has the role %(role)s."),
                        role=decider.role.value,
                    )
            if decider.kind == "user" and decider.user_id is not None:
                person = people.get(decider.user_id)
                if person is None or not person.active:
                    return PolicyRefusal(
                        f"{at}.user_id",
                        N_("Nobody to decide: there is no active user with id %(user_id)s."),
                        user_id=decider.user_id,
                    )
                if person.role == Role.admin.value:
                    return PolicyRefusal(
                        f"{at}.user_id", N_("Administrators make no business approvals.")
                    )
    for i, decider in enumerate(body.notify):
        if decider.kind == "user" and decider.user_id is not None:
            person = people.get(decider.user_id)
            if person is None or not person.active:
                return PolicyRefusal(
                    f"notify[{i}].user_id",
                    N_("There is no active user with id %(user_id)s to notify."),
                    user_id=decider.user_id,
                )
    return None


def _with_plain_conditions(body: PolicyBody) -> PolicyBody:
    """A fact condition (over stock, export, …) carries no number; one sent along is dropped.
    The cancellation amount is kept to the cent."""
    copy = body.model_copy(deep=True)
    if copy.cancellation_director_above is not None:  # an amount of money: to the cent
        copy.cancellation_director_above = copy.cancellation_director_above.quantize(CENT)
    if copy.return_director_above is not None:
        copy.return_director_above = copy.return_director_above.quantize(CENT)
    for stage in copy.stages:
        for requirement in stage.requirements:
            for condition in requirement.when:
                if condition.kind not in THRESHOLD_CONDITIONS:
                    condition.value = None
    return copy


async def save_policy(
    *, session: AsyncSession, user: User, body: PolicyBody, based_on: int | None = None
) -> ApprovalPolicyVersion:
    """Check the policy and save it as the next version, which is then in force. A saved version
    is never changed. `based_on` is the version the editor started from: when another was saved
    since, nothing is saved. Raises PolicyRefusal (nothing written) for the first problem."""
    body = _with_plain_conditions(body)
    problems = rules.policy_problems(ApprovalPolicy(version=0, **body.model_dump()))
    if problems:
        field, message = problems[0]
        raise PolicyRefusal(field, _as_template(message))
    for i, stage in enumerate(body.stages):
        for j, requirement in enumerate(stage.requirements):
            if not _CODE.match(requirement.code):
                raise PolicyRefusal(
                    f"stages[{i}].requirements[{j}].code",
                    N_(
                        "A requirement's name is one word of letters, digits, - and _ "
                        "(at most 50 characters), like director."
                    ),
                )
    refusal = await _staffing_problems(session, body)
    if refusal is not None:
        raise refusal
    latest = await session.scalar(select(func.max(ApprovalPolicyVersion.version))) or 0
    if based_on is not None and latest != based_on:
        raise PolicyChanged(latest)
    row = ApprovalPolicyVersion(
        version=latest + 1,
        body=body.model_dump(mode="json"),
        created_by=user,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError as error:
        # Someone else took this version number a moment ago.
        await session.rollback()
        await session.refresh(user)  # the rollback expired it; the caller still shows it
        latest = await session.scalar(select(func.max(ApprovalPolicyVersion.version))) or 0
        raise PolicyChanged(latest) from error
    return row


# The collection policy -------------------------------------------------------------------------


async def current_collection_policy(*, session: AsyncSession) -> CollectionPolicy:
    """The highest saved version of the collection policy; the defaults when none was saved."""
    row = await _latest(session, CollectionPolicyVersion)
    if row is None:
        return rules.DEFAULT_COLLECTION_POLICY
    return _as_policy(CollectionPolicy, row)


class CollectionPolicyBody(BaseModel):
    """A collection policy as an administrator submits it (saving assigns the version)."""

    reminder_days_before: int = Field(default=3, ge=0, le=60)
    manager_after_days: int = Field(default=15, ge=1, le=365)
    director_after_days: int = Field(default=30, ge=1, le=730)
    hold_dispatch_for_deposit: bool = False
    plans: list[NamedPlan] = Field(default_factory=list)


async def save_collection_policy(
    *, session: AsyncSession, user: User, body: CollectionPolicyBody
) -> CollectionPolicy:
    """Check the policy and save it as the next version, in force for collections started from
    now on (running ones keep what they started with). Raises PolicyRefusal, saving nothing."""
    if body.director_after_days <= body.manager_after_days:
        raise PolicyRefusal(
            "director_after_days",
            N_("The director is alerted after the sales manager: give more days."),
        )
    names: set[str] = set()
    for i, plan in enumerate(body.plans):
        if plan.name.strip().casefold() in names:
            raise PolicyRefusal(f"plans[{i}].name", N_("Two plans have the same name."))
        names.add(plan.name.strip().casefold())
        if not plan.items:
            raise PolicyRefusal(f"plans[{i}].items", N_("A plan needs at least one installment."))
        for problem in rules.plan_problems(plan.items):
            raise PolicyRefusal(f"plans[{i}].items", _as_template(problem))
    row = await _save_version(
        session,
        CollectionPolicyVersion,
        user,
        body,
        first=1,
        clash=N_("Another version of the collection policy was saved at the same moment."),
    )
    return _as_policy(CollectionPolicy, row)


async def _save_version(
    session: AsyncSession,
    table: type[CollectionPolicyVersion] | type[VariancePolicyVersion],
    user: User,
    body: BaseModel,
    *,
    first: int,
    clash: str,
) -> CollectionPolicyVersion | VariancePolicyVersion:
    """Save a policy body as the next version of its table (`first` when none is saved);
    PolicyRefusal(`clash`) when another version was saved at the same moment."""
    latest = await session.scalar(select(func.max(table.version)))
    row = table(
        version=latest + 1 if latest else first,
        body=body.model_dump(mode="json"),
        created_by_id=user.id,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise PolicyRefusal("", clash) from error
    return row


# The variance policy ---------------------------------------------------------------------------


async def current_variance_policy(*, session: AsyncSession) -> VariancePolicy:
    """The highest saved version of the variance policy; the defaults (5 %) when none was
    saved."""
    row = await _latest(session, VariancePolicyVersion)
    if row is None:
        return rules.DEFAULT_VARIANCE_POLICY
    return _as_policy(VariancePolicy, row)


class VariancePolicyBody(BaseModel):
    """A variance policy as an administrator submits it (saving assigns the version)."""

    threshold_percent: Decimal = Field(default=Decimal("5"), ge=0, le=100, decimal_places=3)
    threshold_amount: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)


async def save_variance_policy(
    *, session: AsyncSession, user: User, body: VariancePolicyBody
) -> VariancePolicy:
    """Save the policy as the next version: it applies to cost reviews opened from now on."""
    row = await _save_version(
        session,
        VariancePolicyVersion,
        user,
        body,
        first=rules.DEFAULT_VARIANCE_POLICY.version + 1,  # the shipped defaults are version 1
        clash=N_("Another version of the variance policy was saved at the same moment."),
    )
    return _as_policy(VariancePolicy, row)
