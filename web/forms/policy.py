"""The approval policy form: one row per requirement, every field as typed, and the policy it
describes (models.policy checks and saves it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from i18n import N_
from models.domain import (
    THRESHOLD_CONDITIONS,
    ApprovalPolicy,
    Condition,
    ConditionKind,
    Decider,
    PolicyRequirement,
    PolicyStage,
    Role,
)
from models.policy import PolicyBody, PolicyRefusal
from workflows.rules.approval import CANCELLATION_DIRECTOR_ABOVE, RETURN_DIRECTOR_ABOVE

# The policy as a flat form: one row per requirement ---------------------------------------------

# The conditions a row carries, in the order a requirement lists them.
ROW_THRESHOLDS = (
    ConditionKind.total_at_least,
    ConditionKind.discount_at_least,
    ConditionKind.margin_below,
)
ROW_FACTS = (ConditionKind.over_credit_limit, ConditionKind.over_stock, ConditionKind.export)
DECIDER_KINDS = ("department_manager", "role", "user")


def _plain(number: Decimal) -> str:
    """A threshold as a person would type it back: 20 not 20.00, 0.5 as is."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class RequirementRow:
    """One requirement as the form shows it, every field as typed."""

    stage: str = ""
    code: str = ""
    decider: str = "department_manager"
    role: str = ""
    user_id: str = ""
    total_at_least: str = ""
    discount_at_least: str = ""
    margin_below: str = ""
    over_credit_limit: bool = False
    over_stock: bool = False
    export: bool = False
    sla_days: str = "1"

    def is_blank(self) -> bool:
        return not self.code.strip()

    @classmethod
    def of(cls, stage: PolicyStage, requirement: PolicyRequirement) -> RequirementRow:
        row = cls(
            stage=str(stage.position),
            code=requirement.code,
            decider=requirement.decider.kind,
            role=requirement.decider.role.value if requirement.decider.role else "",
            user_id=str(requirement.decider.user_id or ""),
            sla_days=str(requirement.sla_days),
        )
        for condition in requirement.when:
            if condition.kind in THRESHOLD_CONDITIONS:
                value = _plain(condition.value) if condition.value is not None else ""
                setattr(row, condition.kind.value, value)
            else:
                setattr(row, condition.kind.value, True)
        return row


@dataclass
class PolicyFields:
    """The whole form: the requirement rows, who is told on final approval, and the version the
    form was loaded from."""

    rows: list[RequirementRow] = field(default_factory=list)
    notify_department_manager: bool = False
    notify_roles: list[str] = field(default_factory=list)
    notify_users: list[str] = field(default_factory=list)
    cancellation_director_above: str = ""  # blank: the director never approves cancellations
    return_director_above: str = ""  # blank: the director never approves returns
    based_on: str = ""

    @classmethod
    def of(cls, policy: ApprovalPolicy) -> PolicyFields:
        return cls(
            rows=[
                RequirementRow.of(stage, requirement)
                for stage in sorted(policy.stages, key=lambda s: s.position)
                for requirement in stage.requirements
            ],
            notify_department_manager=any(d.kind == "department_manager" for d in policy.notify),
            notify_roles=[d.role.value for d in policy.notify if d.kind == "role" and d.role],
            notify_users=[str(d.user_id) for d in policy.notify if d.kind == "user" and d.user_id],
            cancellation_director_above=(
                _plain(policy.cancellation_director_above)
                if policy.cancellation_director_above is not None
                else ""
            ),
            return_director_above=(
                _plain(policy.return_director_above)
                if policy.return_director_above is not None
                else ""
            ),
            based_on=str(policy.version),
        )


@dataclass
class PolicyDraft:
    """The policy a form describes, and which form row each requirement came from
    ((stage index, requirement index) -> row index), to say where a problem is."""

    body: PolicyBody
    rows: dict[tuple[int, int], int]


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdecimal() and len(text) <= 6 else None


def _threshold(text: str) -> Decimal | None:
    """The number typed (thousands separators and a trailing % allowed); None when blank."""
    text = text.replace(",", "").strip().removesuffix("%").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not number.is_finite() or abs(number) >= 10**15:
        raise ValueError(text)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # a letter only for infinities and NaNs
    if exponent < -2:
        raise ValueError(text)
    return number


def _decider(index: int, row: RequirementRow) -> Decider:
    if row.decider not in DECIDER_KINDS:
        raise PolicyRefusal(f"rows[{index}].decider", N_("Choose who decides from the list."))
    if row.decider == "role":
        if not row.role.strip():
            return Decider(kind="role")  # the policy check names the missing role
        if row.role not in Role.__members__:
            raise PolicyRefusal(f"rows[{index}].role", N_("Choose a role from the list."))
        return Decider(kind="role", role=Role(row.role))
    if row.decider == "user":
        if not row.user_id.strip():
            return Decider(kind="user")
        user_id = _whole(row.user_id)
        if user_id is None:
            raise PolicyRefusal(f"rows[{index}].user_id", N_("Choose a person from the list."))
        return Decider(kind="user", user_id=user_id)
    return Decider(kind="department_manager")


def _requirement(index: int, row: RequirementRow) -> PolicyRequirement:
    when: list[Condition] = []
    for kind in ROW_THRESHOLDS:
        try:
            value = _threshold(getattr(row, kind.value))
        except ValueError:
            raise PolicyRefusal(
                f"rows[{index}].{kind.value}",
                N_("Enter a number (at most two decimals), or leave it blank."),
            ) from None
        if value is not None:
            when.append(Condition(kind=kind, value=value))
    when += [Condition(kind=kind) for kind in ROW_FACTS if getattr(row, kind.value)]
    sla_days = _whole(row.sla_days)
    if sla_days is None:
        raise PolicyRefusal(
            f"rows[{index}].sla_days",
            N_("Enter the SLA as a whole number of working days, 1 or more."),
        )
    return PolicyRequirement(
        code=row.code.strip(), decider=_decider(index, row), when=when, sla_days=sla_days
    )


def _director_amount(text: str, name: str = CANCELLATION_DIRECTOR_ABOVE) -> Decimal | None:
    """The amount above which a cancellation (or a return: `name`) also needs the director;
    None when blank."""
    try:
        return _threshold(text)
    except ValueError:
        raise PolicyRefusal(
            name,
            N_("Enter an amount (at most two decimals), or leave it blank."),
        ) from None


def draft_of_fields(fields: PolicyFields) -> PolicyDraft:
    """The policy the form describes: rows with the same stage number form one stage (decided
    in parallel), stages in the order of their numbers; a row without a name is left out.
    Raises PolicyRefusal for a row that cannot be read (field `rows[<index>].<name>`)."""
    stages: dict[int, list[tuple[int, PolicyRequirement]]] = {}
    for index, row in enumerate(fields.rows):
        if row.is_blank():
            continue
        position = _whole(row.stage)
        if position is None or position < 1:
            raise PolicyRefusal(
                f"rows[{index}].stage", N_("Enter the stage as a whole number, 1 or more.")
            )
        stages.setdefault(position, []).append((index, _requirement(index, row)))
    notify: list[Decider] = []
    if fields.notify_department_manager:
        notify.append(Decider(kind="department_manager"))
    for role in fields.notify_roles:
        if role not in Role.__members__:
            raise PolicyRefusal("notify", N_("Choose a role from the list."))
        notify.append(Decider(kind="role", role=Role(role)))
    for text in fields.notify_users:
        user_id = _whole(text)
        if user_id is None:
            raise PolicyRefusal("notify", N_("Choose a person from the list."))
        notify.append(Decider(kind="user", user_id=user_id))
    positions = sorted(stages)
    body = PolicyBody(
        stages=[PolicyStage(position=p, requirements=[r for _, r in stages[p]]) for p in positions],
        notify=notify,
        cancellation_director_above=_director_amount(fields.cancellation_director_above),
        return_director_above=_director_amount(fields.return_director_above, RETURN_DIRECTOR_ABOVE),
    )
    rows = {
        (i, j): index for i, p in enumerate(positions) for j, (index, _) in enumerate(stages[p])
    }
    return PolicyDraft(body, rows)
