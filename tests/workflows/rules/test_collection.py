"""The pure collection rules: installment amounts, payment plans, due dates, allocation of a
payment to installments, collection timers, collection status and aging."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.domain import (
    CollectionPolicy,
    InstallmentState,
    PaymentPlanItem,
    PaymentTrigger,
    Refusal,
)
from workflows.rules import (
    AGING_BUCKETS,
    DEFAULT_COLLECTION_POLICY,
    PLAN_30_60_10,
    AllocationError,
    aging_bucket,
    allocate,
    collection_moments,
    collection_status,
    due_date,
    installment_amounts,
    plan_problems,
)

D = Decimal
CENT = D("0.01")
TODAY = date(2026, 3, 10)
FAST = settings(max_examples=200, deadline=None)


def is_whole_cent(value: Decimal) -> bool:
    return value == value.quantize(CENT)


def installment(
    position: int,
    amount: str,
    *,
    paid: str = "0",
    due: date | None = None,
    trigger: PaymentTrigger = PaymentTrigger.confirmation,
) -> InstallmentState:
    return InstallmentState(
        position=position, trigger=trigger, amount=D(amount), paid=D(paid), due_date=due
    )


def received(allocations, position: int) -> Decimal:  # list[Allocation]
    return sum((a.amount for a in allocations if a.position == position), D("0"))


# installment_amounts ------------------------------------------------------------------------

cents_totals = st.integers(min_value=1, max_value=10**14).map(lambda c: D(c).scaleb(-2))


@st.composite
def percents_summing_to_100(draw: st.DrawFn) -> list[Decimal]:
    """Positive percents with up to three decimals that add up to exactly 100: cut 100,000
    thousandths at distinct points."""
    cuts = draw(st.lists(st.integers(1, 99_999), unique=True, max_size=11).map(sorted))
    bounds = [0, *cuts, 100_000]
    return [D(b - a).scaleb(-3) for a, b in itertools.pairwise(bounds)]


@FAST
@given(total=cents_totals, percents=percents_summing_to_100())
def test_installment_amounts_add_up_to_the_total_in_whole_cents(
    total: Decimal, percents: list[Decimal]
) -> None:
    amounts = installment_amounts(total, percents)

    assert len(amounts) == len(percents)
    assert sum(amounts, D("0")) == total
    assert all(amount >= 0 for amount in amounts)
    assert all(is_whole_cent(amount) for amount in amounts)
    # rounding on the running sum keeps every installment within a cent of its exact share
    assert all(
        abs(amount - total * percent / 100) <= CENT
        for amount, percent in zip(amounts, percents, strict=True)
    )


@pytest.mark.parametrize(
    ("total", "percents", "expected"),
    [
        ("1000.01", ["30", "60", "10"], ["300.00", "600.01", "100.00"]),
        ("0.01", ["30", "60", "10"], ["0.00", "0.01", "0.00"]),
        # the running sum is rounded, not each share: 33.33 | 66.67 | 100.00
        ("100.00", ["33.333", "33.333", "33.334"], ["33.33", "33.34", "33.33"]),
        ("17000.00", ["100"], ["17000.00"]),
    ],
)
def test_installment_amounts_examples(total: str, percents: list[str], expected: list[str]) -> None:
    assert installment_amounts(D(total), [D(p) for p in percents]) == [D(e) for e in expected]


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        # half a cent goes up (banker's rounding would give 0.00 and 0.02)
        ("0.01", ["0.01", "0.00"]),
        ("0.05", ["0.03", "0.02"]),
        ("0.03", ["0.02", "0.01"]),
    ],
)
def test_half_a_cent_is_rounded_up_into_the_earlier_installment(
    total: str, expected: list[str]
) -> None:
    assert installment_amounts(D(total), [D("50"), D("50")]) == [D(e) for e in expected]


def test_installments_of_a_30_60_10_plan_sum_exactly_to_the_total():
    amounts = installment_amounts(Decimal("1000.01"), [Decimal("30"), Decimal("60"), Decimal("10")])
    assert amounts == [Decimal("300.00"), Decimal("600.01"), Decimal("100.00")]


@given(
    total=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999"), places=2),
    count=st.integers(min_value=1, max_value=100),
)
def test_installments_never_go_negative_and_sum_to_the_total(total, count):
    percents = [Decimal(100) / count] * count
    amounts = installment_amounts(total, percents)
    assert sum(amounts) == total
    assert all(a >= 0 for a in amounts)


# plan_problems and PaymentPlanItem ---------------------------------------------------------


def item(
    percent: str,
    trigger: PaymentTrigger = PaymentTrigger.confirmation,
    offset_days: int = 0,
    fixed_date: date | None = None,
) -> PaymentPlanItem:
    return PaymentPlanItem(
        percent=D(percent), trigger=trigger, offset_days=offset_days, fixed_date=fixed_date
    )


@pytest.mark.parametrize(
    "percents",
    [["50", "49.999"], ["50", "50.001"], ["99.999"], ["30", "60"], ["60", "60"]],
)
def test_a_plan_that_does_not_add_up_to_100_is_refused(percents: list[str]) -> None:
    problems = plan_problems([item(p) for p in percents])

    assert len(problems) == 1
    assert "100" in problems[0]


def test_a_fixed_date_installment_without_a_date_is_refused() -> None:
    problems = plan_problems([item("50"), item("50", PaymentTrigger.fixed_date)])

    assert len(problems) == 1
    assert "Installment 2" in problems[0]
    assert "date" in problems[0]


def test_every_problem_of_a_plan_is_reported_at_once() -> None:
    problems = plan_problems(
        [item("40", PaymentTrigger.fixed_date), item("40", PaymentTrigger.fixed_date)]
    )

    assert len(problems) == 3
    assert any("100" in p for p in problems)
    assert any("Installment 1" in p for p in problems)
    assert any("Installment 2" in p for p in problems)


@pytest.mark.parametrize(
    "items",
    [
        pytest.param([], id="empty means the default plan"),
        pytest.param([item("100")], id="all on confirmation"),
        pytest.param(PLAN_30_60_10.items, id="30/60/10"),
        pytest.param(
            [
                item("33.333"),
                item("33.333", PaymentTrigger.dispatch, 10),
                item("33.334", PaymentTrigger.fixed_date, 0, date(2026, 12, 31)),
            ],
            id="thirds with a fixed date",
        ),
    ],
)
def test_a_sound_plan_has_no_problems(items: list[PaymentPlanItem]) -> None:
    assert plan_problems(items) == []


def test_the_default_policys_plans_are_sound() -> None:
    assert DEFAULT_COLLECTION_POLICY.plans
    for plan in DEFAULT_COLLECTION_POLICY.plans:
        assert plan_problems(plan.items) == [], plan.name


def test_a_plan_item_refuses_a_negative_offset() -> None:
    with pytest.raises(pydantic.ValidationError):
        item("100", offset_days=-1)


@pytest.mark.parametrize("percent", ["0", "-10", "100.001"])
def test_a_plan_item_refuses_a_percent_outside_0_to_100(percent: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        item(percent)


def test_a_negative_offset_that_bypassed_validation_is_still_reported() -> None:
    unchecked = PaymentPlanItem.model_construct(
        percent=D("100"), trigger=PaymentTrigger.dispatch, offset_days=-5, fixed_date=None
    )

    problems = plan_problems([unchecked])

    assert len(problems) == 1
    assert "Installment 1" in problems[0]
    assert "negative" in problems[0]


# due_date ----------------------------------------------------------------------------------

CONFIRMED_ON, DISPATCHED_ON, ACCEPTED_ON = date(2026, 1, 5), date(2026, 2, 1), date(2026, 2, 20)
ALL_EVENTS = {
    PaymentTrigger.confirmation: CONFIRMED_ON,
    PaymentTrigger.dispatch: DISPATCHED_ON,
    PaymentTrigger.acceptance: ACCEPTED_ON,
}


@pytest.mark.parametrize(
    ("trigger", "happened_on"),
    [
        (PaymentTrigger.confirmation, CONFIRMED_ON),
        (PaymentTrigger.dispatch, DISPATCHED_ON),
        (PaymentTrigger.acceptance, ACCEPTED_ON),
    ],
)
@pytest.mark.parametrize("offset_days", [0, 1, 30, 365])
def test_an_installment_is_due_its_offset_after_its_event(
    trigger: PaymentTrigger, happened_on: date, offset_days: int
) -> None:
    assert due_date(trigger, offset_days, None, ALL_EVENTS) == happened_on + timedelta(
        days=offset_days
    )


def test_an_offset_crosses_month_and_year_ends() -> None:
    events = {PaymentTrigger.acceptance: date(2026, 12, 20)}

    assert due_date(PaymentTrigger.acceptance, 30, None, events) == date(2027, 1, 19)
    assert due_date(PaymentTrigger.acceptance, 365, None, events) == date(2027, 12, 20)


@pytest.mark.parametrize(
    "trigger", [PaymentTrigger.confirmation, PaymentTrigger.dispatch, PaymentTrigger.acceptance]
)
def test_an_installment_has_no_due_date_while_its_event_has_not_happened(
    trigger: PaymentTrigger,
) -> None:
    others = {t: d for t, d in ALL_EVENTS.items() if t != trigger}

    assert due_date(trigger, 30, None, others) is None
    assert due_date(trigger, 0, None, {}) is None


def test_a_fixed_date_installment_is_due_on_its_date_whatever_has_happened() -> None:
    fixed = date(2026, 6, 30)

    assert due_date(PaymentTrigger.fixed_date, 0, fixed, {}) == fixed
    assert due_date(PaymentTrigger.fixed_date, 0, fixed, ALL_EVENTS) == fixed


def test_a_fixed_date_installment_with_an_offset_is_due_that_many_days_later() -> None:
    # the order page shows such an installment as "fixed date + N days"
    assert due_date(PaymentTrigger.fixed_date, 10, date(2026, 6, 30), {}) == date(2026, 7, 10)


def test_a_fixed_date_installment_without_a_date_has_no_due_date() -> None:
    assert due_date(PaymentTrigger.fixed_date, 0, None, ALL_EVENTS) is None


def test_an_event_installment_ignores_a_stray_fixed_date() -> None:
    assert due_date(PaymentTrigger.dispatch, 0, date(2030, 1, 1), ALL_EVENTS) == DISPATCHED_ON
    assert due_date(PaymentTrigger.dispatch, 0, date(2030, 1, 1), {}) is None


# allocate ----------------------------------------------------------------------------------


@st.composite
def open_installments_and_payment(
    draw: st.DrawFn,
) -> tuple[list[InstallmentState], Decimal]:
    """Installments in any order (positions 1..n), some undated, some sharing a due date, some
    already partly or fully paid; and a payment between a cent and everything still open."""
    count = draw(st.integers(1, 8))
    installments = []
    for position in range(1, count + 1):
        amount = draw(st.integers(1, 10**8))
        paid = draw(st.one_of(st.just(0), st.just(amount), st.integers(0, amount)))
        # a narrow range of dates so that some installments fall due on the same day
        due = draw(st.none() | st.dates(date(2026, 1, 1), date(2026, 1, 10)))
        installments.append(
            InstallmentState(
                position=position,
                trigger=PaymentTrigger.confirmation,
                amount=D(amount).scaleb(-2),
                paid=D(paid).scaleb(-2),
                due_date=due,
            )
        )
    open_cents = sum(int(i.open * 100) for i in installments)
    if open_cents == 0:  # give the payment something to go to
        first = installments[0]
        installments[0] = first.model_copy(update={"paid": first.amount - CENT})
        open_cents = 1
    payment = D(draw(st.integers(1, open_cents))).scaleb(-2)
    return draw(st.permutations(installments)), payment


@FAST
@given(case=open_installments_and_payment())
def test_a_payment_is_spread_exactly_and_never_beyond_what_is_open(
    case: tuple[list[InstallmentState], Decimal],
) -> None:
    installments, payment = case
    by_position = {i.position: i for i in installments}

    allocations = allocate(installments, payment)

    assert sum((a.amount for a in allocations), D("0")) == payment
    assert len({a.position for a in allocations}) == len(allocations)
    for a in allocations:
        assert a.position in by_position
        assert 0 < a.amount <= by_position[a.position].open
    for i in installments:
        if i.open == 0:
            assert received(allocations, i.position) == 0


@FAST
@given(case=open_installments_and_payment())
def test_a_payment_goes_to_the_oldest_due_first_and_to_undated_installments_last(
    case: tuple[list[InstallmentState], Decimal],
) -> None:
    installments, payment = case
    allocations = allocate(installments, payment)
    open_ = [i for i in installments if i.open > 0]

    def covered(i: InstallmentState) -> bool:
        return received(allocations, i.position) == i.open

    for x in open_:
        if received(allocations, x.position) == 0:
            continue
        for y in open_:
            if x.due_date is None:
                comes_first = y.due_date is not None or y.position < x.position
            else:
                comes_first = y.due_date is not None and y.due_date < x.due_date
            if comes_first:
                assert covered(y), (x.position, y.position)

    # money fills one installment after another: at most one is left part-paid
    partly = [i for i in open_ if 0 < received(allocations, i.position) < i.open]
    assert len(partly) <= 1


def test_partial_payments_fill_installments_in_due_order() -> None:
    plan = [
        installment(1, "300.00", due=date(2026, 1, 5)),
        installment(2, "600.00", due=date(2026, 3, 1)),
        installment(3, "100.00", due=date(2027, 2, 1)),
    ]

    first = allocate(plan, D("450.00"))
    assert [(a.position, a.amount) for a in first] == [(1, D("300.00")), (2, D("150.00"))]

    after_first = [
        i.model_copy(update={"paid": i.paid + received(first, i.position)}) for i in plan
    ]
    second = allocate(after_first, D("500.00"))
    assert [(a.position, a.amount) for a in second] == [(2, D("450.00")), (3, D("50.00"))]


def test_an_installment_whose_event_has_not_happened_is_paid_after_dated_ones() -> None:
    plan = [
        installment(1, "100.00", trigger=PaymentTrigger.acceptance),  # not yet accepted
        installment(2, "100.00", due=date(2026, 1, 10)),
        installment(3, "100.00", trigger=PaymentTrigger.dispatch),  # not yet dispatched
        installment(4, "100.00", trigger=PaymentTrigger.fixed_date, due=date(2026, 2, 1)),
    ]

    allocations = allocate(plan, D("350.00"))

    assert [(a.position, a.amount) for a in allocations] == [
        (2, D("100.00")),
        (4, D("100.00")),
        (1, D("100.00")),
        (3, D("50.00")),
    ]


def test_a_fully_paid_installment_gets_nothing() -> None:
    plan = [
        installment(1, "300.00", paid="300.00", due=date(2026, 1, 5)),
        installment(2, "700.00", paid="100.00", due=date(2026, 2, 5)),
    ]

    allocations = allocate(plan, D("600.00"))

    assert [(a.position, a.amount) for a in allocations] == [(2, D("600.00"))]


def test_paying_everything_that_is_open_covers_every_installment() -> None:
    plan = [
        installment(1, "300.00", paid="120.00", due=date(2026, 1, 5)),
        installment(2, "600.00"),
        installment(3, "100.00", due=date(2026, 9, 1)),
    ]

    allocations = allocate(plan, D("880.00"))

    assert {a.position: a.amount for a in allocations} == {
        1: D("180.00"),
        2: D("600.00"),
        3: D("100.00"),
    }


@pytest.mark.parametrize("amount", ["0", "0.00", "-0.01", "-100"])
def test_a_payment_of_nothing_or_less_is_refused(amount: str) -> None:
    with pytest.raises(AllocationError) as refused:
        allocate([installment(1, "100.00")], D(amount))

    assert isinstance(refused.value, Refusal)
    assert "more than zero" in str(refused.value)


def test_a_payment_above_what_is_open_is_refused_naming_both_amounts() -> None:
    plan = [
        installment(1, "100.00", paid="100.00", due=date(2026, 1, 5)),
        installment(2, "100.00", paid="25.00"),
    ]

    with pytest.raises(AllocationError) as refused:
        allocate(plan, D("75.01"))

    assert isinstance(refused.value, Refusal)
    message = str(refused.value)
    assert "75.01" in message
    assert "75.00" in message
    assert "outstanding" in message


def test_any_payment_to_a_fully_paid_order_is_refused() -> None:
    with pytest.raises(AllocationError):
        allocate([installment(1, "100.00", paid="100.00")], D("0.01"))


def test_the_refusal_of_an_overpayment_can_be_translated() -> None:
    templates = set()
    for amount in ("150.00", "250.00"):
        with pytest.raises(AllocationError) as refused:
            allocate([installment(1, "100.00")], D(amount))
        assert amount in refused.value.translated(lambda template: template)
        templates.add(refused.value.template)

    assert len(templates) == 1


# collection_moments ------------------------------------------------------------------------


def test_collection_moments_of_the_default_policy() -> None:
    moments = collection_moments(date(2026, 3, 10), CollectionPolicy())

    assert moments.reminder == datetime(2026, 3, 7, tzinfo=UTC)
    assert moments.overdue == datetime(2026, 3, 11, tzinfo=UTC)
    assert moments.manager == datetime(2026, 3, 26, tzinfo=UTC)
    assert moments.director == datetime(2026, 4, 10, tzinfo=UTC)


def test_an_installment_due_on_new_years_eve_is_overdue_on_new_years_day() -> None:
    policy = CollectionPolicy(reminder_days_before=5, manager_after_days=1, director_after_days=2)

    moments = collection_moments(date(2026, 12, 31), policy)

    assert moments.reminder == datetime(2026, 12, 26, tzinfo=UTC)
    assert moments.overdue == datetime(2027, 1, 1, tzinfo=UTC)
    assert moments.manager == datetime(2027, 1, 2, tzinfo=UTC)
    assert moments.director == datetime(2027, 1, 3, tzinfo=UTC)


def test_a_reminder_zero_days_before_comes_at_the_start_of_the_due_date() -> None:
    moments = collection_moments(date(2026, 3, 10), CollectionPolicy(reminder_days_before=0))

    assert moments.reminder == datetime(2026, 3, 10, tzinfo=UTC)


@FAST
@given(
    due=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    reminder_days=st.integers(0, 60),
    manager_days=st.integers(1, 365),
    director_days=st.integers(1, 730),
)
def test_collection_moments_fall_at_midnight_utc_counted_from_the_due_date(
    due: date, reminder_days: int, manager_days: int, director_days: int
) -> None:
    policy = CollectionPolicy(
        reminder_days_before=reminder_days,
        manager_after_days=manager_days,
        director_after_days=director_days,
    )

    moments = collection_moments(due, policy)

    for moment in (moments.reminder, moments.overdue, moments.manager, moments.director):
        assert moment.tzinfo is not None
        assert moment.utcoffset() == timedelta(0)
        assert moment.time() == datetime.min.time()
    assert moments.reminder.date() == due - timedelta(days=reminder_days)
    assert moments.overdue.date() == due + timedelta(days=1)
    assert moments.manager - moments.overdue == timedelta(days=manager_days)
    assert moments.director - moments.overdue == timedelta(days=director_days)
    assert moments.reminder < moments.overdue


# collection_status -------------------------------------------------------------------------

YESTERDAY, TOMORROW = TODAY - timedelta(days=1), TODAY + timedelta(days=1)


@pytest.mark.parametrize(
    ("installments", "status"),
    [
        pytest.param(
            [installment(1, "300.00", paid="300.00", due=YESTERDAY)],
            "paid",
            id="everything paid, even if late",
        ),
        pytest.param(
            [
                installment(1, "300.00", paid="300.00", due=YESTERDAY),
                installment(2, "700.00", paid="700.00"),
            ],
            "paid",
            id="all installments paid",
        ),
        pytest.param(
            [installment(1, "300.00", paid="299.99", due=YESTERDAY)],
            "overdue",
            id="a cent short after the due date",
        ),
        pytest.param(
            [
                installment(1, "300.00", paid="300.00", due=date(2026, 1, 1)),
                installment(2, "600.00", due=TOMORROW),
                installment(3, "100.00", due=date(2025, 12, 1)),
            ],
            "overdue",
            id="one open installment past due among others",
        ),
        pytest.param([installment(1, "300.00", due=TODAY)], "due", id="due today"),
        pytest.param(
            [
                installment(1, "300.00", paid="300.00", due=YESTERDAY),
                installment(2, "700.00", due=TOMORROW),
            ],
            "due",
            id="open with a due date ahead",
        ),
        pytest.param(
            [installment(1, "300.00", due=TOMORROW), installment(2, "700.00")],
            "due",
            id="one dated, one waiting for its event",
        ),
        pytest.param(
            [
                installment(1, "300.00", trigger=PaymentTrigger.dispatch),
                installment(2, "700.00", trigger=PaymentTrigger.acceptance),
            ],
            "not_due",
            id="no event has happened yet",
        ),
        pytest.param(
            [
                installment(1, "300.00", paid="300.00", due=YESTERDAY),
                installment(2, "700.00", trigger=PaymentTrigger.acceptance),
            ],
            "not_due",
            id="deposit paid, the rest waits for acceptance",
        ),
    ],
)
def test_collection_status(installments: list[InstallmentState], status: str) -> None:
    assert collection_status(installments, TODAY) == status


# aging_bucket ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_past_due", "bucket"),
    [
        (-30, "not_due"),
        (-1, "not_due"),
        (0, "not_due"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "over_90"),
        (3650, "over_90"),
    ],
)
def test_aging_bucket_boundaries(days_past_due: int, bucket: str) -> None:
    assert aging_bucket(TODAY - timedelta(days=days_past_due), TODAY) == bucket


def test_an_amount_without_a_due_date_is_not_due() -> None:
    assert aging_bucket(None, TODAY) == "not_due"


@FAST
@given(
    due=st.none() | st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    today=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
)
def test_every_amount_falls_in_one_of_the_aging_columns(due: date | None, today: date) -> None:
    bucket = aging_bucket(due, today)

    assert bucket in AGING_BUCKETS
    if due is not None:
        # one day later an amount never moves back to a younger column
        later = aging_bucket(due, today + timedelta(days=1))
        assert AGING_BUCKETS.index(later) >= AGING_BUCKETS.index(bucket)
