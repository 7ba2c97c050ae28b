"""When the collection's durable timers fire next: reminders, overdue moments, escalations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from models.domain import CollectionPolicy, InstallmentState
from workflows import rules
from workflows.rules import ZERO


def on_due_date(item: InstallmentState) -> str:
    """An installment as step keys name it: its position and due date, which it has by then
    (timers watch only installments with a due date; an event gives its installments theirs)."""
    assert item.due_date is not None
    return f"{item.position}@{item.due_date.isoformat()}"


def next_timer(
    installments: Iterable[InstallmentState], policy: CollectionPolicy | None, now: datetime
) -> tuple[datetime, str, list[InstallmentState]] | None:
    """The soonest thing a timer must do, with every installment it concerns."""
    soonest: dict[tuple[datetime, str], list[InstallmentState]] = {}
    for item in installments:
        if item.open <= ZERO or item.due_date is None:
            continue
        # start_collection loaded the policy, and continue-as-new carries it.
        assert policy is not None
        moments = rules.collection_moments(item.due_date, policy)
        if item.overdue_for != item.due_date:
            # No reminder on (or after) the due day itself: the money is due, not soon due.
            if item.reminded_for != item.due_date and now < rules.day_start(item.due_date):
                soonest.setdefault((moments.reminder, "remind"), []).append(item)
            else:
                soonest.setdefault((moments.overdue, "overdue"), []).append(item)
        elif "manager" not in item.alerted:
            soonest.setdefault((moments.manager, "manager"), []).append(item)
        elif "director" not in item.alerted:
            soonest.setdefault((moments.director, "director"), []).append(item)
    if not soonest:
        return None
    moment, kind = min(soonest)
    return moment, kind, soonest[moment, kind]
