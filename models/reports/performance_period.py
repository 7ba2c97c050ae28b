"""The period a performance report covers: a month (2026-11), a quarter (2026-Q4) or a year
(2026), its first and last day and its months; and what the report groups by."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from i18n import N_
from models.domain import Refusal

PERIODS = ("month", "quarter", "year")
GROUPINGS = ("person", "department", "customer")
NOT_A_PERIOD = N_("The period must be month, quarter or year.")
NOT_A_GROUPING = N_("The report is by person, department or customer.")
BAD_VALUE = {
    "month": N_("%(value)s is not a month: write it as 2026-11."),
    "quarter": N_("%(value)s is not a quarter: write it as 2026-Q4."),
    "year": N_("%(value)s is not a year: write it as 2026."),
}
PATTERNS = {
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}


class PerformanceRefusal(Refusal):
    """A period or grouping the performance report does not know (422)."""


@dataclass(frozen=True)
class ReportPeriod:
    kind: str  # month, quarter, year
    value: str  # 2026-11, 2026-Q4, 2026
    first: date
    last: date

    @property
    def months(self) -> list[str]:
        """The months it covers, as targets name them (2026-10, 2026-11, 2026-12)."""
        found, year, month = [], self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


def report_period(kind: str, value: str) -> ReportPeriod:
    """The period of `kind` named by `value`; a refusal for an unknown kind or a value that is
    not one (2026-13, 2026-Q5)."""
    if kind not in PERIODS:
        raise PerformanceRefusal(NOT_A_PERIOD)
    text = value.strip()
    found = PATTERNS[kind].match(text)
    if not found or int(found.group(1)) < 1900:
        raise PerformanceRefusal(BAD_VALUE[kind], value=text or "''")
    year = int(found.group(1))
    if kind == "year":
        first_month, last_month = 1, 12
    elif kind == "quarter":
        first_month = 3 * int(found.group(2)) - 2
        last_month = first_month + 2
    else:
        first_month = last_month = int(found.group(2))
        if not 1 <= first_month <= 12:
            raise PerformanceRefusal(BAD_VALUE[kind], value=text)
    last_day = monthrange(year, last_month)[1]
    return ReportPeriod(kind, text, date(year, first_month, 1), date(year, last_month, last_day))


def grouping(by: str) -> str:
    if by not in GROUPINGS:
        raise PerformanceRefusal(NOT_A_GROUPING)
    return by
