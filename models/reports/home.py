"""The figures above the inbox: where the reader stands this month.

A sales rep: their target of this month (confirmed order amount and money collected) against
what they achieved, what is still missing, and their overdue money (a follower, who enters
orders and may have a target but has no receivables, the same without it). A sales manager: the same
for their department tree (its departments rolled up as the performance report does) and a row
per person. The director: the company's net revenue, margin, money collected and overdue money
month by month over the last HOME_MONTHS months; finance the same without revenue and margin
(they see the whole company's receivables, not its sales). Anyone else: none (None).

Achieved is the performance report's (models/reports/performance.py: net of returns, credit notes
and cancellations, by the confirmation day in the company's time zone); overdue money is the
receivables' (models/reports/receivables_scope.py and aging.py: open installments due before
today, in the receivables' scope, so it is what the receivables list shows as overdue). The
month is the company's: the caller passes the company's today."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models.company import company_time_zone
from models.domain import Refusal, Role, Stage
from models.queries import order_scope, sees_costs
from models.reports.aging import aging_edges
from models.reports.performance import (
    Figures,
    PerformanceRow,
    net_confirmed,
    performance_rows,
    row_of,
)
from models.reports.performance_period import ReportPeriod, report_period
from models.reports.receivables_scope import (
    is_open,
    may_see_receivables,
    of_orders,
    receivable_orders,
)
from models.reports.statistics_period import month_case
from models.reports.sums import ZERO, sum_as_money
from models.tables import Installment, Order, Payment, User
from models.targets.store import month_targets, target_tree

HOME_MONTHS = 6
OWN, TREE, COMPANY = "own", "tree", "company"
COMPANY_ROLES = frozenset({Role.director, Role.finance})
OWN_ROLES = frozenset({Role.sales, Role.follower})
HOME_ROLES = OWN_ROLES | {Role.sales_manager} | COMPANY_ROLES
NO_HOME_FIGURES = N_(
    "The figures of the home page are for sales reps, followers, sales managers, directors and "
    "finance."
)


class HomeFiguresRefusal(Refusal):
    """Someone whose role has no home figures asked for them (403)."""


def has_home_figures(user: User) -> bool:
    return Role(user.role) in HOME_ROLES


def check_has_home_figures(user: User) -> None:
    if not has_home_figures(user):
        raise HomeFiguresRefusal(NO_HOME_FIGURES)


@dataclass(frozen=True)
class Standing:
    """A person's or a department tree's month: each target (None: none set) against what was
    achieved, what is missing (never below zero), the percent achieved, and the money overdue
    today."""

    key: int
    name: str
    target: Decimal | None
    confirmed: Decimal
    missing: Decimal | None
    achieved_percent: Decimal | None
    collection_target: Decimal | None
    collected: Decimal
    collection_missing: Decimal | None
    collected_percent: Decimal | None
    overdue: Decimal | None  # None for a follower: no receivables


@dataclass(frozen=True)
class CompanyMonth:
    """One month of the company: net revenue and margin of the orders confirmed in it (None
    for a reader who does not see them), the money received in it, and what fell due in it and
    is still unpaid today."""

    month: str  # 2026-11
    revenue: Decimal | None
    margin: Decimal | None
    collected: Decimal
    overdue: Decimal


@dataclass(frozen=True)
class HomeFigures:
    kind: str  # own, tree, company
    period: ReportPeriod  # this month
    overdue: Decimal | None  # every overdue installment in the reader's receivables, today
    standing: Standing | None = None  # own and tree
    people: list[Standing] = field(default_factory=list)  # tree
    months: list[CompanyMonth] = field(default_factory=list)  # company, the oldest first
    overdue_earlier: Decimal = ZERO  # company: fell due before the first of the months

    @property
    def month(self) -> str:
        return self.period.value

    @property
    def first_day(self) -> date:
        return self.period.first

    @property
    def last_day(self) -> date:
        return self.period.last


async def home_figures(*, session: AsyncSession, user: User, today: date) -> HomeFigures | None:
    """The reader's figures for the company's `today`; None for a role that has none."""
    if not has_home_figures(user):
        return None
    role = Role(user.role)
    period = report_period("month", today.strftime("%Y-%m"))
    if role in OWN_ROLES:
        return await _own(session, user, period, today)
    if role == Role.sales_manager:
        return await _tree(session, user, period, today)
    return await _company(session, user, period, today)


async def overdue_by_owner(
    *, session: AsyncSession, user: User, today: date
) -> tuple[Decimal, dict[int, Decimal]]:
    """The open money due before today in the user's receivables scope: in all, and per owner
    of the order."""
    conditions = await receivable_orders(
        session=session, user=user, customer_id=None, owner_id=None
    )
    rows = await session.execute(
        select(Order.owner_id, func.sum(Installment.amount - Installment.paid))
        .select_from(Installment)
        .join(Order, Order.id == Installment.order_id)
        .where(*is_open(Installment), *of_orders(Installment, conditions))
        .where(Installment.due_on < _overdue_before(today))
        .group_by(Order.owner_id)
    )
    per_owner = {owner: sum_as_money(amount) for owner, amount in rows}
    return sum(per_owner.values(), ZERO), per_owner


def _overdue_before(today: date) -> date:
    """An installment due before this day is overdue: the aging's first overdue bucket."""
    return aging_edges(today)[0]


def _standing(row: PerformanceRow, overdue: Decimal | None) -> Standing:
    return Standing(
        key=row.key,
        name=row.name,
        target=row.target,
        confirmed=row.confirmed,
        missing=row.shortfall,
        achieved_percent=row.achieved_percent,
        collection_target=row.collection_target,
        collected=row.collected,
        collection_missing=row.collection_shortfall,
        collected_percent=row.collected_percent,
        overdue=overdue,
    )


async def _own(session: AsyncSession, user: User, period: ReportPeriod, today: date) -> HomeFigures:
    rows = await performance_rows(session=session, user=user, period=period, by="person")
    mine = next((r for r in rows if r.key == user.id), None)
    if mine is None:  # nothing confirmed or collected, no target
        mine = row_of(user.id, user.full_name, Figures(), None, None)
    overdue = None  # a follower has no receivables
    if may_see_receivables(user):
        overdue, _ = await overdue_by_owner(session=session, user=user, today=today)
    return HomeFigures(OWN, period, overdue, standing=_standing(mine, overdue))


async def _tree(
    session: AsyncSession, user: User, period: ReportPeriod, today: date
) -> HomeFigures:
    """Each person of the manager's tree (the performance report's rows by person) and the
    tree: what its people achieved (its orders, each once: every order has one owner) against
    its top departments' targets (their own, else their people's and sub-departments')."""
    people = await performance_rows(session=session, user=user, period=period, by="person")
    overdue, per_owner = await overdue_by_owner(session=session, user=user, today=today)
    tree = await target_tree(session=session, user=user)
    targets = await month_targets(
        session=session, month=period.value, departments=tree.all_departments
    )
    tops = [d for d in tree.departments if tree.depth[d.id] == 0]
    achieved = Figures(
        confirmed=sum((p.confirmed for p in people), ZERO),
        collected=sum((p.collected for p in people), ZERO),
    )
    total = row_of(
        0,
        ", ".join(d.name for d in tops),
        achieved,
        sum((targets.department("confirmed", d.id) for d in tops), ZERO) or None,
        sum((targets.department("collected", d.id) for d in tops), ZERO) or None,
    )
    return HomeFigures(
        TREE,
        period,
        overdue,
        standing=_standing(total, overdue),
        people=[_standing(r, per_owner.get(r.key, ZERO)) for r in people],
    )


async def _company(
    session: AsyncSession, user: User, period: ReportPeriod, today: date
) -> HomeFigures:
    months = _months_to(period.first, HOME_MONTHS)
    sales = await _sales_by_month(session, user, months) if _sees_sales(user) else None
    collected = await _collected_by_month(session, user, months)
    overdue_months = await _overdue_by_due_month(session, user, months, today)
    earlier = overdue_months.pop(-1, ZERO)
    found = [
        CompanyMonth(
            month=month.strftime("%Y-%m"),
            revenue=None if sales is None else sales.get(index, (ZERO, ZERO))[0],
            margin=None
            if sales is None or not sees_costs(user)
            else sales.get(index, (ZERO, ZERO))[1],
            collected=collected.get(index, ZERO),
            overdue=overdue_months.get(index, ZERO),
        )
        for index, month in enumerate(months[:-1])
    ]
    overdue = earlier + sum((m.overdue for m in found), ZERO)
    return HomeFigures(COMPANY, period, overdue, months=found, overdue_earlier=earlier)


def _sees_sales(user: User) -> bool:
    """Revenue and margin month by month are the director's; finance gets the money side."""
    return Role(user.role) == Role.director


def _months_to(first_day: date, count: int) -> list[date]:
    """The first days of `count` months ending with first_day's, and of the month after."""
    year, month = first_day.year, first_day.month - (count - 1)
    while month < 1:
        year, month = year - 1, month + 12
    found = []
    for _ in range(count + 1):
        found.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _month_of(
    column: SQLColumnExpression[Any], edges: Sequence[date | datetime]
) -> ColumnElement[int]:
    """Which of the months between the edges (0, 1, ...) a day or moment falls in; -1 before
    the first (the caller keeps the rows before the last edge)."""
    return month_case(column, edges[:-1], range(len(edges) - 1), before=-1)


async def _summed_by_month(
    session: AsyncSession, per_row: Select[*tuple[Any, ...]]
) -> dict[int, tuple[Decimal, ...]]:
    """Sums of per_row's columns after its first (the month) by month: grouped over a
    subquery, so that the month's CASE is written once (PostgreSQL would not take a GROUP BY
    of the same CASE with its own parameters)."""
    rows = per_row.subquery("per_row")
    month, *values = rows.c
    found = await session.execute(select(month, *(func.sum(v) for v in values)).group_by(month))
    return {index: tuple(sum_as_money(v) for v in sums) for index, *sums in found}


async def _sales_by_month(
    session: AsyncSession, user: User, months: list[date]
) -> dict[int, tuple[Decimal, Decimal]]:
    """Per month: the net revenue of the orders confirmed in it (the performance report's
    confirmed), and the margin on it: less the actual cost of a closed order (its cost review
    is done), else the expected cost; a cancelled order counts nothing."""
    zone = ZoneInfo(await company_time_zone(session=session))
    edges = [datetime.combine(m, time(), zone).astimezone(UTC) for m in months]
    closed = Order.stage == Stage.closed.value
    cost = func.coalesce(case((closed, Order.actual_cost)), Order.expected_cost, 0)
    live_cost = case((Order.stage != Stage.cancelled.value, cost), else_=0)
    sums = await _summed_by_month(
        session,
        select(_month_of(Order.confirmed_at, edges), net_confirmed(), live_cost).where(
            await order_scope(session=session, user=user),
            Order.confirmed_at >= edges[0],
            Order.confirmed_at < edges[-1],
        ),
    )
    return {index: (revenue, revenue - cost) for index, (revenue, cost) in sums.items()}


async def _collected_by_month(
    session: AsyncSession, user: User, months: list[date]
) -> dict[int, Decimal]:
    """Per month: the money received in it (confirmed payments by the day received, as the
    performance report's collected); the whole company's reads the payments alone."""
    scope = await order_scope(session=session, user=user)
    in_scope = [] if scope is true() else [Payment.order_id.in_(select(Order.id).where(scope))]
    sums = await _summed_by_month(
        session,
        select(_month_of(Payment.received_on, months), Payment.amount).where(
            *in_scope,
            Payment.status == "confirmed",
            Payment.received_on >= months[0],
            Payment.received_on < months[-1],
        ),
    )
    return {index: amount for index, (amount,) in sums.items()}


async def _overdue_by_due_month(
    session: AsyncSession, user: User, months: list[date], today: date
) -> dict[int, Decimal]:
    """Per month: what fell due in it and is still open today (-1: before the first month)."""
    conditions = await receivable_orders(
        session=session, user=user, customer_id=None, owner_id=None
    )
    sums = await _summed_by_month(
        session,
        select(_month_of(Installment.due_on, months), Installment.amount - Installment.paid).where(
            *is_open(Installment),
            *of_orders(Installment, conditions),
            Installment.due_on < _overdue_before(today),
        ),
    )
    return {index: amount for index, (amount,) in sums.items()}
