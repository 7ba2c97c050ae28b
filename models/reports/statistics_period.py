"""The period a statistics report covers: days in the company's calendar, both ends included,
and its months; who may read the customer and order statistics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, SQLColumnExpression, case, literal

from i18n import N_
from models.dates import as_utc, report_days_refusal
from models.domain import Refusal, Role
from models.tables import User

# A report covers at most three years, month by month.
MAX_MONTHS = 36
# Without a first day the period begins on the first day of the month eleven months before its end.
DEFAULT_MONTHS = 12
NOT_A_DAY = N_("%(field)s must be a date such as 2026-06-30.")
ENDS_BEFORE_IT_BEGINS = N_(
    "The period cannot end on %(closed_to)s, before it begins on %(closed_from)s."
)
TOO_LONG = N_("A report covers at most %(months)s months; %(first)s to %(last)s is longer.")
UNKNOWN_GROUPING = N_("The report cannot be broken down by “%(by)s”; choose one of: %(choices)s.")
STATISTICS_ROLES = frozenset(
    {
        Role.sales,
        Role.follower,
        Role.sales_manager,
        Role.director,
        Role.finance,
        Role.ops,
        Role.ops_manager,
        Role.admin,
    }
)
NOT_FOR_YOUR_ROLE = N_(
    "Customer and order statistics are for sales, their managers, directors, finance, "
    "business operations and administrators."
)


class ReportRefusal(Refusal):
    """Someone whose role has no such report asked for it."""


class ReportFilterRefusal(Refusal):
    """A period or a breakdown the report does not know."""


def check_may_see_statistics(user: User) -> None:
    if Role(user.role) not in STATISTICS_ROLES:
        raise ReportRefusal(NOT_FOR_YOUR_ROLE)


def checked_choice(by: str, choices: tuple[str, ...]) -> str:
    """`by` when the report knows it, else a refusal naming the choices."""
    if by not in choices:
        raise ReportFilterRefusal(UNKNOWN_GROUPING, by=by[:40], choices=", ".join(choices))
    return by


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class Period:
    """From `first` to `last` (both days included) in the company's time zone."""

    first: date
    last: date
    time_zone: str

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as moments in UTC: from its first midnight to the midnight after it."""
        zone = ZoneInfo(self.time_zone)
        begin = datetime.combine(self.first, time(), zone)
        end = datetime.combine(self.last + timedelta(days=1), time(), zone)
        return begin.astimezone(UTC), end.astimezone(UTC)

    def day_of(self, moment: datetime) -> date:
        """The company's day of a moment (a naive one, as SQLite gives them, is UTC)."""
        return as_utc(moment).astimezone(ZoneInfo(self.time_zone)).date()

    def months(self) -> list[str]:
        """Each month the period touches, as 2026-01, in order."""
        found: list[str] = []
        year, month = self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def month_starts(self) -> list[datetime]:
        """The moment (in UTC, as they are stored) each of its months begins at in the
        company's calendar: the first of the month's midnight."""
        zone = ZoneInfo(self.time_zone)
        return [
            datetime.combine(date(int(m[:4]), int(m[5:]), 1), time(), zone).astimezone(UTC)
            for m in self.months()
        ]


def month_case(
    column: SQLColumnExpression[Any],
    starts: Sequence[date | datetime],
    labels: Sequence[Any],
    *,
    before: Any = None,
) -> ColumnElement[Any]:
    """Which month a day or moment falls in, as its label: labels[k] from starts[k] until the
    next start, the last label from its start on; `before` (when given) before the first start
    (else the first label). The caller's WHERE keeps the rows within the months."""
    whens: list[tuple[ColumnElement[bool], Any]] = []
    if before is not None:
        whens.append((column < starts[0], before))
    whens += [(column < start, label) for label, start in zip(labels, starts[1:], strict=False)]
    return case(*whens, else_=labels[-1]) if whens else literal(labels[0])


def _day(field: str, text: str | None) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportFilterRefusal(NOT_A_DAY, field=field) from None


def _months_back(day: date, months: int) -> date:
    """The first day of the month `months` before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def statistics_period(
    *, today: date, first: str | None, last: str | None, time_zone: str
) -> Period:
    """The period asked for (`date_from`, `date_to` as typed), its blanks filled in: it ends today
    unless told and begins DEFAULT_MONTHS months back (whole months) unless told."""
    first_day, last_day = _day("date_from", first), _day("date_to", last)
    if outside := report_days_refusal(today, first_day, last_day):
        raise ReportFilterRefusal(outside.template, **outside.params)
    last_day = last_day or today
    first_day = first_day or _months_back(last_day, DEFAULT_MONTHS - 1)
    if last_day < first_day:
        raise ReportFilterRefusal(
            ENDS_BEFORE_IT_BEGINS,
            closed_from=first_day.isoformat(),
            closed_to=last_day.isoformat(),
        )
    period = Period(first=first_day, last=last_day, time_zone=time_zone)
    if len(period.months()) > MAX_MONTHS:
        raise ReportFilterRefusal(
            TOO_LONG, months=MAX_MONTHS, first=first_day.isoformat(), last=last_day.isoformat()
        )
    return period
