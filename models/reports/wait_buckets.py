"""The scale waits are counted on, and the spans of the calendar they are counted in, as pure
functions: a wait's bucket, the spans that hold a day, the fewest spans that make up a period,
and the median and 90th percentile of a histogram.

A bucket holds the waits from RATIO^(k-1) up to RATIO^k seconds, and keeps their number and
their seconds summed. A percentile is found by rank exactly as over the waits themselves
(nearest rank), then given as the mean of its bucket: within the bucket's width
(WITHIN_PERCENT) of the true figure, and exact when the bucket's waits are all the same
length."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

# Buckets 2 % wide: from one second to ten years in about 1,000 buckets.
RATIO = 1.02
WITHIN_PERCENT = 2
_LOG_RATIO = math.log(RATIO)

# The spans a wait is counted in, the longest first: year, quarter, month, day.
YEAR, QUARTER, MONTH, DAY = "y", "q", "m", "d"
SPANS = (YEAR, QUARTER, MONTH, DAY)
# A month has about as many rows as this many days (each wait is a row of its day; a month's
# waits share rows, ~3,000 a day and ~26,000 a month on the benchmark's company).
MONTH_IN_DAYS = 8


def bucket_of(seconds: int) -> int:
    """0 for a wait under a second, else k for RATIO^(k-1) <= seconds < RATIO^k."""
    if seconds < 1:
        return 0
    return int(math.log(seconds) / _LOG_RATIO) + 1


def span_start(span: str, day: date) -> date:
    if span == YEAR:
        return date(day.year, 1, 1)
    if span == QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if span == MONTH:
        return day.replace(day=1)
    return day


def span_last_day(span: str, starts: date) -> date:
    """The last day of the span that starts on `starts`."""
    months = {YEAR: 12, QUARTER: 3, MONTH: 1}.get(span)
    if months is None:
        return starts
    index = starts.year * 12 + starts.month - 1 + months
    return date(index // 12, index % 12 + 1, 1) - timedelta(days=1)


def spans_of(day: date) -> list[tuple[str, date]]:
    """The four spans a wait that ended on `day` is counted in."""
    return [(span, span_start(span, day)) for span in SPANS]


Span = tuple[str, date]  # a span and its first day


def period_spans(
    first: date, last: date, *, nothing_after: date | None
) -> tuple[list[Span], list[Span]]:
    """The fewest whole spans that hold exactly the waits of `first` to `last` (the longest
    span that starts on a day and ends within the period, then the next), and the days to take
    away: a month only partly in the period is the month less its days outside it when that
    reads fewer rows (from the 10th of a month of 31 days: the month less 9 days, not 22 days;
    a month's rows are about MONTH_IN_DAYS days'). When
    nothing was counted after `nothing_after` (and that is within the period), a span may run
    on past `last`: the year to date is the year."""
    reach = last
    if nothing_after is not None and nothing_after <= last:
        reach = date.max
    added: list[Span] = []
    taken: list[Span] = []
    day = first
    while day <= last:
        month = span_start(MONTH, day)
        month_end = span_last_day(MONTH, month)
        if day != month or month_end > reach:
            outside = _days(month, day - timedelta(days=1))
            if month_end > reach:
                outside += _days(last + timedelta(days=1), month_end)
            if len(outside) + MONTH_IN_DAYS < (min(month_end, last) - day).days + 1:
                added.append((MONTH, month))
                taken += [(DAY, outside_day) for outside_day in outside]
                day = month_end + timedelta(days=1)
                continue
        span = next(
            s for s in SPANS if span_start(s, day) == day and span_last_day(s, day) <= reach
        )
        added.append((span, day))
        day = span_last_day(span, day) + timedelta(days=1)
    return added, taken


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class Histogram:
    """Waits by bucket: each bucket's number of waits and their seconds summed (two maps of
    plain numbers: a report builds thousands of these, and few objects keep it quick)."""

    __slots__ = ("seconds", "waits")

    def __init__(self) -> None:
        self.waits: dict[int, int] = {}
        self.seconds: dict[int, int] = {}

    def add(self, bucket: int, waits: int, seconds: int) -> None:
        self.waits[bucket] = self.waits.get(bucket, 0) + waits
        self.seconds[bucket] = self.seconds.get(bucket, 0) + seconds

    @property
    def count(self) -> int:
        return sum(self.waits.values())

    def percentiles(self, *percents: int) -> list[float]:
        """The nearest-rank percentiles in seconds (the smallest wait with at least `percent`
        % of the waits at or below it), each given as the mean of its bucket."""
        count = self.count
        ranks = [max(1, -(-percent * count // 100)) for percent in percents]
        found = dict.fromkeys(ranks, 0.0)
        seen = 0
        for bucket in sorted(self.waits):
            waits = self.waits[bucket]
            reached = seen + waits
            for rank in ranks:
                if seen < rank <= reached:
                    found[rank] = self.seconds[bucket] / waits
            seen = reached
        return [found[rank] for rank in ranks]


@dataclass(frozen=True)
class WaitFigures:
    """How many waits, and their median and 90th percentile in hours."""

    count: int
    p50_hours: float
    p90_hours: float


def wait_figures(histogram: Histogram) -> WaitFigures:
    p50, p90 = histogram.percentiles(50, 90)
    return WaitFigures(
        count=histogram.count, p50_hours=round(p50 / 3600, 2), p90_hours=round(p90 / 3600, 2)
    )
