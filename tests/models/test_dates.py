"""The window of sensible dates for each date people enter: inside it no refusal, outside it a
refusal that names the field and says the window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.dates import (
    acceptance_date_refusal,
    done_date_refusal,
    fixed_payment_date_refusal,
    planned_date_refusal,
    received_on_refusal,
    requested_delivery_refusal,
    years_from,
)

TODAY = date(2026, 12, 4)
DAY = timedelta(days=1)
FIRST, LAST = date(1, 1, 1), date(9999, 12, 31)


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2026, 12, 4), 5, date(2031, 12, 4)),
        (date(2026, 12, 4), -10, date(2016, 12, 4)),
        (date(2028, 2, 29), 1, date(2029, 2, 28)),
        (date(2028, 2, 29), 4, date(2032, 2, 29)),
    ],
)
def test_years_from_keeps_the_day_and_turns_29_february_into_the_28th(day, years, expected):
    assert years_from(day, years) == expected


@pytest.mark.parametrize(
    "day", [None, TODAY, TODAY + DAY, date(2031, 12, 4)], ids=["none", "today", "tomorrow", "5y"]
)
def test_a_delivery_date_from_today_to_5_years_ahead_is_fine(day):
    assert requested_delivery_refusal(day, today=TODAY) is None


@pytest.mark.parametrize("day", [FIRST, LAST, TODAY - DAY, date(2031, 12, 5)])
def test_a_delivery_date_in_the_past_or_beyond_5_years_is_refused_naming_the_field(day):
    refusal = requested_delivery_refusal(day, today=TODAY)
    assert refusal is not None
    assert refusal.field == "requested_delivery_date"
    assert str(refusal) == (
        f"The requested delivery date {day.isoformat()} is not between 2026-12-04 and 2031-12-04."
    )


@pytest.mark.parametrize("day", [None, date(2016, 12, 4), TODAY, date(2036, 12, 4)])
def test_a_fixed_payment_date_within_10_years_either_way_is_fine(day):
    assert fixed_payment_date_refusal(day, installment=2, today=TODAY) is None


@pytest.mark.parametrize("day", [FIRST, LAST, date(2016, 12, 3), date(2036, 12, 5)])
def test_a_fixed_payment_date_further_than_10_years_is_refused_naming_the_installment(day):
    refusal = fixed_payment_date_refusal(day, installment=2, today=TODAY)
    assert refusal is not None
    assert refusal.field == "payment_plan[1].fixed_date"
    assert str(refusal).startswith(f"Installment 2: the fixed date {day.isoformat()} is not ")
    assert refusal.params["n"] == 2


@pytest.mark.parametrize("day", [TODAY, TODAY - DAY, date(2016, 12, 4)])
def test_money_received_today_or_up_to_10_years_back_is_fine(day):
    assert received_on_refusal(day, today=TODAY) is None


def test_money_received_in_the_future_is_refused_as_before():
    for day in (TODAY + DAY, LAST):
        refusal = received_on_refusal(day, today=TODAY)
        assert refusal is not None
        assert refusal.field == "received_on"
        assert str(refusal) == "The payment cannot be received in the future."


@pytest.mark.parametrize("day", [FIRST, date(2016, 12, 3)])
def test_money_received_more_than_10_years_ago_is_refused(day):
    refusal = received_on_refusal(day, today=TODAY)
    assert refusal is not None
    assert refusal.field == "received_on"
    assert str(refusal) == (
        f"The payment's date {day.isoformat()} is not between 2016-12-04 and 2026-12-04."
    )


@pytest.mark.parametrize("day", [date(2025, 12, 4), TODAY, date(2031, 12, 4)])
def test_a_planned_date_from_a_year_back_to_5_years_ahead_is_fine(day):
    assert planned_date_refusal(day, milestone="dispatch", today=TODAY) is None


@pytest.mark.parametrize("day", [FIRST, LAST, date(2025, 12, 3), date(2031, 12, 5)])
def test_a_planned_date_outside_its_window_is_refused_naming_the_milestone(day):
    refusal = planned_date_refusal(day, milestone="dispatch", today=TODAY)
    assert refusal is not None
    assert refusal.field == "planned_date"
    assert str(refusal).startswith(f"Milestone dispatch: the planned date {day.isoformat()} ")


@pytest.mark.parametrize("day", [FIRST, LAST, TODAY + DAY, date(2016, 12, 3)])
def test_a_done_or_acceptance_date_in_the_future_or_long_ago_is_refused(day):
    done = done_date_refusal(day, milestone="arrival", today=TODAY)
    assert done is not None and done.field == "actual_date"
    assert str(done).startswith(f"Milestone arrival: the date {day.isoformat()} is not between")
    accepted = acceptance_date_refusal(day, today=TODAY)
    assert accepted is not None and accepted.field == "accepted_on"


@pytest.mark.parametrize("day", [TODAY, date(2016, 12, 4)])
def test_a_done_or_acceptance_date_up_to_today_is_fine(day):
    assert done_date_refusal(day, milestone="arrival", today=TODAY) is None
    assert acceptance_date_refusal(day, today=TODAY) is None


def test_a_refusal_translates_its_template_and_then_fills_in_the_dates():
    refusal = requested_delivery_refusal(LAST, today=TODAY)
    assert refusal is not None
    assert refusal.translated(lambda template: f"<{template}>") == (
        "<The requested delivery date 9999-12-31 is not between 2026-12-04 and 2031-12-04.>"
    )
