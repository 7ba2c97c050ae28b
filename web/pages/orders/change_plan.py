"""The change form's payment plan: what is paid (shown, never changed), the plan of what is not
yet paid as the order's installments make it now (each open amount's share of what is left),
the plan a posted form asks for (only when it differs from the one it started from), and the
installments the change would leave, for its preview."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models.change_terms import plan_of
from models.domain import InstallmentState, PaymentPlanItem, PaymentTrigger
from models.queries import installments as installments_of
from models.tables import Installment, Order
from web.commands.actions import Refused
from workflows import rules

PLAN_FIELDS = ("percent", "trigger", "offset_days", "fixed_date")
BLANK_PLAN_ROWS = 1
MAX_OFFSET_DAYS = 3650
PERCENT_WRONG = N_("Installment %(n)s: the percentage must be a number above 0 and at most 100.")
TRIGGER_WRONG = N_("Installment %(n)s: choose when it falls due.")
OFFSET_WRONG = N_("Installment %(n)s: the days after must be a whole number from 0 to 3650.")
DATE_WRONG = N_("Installment %(n)s: the fixed date is not a date.")
NO_INSTALLMENT = N_(
    "The payment plan of what is not yet paid needs at least one installment; its "
    "percentages add up to 100."
)


@dataclass
class PlannedInstallment:
    """An installment as the form and the preview show it."""

    position: int
    trigger: str
    offset_days: int
    amount: Decimal
    paid: Decimal = Decimal("0")
    fixed_date: dt.date | None = None
    due_date: dt.date | None = None


@dataclass
class PlanStart:
    """The order's payment plan as the change form starts from it."""

    paid: list[PlannedInstallment]  # installments money went to: shown, not changed
    rows: list[dict[str, str]]  # the plan of what is not yet paid, as the form's rows
    left: Decimal  # what is not yet paid


def _percent_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _row(trigger: str, offset_days: int, fixed: dt.date | None, percent: Decimal) -> dict[str, str]:
    return {
        "percent": _percent_text(percent),
        "trigger": trigger,
        "offset_days": str(offset_days),
        "fixed_date": str(fixed or "") if trigger == PaymentTrigger.fixed_date else "",
    }


def _shown(row: Installment) -> PlannedInstallment:
    return PlannedInstallment(
        position=row.position,
        trigger=row.trigger,
        offset_days=row.offset_days,
        amount=row.amount,
        paid=row.paid,
        due_date=row.due_on,
    )


async def plan_start(*, session: AsyncSession, order: Order) -> PlanStart:
    """Before confirmation, the order's plan (nothing is paid); after it, each installment's
    open amount as a share of what is left, in percent (to the hundredth, summing to 100)."""
    if order.collection_status is None:
        rows = [
            _row(item.trigger, item.offset_days, item.fixed_on, item.percent)
            for item in order.payment_plan
        ]
        return PlanStart(paid=[], rows=rows, left=order.total)
    installments = await installments_of(session=session, order=order)
    opened = [i for i in installments if i.amount > i.paid]
    left = sum((i.amount - i.paid for i in opened), Decimal("0"))
    shares = rules.spread(rules.HUNDRED, [i.amount - i.paid for i in opened]) if left else []
    return PlanStart(
        paid=[_shown(i) for i in installments if i.paid > 0],
        rows=[
            _row(i.trigger, i.offset_days, i.due_on, share)
            for i, share in zip(opened, shares, strict=True)
            if share > 0
        ],
        left=left,
    )


def _signature(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
    """The rows as a comparable list (blank rows left out, numbers normalised)."""
    signed: list[tuple[str, ...]] = []
    for row in rows:
        if not row.get("percent"):
            continue
        try:
            percent = _percent_text(Decimal(row["percent"].replace(",", "")))
        except InvalidOperation:
            percent = row["percent"]
        fixed = row.get("fixed_date", "") if row.get("trigger") == PaymentTrigger.fixed_date else ""
        signed.append((percent, row.get("trigger", ""), row.get("offset_days") or "0", fixed))
    return signed


def plan_was(rows: list[dict[str, str]]) -> str:
    """The plan the form started from, kept in a hidden field: the form compares with it, so
    a payment confirmed between preview and sending does not turn it into a new plan."""
    return ";".join("|".join(row) for row in _signature(rows))


def _item(n: int, row: dict[str, str]) -> dict[str, Any]:
    """One installment of the posted plan, each problem said in the person's words."""
    try:
        percent = Decimal(row["percent"].replace(",", ""))
    except InvalidOperation as error:
        raise Refused(422, PERCENT_WRONG, n=n) from error
    if not (0 < percent <= rules.HUNDRED) or percent != round(percent, 3):
        raise Refused(422, PERCENT_WRONG, n=n)
    if row["trigger"] not in PaymentTrigger.__members__:
        raise Refused(422, TRIGGER_WRONG, n=n)
    offset = row["offset_days"] or "0"
    if not offset.isdigit() or int(offset) > MAX_OFFSET_DAYS:
        raise Refused(422, OFFSET_WRONG, n=n)
    fixed = None
    if row["trigger"] == PaymentTrigger.fixed_date and row["fixed_date"]:
        try:
            fixed = dt.date.fromisoformat(row["fixed_date"])
        except ValueError as error:
            raise Refused(422, DATE_WRONG, n=n) from error
    return {
        "percent": percent,
        "trigger": row["trigger"],
        "offset_days": int(offset),
        "fixed_date": fixed,
    }


def plan_body(values: dict[str, Any], start: PlanStart) -> list[dict[str, Any]] | None:
    """The payment plan the form asks for, or None when it is the one the form started from
    (the change then spreads what is left over the open installments as they are)."""
    started = values.get("plan_was")
    if started is None and not values["plan"]:  # a form without the plan leaves it as it is
        return None
    if plan_was(values["plan"]) == (plan_was(start.rows) if started is None else started):
        return None
    rows = [row for row in values["plan"] if row.get("percent")]
    if not rows:
        raise Refused(422, NO_INSTALLMENT)
    return [_item(n, row) for n, row in enumerate(rows, start=1)]


async def installments_after(
    *, session: AsyncSession, order: Order, total: Decimal, plan: list[PaymentPlanItem] | None
) -> list[PlannedInstallment]:
    """The installments the change would leave (none when its total is below what is paid:
    sending it says so)."""
    if order.collection_status is None:
        items = plan if plan is not None else plan_of(order)
        amounts = rules.installment_amounts(total, [item.percent for item in items])
        return [
            PlannedInstallment(
                position=n,
                trigger=item.trigger.value,
                offset_days=item.offset_days,
                amount=amount,
                fixed_date=item.fixed_date,
            )
            for n, (item, amount) in enumerate(zip(items, amounts, strict=True), start=1)
        ]
    rows = await installments_of(session=session, order=order)
    if not rows or total < sum((i.paid for i in rows), Decimal("0")):
        return []
    states = [
        InstallmentState(
            position=i.position,
            trigger=PaymentTrigger(i.trigger),
            offset_days=i.offset_days,
            amount=i.amount,
            paid=i.paid,
            due_date=i.due_on,
        )
        for i in rows
    ]
    return [
        PlannedInstallment(
            position=s.position,
            trigger=s.trigger.value,
            offset_days=s.offset_days,
            amount=s.amount,
            paid=s.paid,
            due_date=s.due_date,
        )
        for s in rules.installments_after_change(states, total, plan)
    ]
