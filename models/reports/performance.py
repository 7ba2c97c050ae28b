"""The performance report: per person, department (its tree rolled up) or customer, over a
month, quarter or year: the order target against what was confirmed (net of returns, credit
notes and cancellations, in the month of confirmation), the collection target against the
money collected, and what was refunded, returned, is outstanding, invoiced and applied for.

Orders count by their confirmation date in the company's time zone; an order cancelled after
confirmation counts nothing confirmed. Collected and refunded are the money moved in the period
(a payment by the day it was received, a refund by the day it was paid back); returned,
outstanding and the invoices are of the orders confirmed in the period. Scoped exactly like the
order list (models.queries.order_scope). A department's row is its whole tree: each order
belongs to one department, so it counts once in it and once in each department above."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.company import company_time_zone
from models.domain import Role, Stage
from models.queries import department_subtree, managed_department_ids, order_scope
from models.reports.net_revenue import credited_for_returns_of_order
from models.reports.performance_period import ReportPeriod
from models.reports.receivables_scope import is_open
from models.reports.refund_figures import credited_of_order
from models.reports.sums import ZERO, sum_as_money
from models.tables import (
    CreditNote,
    Customer,
    Department,
    Installment,
    Invoice,
    Order,
    Payment,
    Refund,
    User,
)
from models.targets.store import month_targets
from workflows.rules.money import percent_of


@dataclass
class Figures:
    """What a row counts, before targets: summed over orders (and money moved)."""

    confirmed: Decimal = ZERO
    returned: Decimal = ZERO
    collected: Decimal = ZERO
    refunded: Decimal = ZERO
    outstanding: Decimal = ZERO
    invoice_applied: Decimal = ZERO
    invoice_issued: Decimal = ZERO

    def plus(self, other: Figures) -> Figures:
        return Figures(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass(frozen=True)
class PerformanceRow:
    """One person, department or customer. Targets are None where there is none (customers);
    percentages None without a target; shortfalls never below zero."""

    key: int
    name: str
    depth: int
    target: Decimal | None
    confirmed: Decimal
    achieved_percent: Decimal | None
    shortfall: Decimal | None
    collection_target: Decimal | None
    collected: Decimal
    collected_percent: Decimal | None
    collection_shortfall: Decimal | None
    refunded: Decimal
    returned: Decimal
    outstanding: Decimal
    invoice_applied: Decimal
    invoice_issued: Decimal


def row_of(
    key: int,
    name: str,
    figures: Figures,
    target: Decimal | None,
    collection: Decimal | None,
    depth: int = 0,
) -> PerformanceRow:
    return PerformanceRow(
        key=key,
        name=name,
        depth=depth,
        target=target,
        confirmed=figures.confirmed,
        achieved_percent=percent_of(figures.confirmed, target),
        shortfall=None if target is None else max(target - figures.confirmed, ZERO),
        collection_target=collection,
        collected=figures.collected,
        collected_percent=percent_of(figures.collected, collection),
        collection_shortfall=None
        if collection is None
        else max(collection - figures.collected, ZERO),
        refunded=figures.refunded,
        returned=figures.returned,
        outstanding=figures.outstanding,
        invoice_applied=figures.invoice_applied,
        invoice_issued=figures.invoice_issued,
    )


async def performance_rows(
    *, session: AsyncSession, user: User, period: ReportPeriod, by: str
) -> list[PerformanceRow]:
    """The report's rows for the user's scope: what the page, the API and an export show."""
    scope = await order_scope(session=session, user=user)
    column = {
        "person": Order.owner_id,
        "department": Order.department_id,
        "customer": Order.customer_id,
    }[by]
    figures = await figures_by(session=session, scope=scope, period=period, column=column)
    if by == "customer":
        return await _customer_rows(session, figures)
    if by == "person":
        return await _person_rows(session, user, period, figures)
    return await _department_rows(session, user, period, figures)


async def figures_by(
    *, session: AsyncSession, scope: ColumnElement[bool], period: ReportPeriod, column: Any
) -> dict[int, Figures]:
    """Each group's figures (by the order's owner, department or customer)."""
    zone = ZoneInfo(await company_time_zone(session=session))
    # In UTC, as the moments are stored (SQLite compares them as text).
    start = datetime.combine(period.first, time(), zone).astimezone(UTC)
    end = datetime.combine(period.last + timedelta(days=1), time(), zone).astimezone(UTC)
    confirmed = [scope, Order.confirmed_at >= start, Order.confirmed_at < end]
    found: dict[int, Figures] = {}

    def add(rows: Iterable[Any], *names: str) -> None:
        for key, *values in rows:
            current = found.setdefault(key, Figures())
            for name, value in zip(names, values, strict=True):
                setattr(current, name, getattr(current, name) + sum_as_money(value))

    live = Order.stage != Stage.cancelled.value
    # net_confirmed() summed in two parts, each reading only its own rows: the live orders'
    # totals less what came back, then the credit notes crediting no return (not looked up
    # for every order: a year is half of a big company's orders).
    add(
        await session.execute(
            select(
                column,
                func.sum(case((live, Order.total - Order.returned), else_=0)),
                func.sum(Order.returned),
            )
            .where(*confirmed)
            .group_by(column)
        ),
        "confirmed",
        "returned",
    )
    add(
        await session.execute(
            select(column, -func.sum(CreditNote.amount))
            .join(Order, Order.id == CreditNote.order_id)
            .where(*confirmed, live, CreditNote.status == "issued")
            .where(CreditNote.return_id.is_(None))
            .group_by(column)
        ),
        "confirmed",
    )
    add(
        await session.execute(
            select(column, func.sum(Installment.amount - Installment.paid))
            .join(Order, Order.id == Installment.order_id)
            .where(*confirmed, live, *is_open(Installment))
            .group_by(column)
        ),
        "outstanding",
    )
    applied = case((Invoice.status != "rejected", Invoice.amount), else_=0)
    issued = case((Invoice.status == "issued", Invoice.amount), else_=0)
    add(
        await session.execute(
            select(column, func.sum(applied), func.sum(issued))
            .join(Order, Order.id == Invoice.order_id)
            .where(*confirmed)
            .group_by(column)
        ),
        "invoice_applied",
        "invoice_issued",
    )
    add(
        await session.execute(
            select(column, func.sum(Payment.amount))
            .join(Order, Order.id == Payment.order_id)
            .where(scope, Payment.status == "confirmed")
            .where(Payment.received_on >= period.first, Payment.received_on <= period.last)
            .group_by(column)
        ),
        "collected",
    )
    add(
        await session.execute(
            select(column, func.sum(Refund.amount))
            .join(Order, Order.id == Refund.order_id)
            .where(scope, Refund.status == "refunded")
            .where(Refund.paid_on >= period.first, Refund.paid_on <= period.last)
            .group_by(column)
        ),
        "refunded",
    )
    return found


def net_confirmed() -> ColumnElement[Decimal]:
    """What an order counts as confirmed, per order in a sum: its total net of returns and of
    the credit notes crediting no return; nothing once cancelled."""
    net = Order.total - Order.returned - (credited_of_order() - credited_for_returns_of_order())
    return case((Order.stage != Stage.cancelled.value, net), else_=0)


async def _customer_rows(
    session: AsyncSession, figures: dict[int, Figures]
) -> list[PerformanceRow]:
    names = dict(
        (
            await session.execute(
                select(Customer.id, Customer.name).where(Customer.id.in_(figures))
            )
        ).all()
    )
    return sorted(
        (row_of(key, names[key], f, None, None) for key, f in figures.items()),
        key=lambda r: (-r.confirmed, r.name),
    )


async def _visible_departments(session: AsyncSession, user: User) -> set[int] | None:
    """The departments whose rows and people the user sees: a sales manager's tree, a
    follower's own department (they see its orders), none for a rep (only their own row);
    None for everyone (the others see every order)."""
    role = Role(user.role)
    if role == Role.sales_manager:
        managed = await managed_department_ids(session=session, user=user)
        return set(await department_subtree(session=session, roots=[*managed, user.department_id]))
    if role == Role.sales:
        return set()  # their own orders are no department's figures
    if role == Role.follower:
        return {user.department_id}
    return None


async def _targets_over(
    session: AsyncSession, period: ReportPeriod
) -> tuple[dict[tuple[str, int], Decimal], dict[tuple[str, int], Decimal]]:
    """Each person's and each department's targets summed over the period's months (a
    department's is its own where set, else its people's and sub-departments')."""
    departments = list(await session.scalars(select(Department)))
    people: dict[tuple[str, int], Decimal] = {}
    whole: dict[tuple[str, int], Decimal] = {}
    for month in period.months:
        targets = await month_targets(session=session, month=month, departments=departments)
        for key, amount in targets.people.items():
            people[key] = people.get(key, ZERO) + amount
        for measure in ("confirmed", "collected"):
            for department in departments:
                key = (measure, department.id)
                whole[key] = whole.get(key, ZERO) + targets.department(measure, department.id)
    return people, whole


async def _person_rows(
    session: AsyncSession, user: User, period: ReportPeriod, figures: dict[int, Figures]
) -> list[PerformanceRow]:
    """The owners with figures, and the people in view with a target; a rep sees only
    themselves (their scope has only their orders)."""
    people_targets, _ = await _targets_over(session, period)
    visible = await _visible_departments(session, user)
    with_target = {user_id for _, user_id in people_targets}
    if Role(user.role) == Role.sales:
        with_target &= {user.id}
    keys = set(figures) | with_target
    users = list(await session.scalars(select(User).where(User.id.in_(keys))))
    rows = []
    for person in users:
        hidden = visible is not None and person.department_id not in visible
        if person.id not in figures and person.id != user.id and hidden:
            continue
        rows.append(
            row_of(
                person.id,
                person.full_name,
                figures.get(person.id, Figures()),
                people_targets.get(("confirmed", person.id)),
                people_targets.get(("collected", person.id)),
            )
        )
    return sorted(rows, key=lambda r: r.name)


async def _department_rows(
    session: AsyncSession, user: User, period: ReportPeriod, figures: dict[int, Figures]
) -> list[PerformanceRow]:
    """Every department in view with its whole tree's figures, depth first."""
    _, targets = await _targets_over(session, period)
    visible = await _visible_departments(session, user)
    departments = list(await session.scalars(select(Department).order_by(Department.name)))
    children: dict[int | None, list[Department]] = {}
    for department in departments:
        children.setdefault(department.parent_id, []).append(department)
    rows: list[PerformanceRow] = []

    def walk(department: Department, depth: int) -> Figures:
        at = len(rows)
        total = figures.get(department.id, Figures())
        below = [walk(child, depth + 1) for child in children.get(department.id, [])]
        for part in below:
            total = total.plus(part)
        shown = visible is None or department.id in visible
        target = targets.get(("confirmed", department.id)) or None
        collection = targets.get(("collected", department.id)) or None
        if shown and (total != Figures() or target or collection):
            rows.insert(
                at, row_of(department.id, department.name, total, target, collection, depth)
            )
        return total

    for root in children.get(None, []):
        walk(root, 0)
    return rows


def totals_of(rows: list[PerformanceRow], by: str) -> PerformanceRow | None:
    """The report's total: the rows summed, a department tree counted at its top rows only
    (each order is in its department and in every one above: never counted twice)."""
    counted = [r for r in rows if by != "department" or r.depth == min(x.depth for x in rows)]
    if not counted:
        return None
    figures = Figures()
    target = collection = ZERO
    for row in counted:
        figures = figures.plus(
            Figures(
                row.confirmed,
                row.returned,
                row.collected,
                row.refunded,
                row.outstanding,
                row.invoice_applied,
                row.invoice_issued,
            )
        )
        target += row.target or ZERO
        collection += row.collection_target or ZERO
    has_targets = by != "customer"
    return row_of(
        0, "", figures, target if has_targets else None, collection if has_targets else None
    )
