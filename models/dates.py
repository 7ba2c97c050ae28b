"""The window of sensible dates for each date people enter, as pure functions of the date and
today: each returns the refusal to show (naming the field) or None when the date is fine; and
the moments the database hands back, in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from i18n import N_
from models.domain import Refusal

DELIVERY_YEARS_AHEAD = 5
PAYMENT_PLAN_YEARS = 10  # a fixed installment date, either way from today
RECEIVED_YEARS_BACK = 10
PLANNED_YEARS_AHEAD = 5
PLANNED_YEARS_BACK = 1  # a plan may be written down after the fact, not long after
DONE_YEARS_BACK = 10
OUTSIDE_REPORT_DAYS = N_(
    "The report's days must lie between %(earliest)s and %(latest)s; %(date)s does not."
)
REPORT_YEARS = 100  # a report period's days, either way from today ("everything" is wide)


def as_utc(moment: datetime) -> datetime:
    """A moment read from the database: SQLite hands datetimes back without their zone; they
    were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class DateRefusal(Refusal):
    """A date outside its window; `field` is the API's name for it."""

    def __init__(self, field: str, template: str, **params: object) -> None:
        super().__init__(template, **params)
        self.field = field


def years_from(day: date, years: int) -> date:
    """The same day `years` later (earlier when negative); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _outside(
    value: date, earliest: date, latest: date, field: str, template: str, **params: object
) -> DateRefusal | None:
    if earliest <= value <= latest:
        return None
    return DateRefusal(
        field,
        template,
        date=value.isoformat(),
        earliest=earliest.isoformat(),
        latest=latest.isoformat(),
        **params,
    )


def requested_delivery_refusal(value: date | None, *, today: date) -> DateRefusal | None:
    """A requested delivery date: from today up to 5 years ahead (none given is fine)."""
    if value is None:
        return None
    return _outside(
        value,
        today,
        years_from(today, DELIVERY_YEARS_AHEAD),
        "requested_delivery_date",
        N_("The requested delivery date %(date)s is not between %(earliest)s and %(latest)s."),
    )


def fixed_payment_date_refusal(
    value: date | None, *, installment: int, today: date
) -> DateRefusal | None:
    """A payment-plan installment's fixed date: within 10 years of today, either way.
    `installment` counts from 1, as people do."""
    if value is None:
        return None
    return _outside(
        value,
        years_from(today, -PAYMENT_PLAN_YEARS),
        years_from(today, PAYMENT_PLAN_YEARS),
        f"payment_plan[{installment - 1}].fixed_date",
        N_(
            "Installment %(n)s: the fixed date %(date)s is not between %(earliest)s and %(latest)s."
        ),
        n=installment,
    )


def received_on_refusal(value: date, *, today: date) -> DateRefusal | None:
    """The day a payment was received: not in the future, at most 10 years back."""
    if value > today:
        return DateRefusal("received_on", N_("The payment cannot be received in the future."))
    return _outside(
        value,
        years_from(today, -RECEIVED_YEARS_BACK),
        today,
        "received_on",
        N_("The payment's date %(date)s is not between %(earliest)s and %(latest)s."),
    )


def planned_date_refusal(value: date, *, milestone: str, today: date) -> DateRefusal | None:
    """A milestone's planned date (planning or replanning): from a year back to 5 years ahead."""
    return _outside(
        value,
        years_from(today, -PLANNED_YEARS_BACK),
        years_from(today, PLANNED_YEARS_AHEAD),
        "planned_date",
        N_(
            "Milestone %(code)s: the planned date %(date)s is not between %(earliest)s and "
            "%(latest)s."
        ),
        code=milestone,
    )


def done_date_refusal(
    value: date, *, milestone: str, today: date, field: str = "actual_date"
) -> DateRefusal | None:
    """The day a milestone was done (dispatch, arrival, ...): not in the future, at most 10
    years back."""
    return _outside(
        value,
        years_from(today, -DONE_YEARS_BACK),
        today,
        field,
        N_("Milestone %(code)s: the date %(date)s is not between %(earliest)s and %(latest)s."),
        code=milestone,
    )


def acceptance_date_refusal(value: date, *, today: date) -> DateRefusal | None:
    """The day the customer accepted the installation: not in the future, at most 10 years
    back."""
    return _outside(
        value,
        years_from(today, -DONE_YEARS_BACK),
        today,
        "accepted_on",
        N_("The acceptance date %(date)s is not between %(earliest)s and %(latest)s."),
    )


def report_days_refusal(today: date, *days: date | None) -> DateRefusal | None:
    """The first day bounding a report's period (none given is fine) that is not within a
    century of today (year 1 would overflow the default period's arithmetic)."""
    for day in days:
        if day is not None and (
            outside := _outside(
                day,
                years_from(today, -REPORT_YEARS),
                years_from(today, REPORT_YEARS),
                "closed_from",
                OUTSIDE_REPORT_DAYS,
            )
        ):
            return outside
    return None
