"""Collecting payment: installments, due dates, allocation, timers, status and aging."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from models.domain import (
    Allocation,
    CollectionPolicy,
    InstallmentState,
    NamedPlan,
    PaymentPlanItem,
    PaymentTrigger,
    Refusal,
)
from workflows.rules.money import HUNDRED, money


def installment_amounts(total: Decimal, percents: Sequence[Decimal]) -> list[Decimal]:
    """Each installment's share of the order total, rounded half up on the running sum so that
    the amounts never go negative and sum exactly to the total (the last one takes what is
    left)."""
    amounts: list[Decimal] = []
    running_percent, paid_so_far = Decimal("0"), Decimal("0")
    for n, percent in enumerate(percents, start=1):
        running_percent += percent
        running = total if n == len(percents) else money(total * running_percent / HUNDRED)
        amounts.append(running - paid_so_far)
        paid_so_far = running
    return amounts


PLAN_30_60_10 = NamedPlan(
    name="30/60/10",
    items=[
        PaymentPlanItem(percent=Decimal("30"), trigger=PaymentTrigger.confirmation),
        PaymentPlanItem(percent=Decimal("60"), trigger=PaymentTrigger.acceptance, offset_days=30),
        PaymentPlanItem(percent=Decimal("10"), trigger=PaymentTrigger.acceptance, offset_days=365),
    ],
)
DEFAULT_COLLECTION_POLICY = CollectionPolicy(
    plans=[
        NamedPlan(
            name="100 % on confirmation",
            items=[PaymentPlanItem(percent=HUNDRED, trigger=PaymentTrigger.confirmation)],
        ),
        PLAN_30_60_10,
        NamedPlan(
            name="50/50",
            items=[
                PaymentPlanItem(percent=Decimal("50"), trigger=PaymentTrigger.confirmation),
                PaymentPlanItem(percent=Decimal("50"), trigger=PaymentTrigger.dispatch),
            ],
        ),
    ]
)


def plan_problems(items: Sequence[PaymentPlanItem]) -> list[str]:
    """What is wrong with a payment plan, in words for the person entering it."""
    problems = []
    if items and sum((item.percent for item in items), Decimal("0")) != HUNDRED:
        problems.append("The payment plan's percentages must add up to exactly 100.")
    for n, item in enumerate(items, start=1):
        if item.offset_days < 0:
            problems.append(f"Installment {n}: the offset in days cannot be negative.")
        if item.trigger == PaymentTrigger.fixed_date and item.fixed_date is None:
            problems.append(f"Installment {n} is due on a fixed date but has no date.")
    return problems


def due_date(
    trigger: PaymentTrigger,
    offset_days: int,
    fixed_date: date | None,
    events: dict[PaymentTrigger, date],
) -> date | None:
    """When an installment is due: its event's date plus the offset, or its fixed date; None
    while the event has not happened."""
    if trigger == PaymentTrigger.fixed_date:
        return fixed_date + timedelta(days=offset_days) if fixed_date else None
    happened = events.get(trigger)
    return happened + timedelta(days=offset_days) if happened else None


class AllocationError(Refusal):
    """A payment that cannot be allocated (more than is outstanding)."""


def allocate(installments: Sequence[InstallmentState], amount: Decimal) -> list[Allocation]:
    """Spread a confirmed payment over the open installments, the oldest due first (those
    without a due date last, in plan order); never more than an installment's open amount.
    Raises AllocationError when the amount is not positive or above what is open."""
    if amount <= 0:
        raise AllocationError("A payment must be more than zero.")
    outstanding = sum((i.open for i in installments), Decimal("0"))
    if amount > outstanding:
        raise AllocationError(
            "The payment of %(amount)s is more than the %(outstanding)s outstanding.",
            amount=amount,
            outstanding=outstanding,
        )
    order = sorted(
        (i for i in installments if i.open > 0),
        key=lambda i: (i.due_date is None, i.due_date or date.min, i.position),
    )
    left, allocations = amount, []
    for installment in order:
        if left <= 0:
            break
        share = min(left, installment.open)
        allocations.append(Allocation(position=installment.position, amount=share))
        left -= share
    return allocations


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


@dataclass(frozen=True)
class CollectionMoments:
    """When an installment's timers fire (UTC)."""

    reminder: datetime
    overdue: datetime  # the day after the due date begins
    manager: datetime
    director: datetime


def collection_moments(due: date, policy: CollectionPolicy) -> CollectionMoments:
    overdue = day_start(due + timedelta(days=1))
    return CollectionMoments(
        reminder=day_start(due - timedelta(days=policy.reminder_days_before)),
        overdue=overdue,
        manager=overdue + timedelta(days=policy.manager_after_days),
        director=overdue + timedelta(days=policy.director_after_days),
    )


def collection_status(installments: Sequence[InstallmentState], today: date) -> str:
    """not_due, due (an installment is due today or has a due date and is open), overdue, or
    paid."""
    open_ = [i for i in installments if i.open > 0]
    if not open_:
        return "paid"
    if any(i.due_date is not None and i.due_date < today for i in open_):
        return "overdue"
    if any(i.due_date is not None for i in open_):
        return "due"
    return "not_due"


AGING_BUCKETS = ("not_due", "1-30", "31-60", "61-90", "over_90")


def aging_bucket(due: date | None, today: date) -> str:
    """The aging column of an open amount due on `due` (not yet due when it has no date)."""
    if due is None or due >= today:
        return "not_due"
    days = (today - due).days
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "over_90"
