"""What a target is: a month, a measure, an amount; and a department's default, the sum of its
people's and its sub-departments' targets. Plain functions of plain values."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from i18n import N_
from models.domain import Refusal
from workflows.rules.money import money

MEASURES = ("confirmed", "collected")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Far above any target a company sets, and within Numeric(18, 2).
LARGEST = Decimal("1000000000000")

NOT_A_MONTH = N_("%(value)s is not a month: write it as 2026-11.")
NOT_A_MEASURE = N_("The measure must be confirmed (order amount) or collected (money in).")
NOT_AN_AMOUNT = N_("The target must be an amount such as 120000 or 120000.50.")
NEITHER = N_("Give a person or a department, not both and not neither.")
NEGATIVE = N_("A target cannot be negative.")
TOO_LARGE = N_("A target cannot be above 1,000,000,000,000.")
# Per measure, so that the measure is said in the reader's language.
BELOW_PEOPLE = {
    "confirmed": N_(
        "The order target of %(department)s cannot be below %(minimum)s, the sum of its"
        " people's and sub-departments' targets."
    ),
    "collected": N_(
        "The collection target of %(department)s cannot be below %(minimum)s, the sum of its"
        " people's and sub-departments' targets."
    ),
}


class TargetRefusal(Refusal):
    """A target that cannot be saved; `status` is the HTTP status it answers (422 for bad
    values, 403 for someone or something outside the user's tree)."""

    def __init__(self, template: str, *, status: int = 422, **params: object) -> None:
        super().__init__(template, **params)
        self.status = status


def parse_month(value: object) -> str:
    """2026-11 as it is, or a refusal for anything else (2026-13, 11/2026, blank)."""
    text = str(value if value is not None else "").strip()
    found = MONTH.match(text)
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1900:
        raise TargetRefusal(NOT_A_MONTH, value=text or "''")
    return text


def parse_measure(value: object) -> str:
    text = str(value if value is not None else "").strip().lower()
    if text not in MEASURES:
        raise TargetRefusal(NOT_A_MEASURE)
    return text


def parse_amount(value: object) -> Decimal | None:
    """An amount to the cent (half up); blank or None is none (no target of one's own)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise TargetRefusal(NOT_AN_AMOUNT)
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise TargetRefusal(NOT_AN_AMOUNT) from None
    if not amount.is_finite():
        raise TargetRefusal(NOT_AN_AMOUNT)
    if amount < 0:
        raise TargetRefusal(NEGATIVE)
    if amount > LARGEST:
        raise TargetRefusal(TOO_LARGE)
    return money(amount)


@dataclass(frozen=True)
class DepartmentNode:
    id: int
    parent_id: int | None


def default_targets(
    departments: Sequence[DepartmentNode],
    people_sums: Mapping[int, Decimal],
    explicit: Mapping[int, Decimal],
) -> dict[int, Decimal]:
    """Each department's default target: its own people's targets (`people_sums`) plus each
    sub-department's target (its own when set in `explicit`, else its default)."""
    children: dict[int | None, list[int]] = {}
    for department in departments:
        children.setdefault(department.parent_id, []).append(department.id)
    defaults: dict[int, Decimal] = {}

    def effective(department_id: int) -> Decimal:
        total = people_sums.get(department_id, Decimal("0.00"))
        for child in children.get(department_id, []):
            total += effective(child)
        defaults[department_id] = money(total)
        return explicit.get(department_id, defaults[department_id])

    known = {d.id for d in departments}
    for department in departments:
        if department.parent_id not in known:
            effective(department.id)
    return defaults


def effective_target(
    department_id: int, defaults: Mapping[int, Decimal], explicit: Mapping[int, Decimal]
) -> Decimal:
    return explicit.get(department_id, defaults.get(department_id, Decimal("0.00")))
