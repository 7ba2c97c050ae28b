"""The cost variance report: closed orders of a period by the size of their cost variance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, Subquery, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased

from i18n import N_
from models.dates import as_utc, report_days_refusal
from models.domain import CostCategory, Refusal, Role, Stage
from models.queries import department_subtree
from models.reports.net_revenue import credited_for_returns_of_order, net_revenue
from models.reports.refund_figures import credited_of_order
from models.reports.sums import ZERO, sum_as_money
from models.tables import Customer, Department, Order, OrderCostVariance, User
from workflows import rules

# Ops review every variance and their manager approves the large ones; directors see it all.
REPORT_ROLES = frozenset({Role.ops, Role.ops_manager, Role.director})
MAX_PER_PAGE = 200
# Without a period the report covers this many days, today included.
PERIOD_DAYS = 90
CENT = Decimal("0.01")
Columns = TypeVarTuple("Columns")
NOT_FOR_YOUR_ROLE = N_("The cost variance report is for business operations and directors.")
PERIOD_ENDS_BEFORE_IT_BEGINS = N_(
    "The period cannot end on %(closed_to)s, before it begins on %(closed_from)s."
)


class CostReportRefusal(Refusal):
    """Someone whose role has no cost variance report asked for it."""


class CostReportFilterRefusal(Refusal):
    """A filter of the report that cannot be right (the period ends before it begins)."""


def may_see_cost_report(user: User) -> bool:
    return Role(user.role) in REPORT_ROLES


def check_may_see_cost_report(user: User) -> None:
    if not may_see_cost_report(user):
        raise CostReportRefusal(NOT_FOR_YOUR_ROLE)


def report_period(
    today: date, closed_from: date | None = None, closed_to: date | None = None
) -> tuple[date, date]:
    """The period asked for, its blanks filled in: it ends today unless told, and begins
    PERIOD_DAYS days before its end (that day included) unless told."""
    if outside := report_days_refusal(today, closed_from, closed_to):
        raise CostReportFilterRefusal(outside.template, **outside.params)
    closed_to = closed_to or today
    closed_from = closed_from or closed_to - timedelta(days=PERIOD_DAYS - 1)
    _check_period(closed_from, closed_to)
    return closed_from, closed_to


def _check_period(closed_from: date, closed_to: date) -> None:
    if closed_to < closed_from:
        raise CostReportFilterRefusal(
            PERIOD_ENDS_BEFORE_IT_BEGINS,
            closed_from=closed_from.isoformat(),
            closed_to=closed_to.isoformat(),
        )


@dataclass(frozen=True)
class CostReportFilter:
    """Which closed orders the report covers: closed between closed_from and closed_to (both
    days included, UTC), and optionally of a customer, an owner or a department (with its
    sub-departments). With a category, the orders are ranked by that category's variance."""

    closed_from: date
    closed_to: date
    category: CostCategory | None = None
    customer_id: int | None = None
    owner_id: int | None = None
    department_id: int | None = None
    page: int = 1
    per_page: int = 25

    def __post_init__(self) -> None:
        _check_period(self.closed_from, self.closed_to)


@dataclass(frozen=True)
class CategoryFigures:
    """Expected against actual cost in one category; difference is actual less expected."""

    category: CostCategory
    expected: Decimal
    actual: Decimal
    difference: Decimal

    @property
    def percent(self) -> Decimal | None:
        return rules.percent_of(self.difference, self.expected)


@dataclass(frozen=True)
class CostVarianceRow:
    """A closed order with its net revenue (models/reports/net_revenue.py: the total less what
    came back, less the credit notes issued for anything but a return), expected and actual
    cost, variance (actual less expected) and ops' explanation; in_category: the figures of
    the filtered category."""

    order_number: str
    customer_id: int
    customer: str
    owner_id: int
    owner_username: str
    owner: str
    department_id: int
    department: str
    closed_at: datetime
    total: Decimal
    expected_cost: Decimal | None
    actual_cost: Decimal | None
    variance: Decimal | None
    variance_percent: Decimal | None
    explanation: str | None
    in_category: CategoryFigures | None = None
    credited: Decimal = ZERO  # credit notes issued for the order
    returned: Decimal = ZERO  # the value of the goods that came back
    credited_for_returns: Decimal = ZERO  # of `credited`: what credits goods come back

    @property
    def credited_otherwise(self) -> Decimal:
        return self.credited - self.credited_for_returns

    @property
    def revenue(self) -> Decimal:
        return net_revenue(self.total, self.returned, self.credited, self.credited_for_returns)


@dataclass(frozen=True)
class CostVarianceTotals:
    """Over every page of the filtered set."""

    count: int
    expected_cost: Decimal
    actual_cost: Decimal
    variance: Decimal
    in_category: CategoryFigures | None = None

    @property
    def variance_percent(self) -> Decimal | None:
        return rules.percent_of(self.variance, self.expected_cost)


@dataclass(frozen=True)
class CostVarianceReport:
    rows: list[CostVarianceRow]
    totals: CostVarianceTotals
    filters: CostReportFilter

    @property
    def page(self) -> int:
        return self.filters.page

    @property
    def per_page(self) -> int:
        return self.filters.per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.totals.count // self.per_page))


async def cost_variance_report(
    *, session: AsyncSession, user: User, filters: CostReportFilter
) -> CostVarianceReport:
    """The closed orders the filters keep, largest variance first (either way: an order that
    cost 500 less than expected comes before one that cost 400 more), by order id on a tie;
    with a category, by the size of that category's variance. Whatever the page, two
    queries (with a category, first the period's first and last order id): the totals over
    the filtered set, and the page, sorted and cut in SQL, with its names."""
    check_may_see_cost_report(user)
    selection = await _selection(session, filters)
    if selection is None:  # nothing closed in the period
        return CostVarianceReport(rows=[], totals=_no_totals(filters.category), filters=filters)
    totals = await _totals(session, selection)
    rows: list[CostVarianceRow] = []
    offset = (filters.page - 1) * filters.per_page
    if offset < totals.count:
        rows = await _page(session, selection, offset, filters.per_page)
    return CostVarianceReport(rows=rows, totals=totals, filters=filters)


@dataclass(frozen=True)
class _Selection:
    """The filters in SQL: conditions on orders and, with a category, its figures to join."""

    conditions: list[ColumnElement[bool]]
    category: CostCategory | None = None
    figures: type[OrderCostVariance] | None = None
    figures_of_order: ColumnElement[bool] | None = None

    def joined(self, query: Select[*Columns]) -> Select[*Columns]:
        if self.figures is None or self.figures_of_order is None:
            return query
        return query.join(self.figures, self.figures_of_order)


async def _selection(session: AsyncSession, filters: CostReportFilter) -> _Selection | None:
    """The filters as SQL; None when a category is asked for and no order closed in the
    period.

    The period is a range of closed_at (its index): from the first day's midnight to the
    midnight after the last, in UTC, as stored. The database never gets statistics (nothing
    runs ANALYZE), and without them SQLite takes any equality for more selective than a
    range of days, so the statements are written to be read through the period, whose size
    is bounded, rather than through a department tree or a cost category, which grow with
    every order ever closed: the department is compared in an expression (no index), and a
    category's figures are read between the period's first and last order id (the category
    index is (category, order_id)), which every order closed in the period lies between."""
    begins = datetime.combine(filters.closed_from, time.min, UTC)
    ends = datetime.combine(filters.closed_to + timedelta(days=1), time.min, UTC)
    in_period = [Order.closed_at >= begins, Order.closed_at < ends]
    # A cancelled order never closes; should one carry a closing date, its money is still out
    # (an inequality, so the period's index is still the one read).
    conditions = [*in_period, Order.stage != Stage.cancelled.value]
    if filters.customer_id is not None:
        conditions.append(Order.customer_id == filters.customer_id)
    if filters.owner_id is not None:
        conditions.append(Order.owner_id == filters.owner_id)
    if filters.department_id is not None:
        tree = await department_subtree(session=session, roots=[filters.department_id])
        conditions.append((Order.department_id + 0).in_(tree))
    if filters.category is None:
        return _Selection(conditions)
    first_id, last_id = (
        await session.execute(select(func.min(Order.id), func.max(Order.id)).where(*in_period))
    ).one()
    if first_id is None:
        return None
    figures = aliased(OrderCostVariance, name="in_category")
    return _Selection(
        conditions,
        category=filters.category,
        figures=figures,
        figures_of_order=and_(
            figures.category == filters.category.value,
            figures.order_id.between(first_id, last_id),
            figures.order_id == Order.id,
        ),
    )


def _no_totals(category: CostCategory | None) -> CostVarianceTotals:
    figures = None if category is None else CategoryFigures(category, ZERO, ZERO, ZERO)
    return CostVarianceTotals(
        count=0, expected_cost=ZERO, actual_cost=ZERO, variance=ZERO, in_category=figures
    )


async def _totals(session: AsyncSession, selection: _Selection) -> CostVarianceTotals:
    sums: list[ColumnElement[Any]] = [
        func.count(),
        func.sum(Order.expected_cost),
        func.sum(Order.actual_cost),
        func.sum(Order.variance),
    ]
    figures = selection.figures
    if figures is not None:
        sums += [func.sum(figures.expected), func.sum(figures.actual)]
    query = selection.joined(select(*sums).select_from(Order)).where(*selection.conditions)
    count, expected, actual, variance, *of_category = (await session.execute(query)).one()
    in_category = None
    if selection.category is not None:
        planned, spent = (sum_as_money(v) for v in of_category)
        in_category = CategoryFigures(selection.category, planned, spent, spent - planned)
    return CostVarianceTotals(
        count=count or 0,
        expected_cost=sum_as_money(expected),
        actual_cost=sum_as_money(actual),
        variance=sum_as_money(variance),
        in_category=in_category,
    )


async def _page(
    session: AsyncSession, selection: _Selection, offset: int, limit: int
) -> list[CostVarianceRow]:
    """One page: the ids sorted and cut on orders (and the category's figures) alone, then
    the page's few rows joined to their names."""
    page = _ranked_ids(selection, offset, limit)
    owner = aliased(User, name="owner")
    columns: list[QueryableAttribute[Any] | ColumnElement[Any]] = [
        Order.number,
        Order.customer_id,
        Customer.name,
        Order.owner_id,
        owner.username,
        owner.full_name,
        Order.department_id,
        Department.name,
        Order.closed_at,
        Order.total,
        Order.expected_cost,
        Order.actual_cost,
        Order.variance,
        Order.variance_percent,
        Order.variance_explanation,
        credited_of_order().label("credited"),
        Order.returned,
        credited_for_returns_of_order().label("credited_for_returns"),
    ]
    if selection.figures is not None:
        figures = selection.figures
        columns += [figures.expected, figures.actual, figures.difference]
    query = selection.joined(
        select(*columns)
        .select_from(page)
        .join(Order, Order.id == page.c.id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(owner, owner.id == Order.owner_id)
        .join(Department, Department.id == Order.department_id)
    )
    rows = await session.execute(query.order_by(page.c.size.desc().nulls_last(), page.c.id))
    return [_variance_row(row, selection.category) for row in rows]


def _ranked_ids(selection: _Selection, offset: int, limit: int) -> Subquery:
    """The page's order ids and the size of their variance (the category's, with one),
    largest first, by order id on a tie."""
    figures = selection.figures
    size = func.abs(figures.difference if figures is not None else Order.variance)
    return (
        selection.joined(select(Order.id.label("id"), size.label("size")))
        .where(*selection.conditions)
        .order_by(size.desc().nulls_last(), Order.id)
        .offset(offset)
        .limit(limit)
        .subquery("page")
    )


def _variance_row(row: Row[*tuple[Any, ...]], category: CostCategory | None) -> CostVarianceRow:
    """A row of _page's query as the report shows it (the category's figures last)."""
    in_category = None
    if category is not None:
        expected, actual, difference = row[-3:]
        in_category = CategoryFigures(category, expected, actual, difference)
    return CostVarianceRow(
        order_number=row[0],
        customer_id=row[1],
        customer=row[2],
        owner_id=row[3],
        owner_username=row[4],
        owner=row[5],
        department_id=row[6],
        department=row[7],
        closed_at=as_utc(row[8]),
        total=row[9],
        expected_cost=row[10],
        actual_cost=row[11],
        variance=row[12],
        # Stored to the thousandth; figured to the hundredth (rules.variance).
        variance_percent=None if row[13] is None else row[13].quantize(CENT, ROUND_HALF_UP),
        explanation=row[14],
        in_category=in_category,
        credited=sum_as_money(row[15]),
        returned=sum_as_money(row[16]),
        credited_for_returns=sum_as_money(row[17]),
    )
