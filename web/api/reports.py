"""Reports in the JSON API: the cost variance of closed orders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from models.domain import CostCategory
from models.reports.cost_report import (
    MAX_PER_PAGE,
    CategoryFigures,
    CostReportFilter,
    CostReportFilterRefusal,
    CostReportRefusal,
    CostVarianceRow,
    CostVarianceTotals,
    check_may_see_cost_report,
    cost_variance_report,
    report_period,
)
from models.tables import User
from web.api import ApiRoute, refused
from web.commands.actions import Refused
from web.deps import ApiUser, SessionDep, SettingsDep
from web.exports import EXPORT_RESPONSES, ExportQuery, audit_filters, export_response
from web.exports.access import check_api_export, exporter_of
from web.exports.reports import cost_variance_export
from web.schemas import (
    CategoryVarianceOut,
    CustomerRef,
    DepartmentRef,
    Id,
    Model,
    PageNumber,
    UserRef,
    errors,
)

router = APIRouter(prefix="/api/v1", tags=["reports"], route_class=ApiRoute, responses=errors(403))


def report_today() -> date:
    """The day a report's default period ends on (overridden in tests through
    app.dependency_overrides)."""
    return datetime.now(UTC).date()


Today = Annotated[date, Depends(report_today)]


async def cost_report_user(user: ApiUser) -> User:
    """The user, if their role has the cost variance report; 403 before the query is read
    otherwise."""
    try:
        check_may_see_cost_report(user)
    except CostReportRefusal as refusal:
        raise refused(Refused.of(403, refusal)) from refusal
    return user


CostReportUser = Annotated[User, Depends(cost_report_user)]


class CostVarianceOut(Model):
    """A closed order (never a cancelled one): its `total`, the value of the goods that came
    back (`returned`), the credit notes issued for it (`credited`, of which
    `credited_for_returns` credit returns) and its net `revenue`: total less returned, less
    the credit notes that credit no return (a return's credit note is in `returned` already,
    never subtracted twice); expected and actual cost, the variance (actual
    less expected: positive when it cost more than expected) and its percentage of the
    expected cost, ops' explanation, and with a category filter that category's figures."""

    order_number: str
    customer: CustomerRef
    owner: UserRef
    department: DepartmentRef
    closed_at: datetime
    total: Decimal
    returned: Decimal
    credited: Decimal
    credited_for_returns: Decimal
    revenue: Decimal
    expected_cost: Decimal | None
    actual_cost: Decimal | None
    variance: Decimal | None
    variance_percent: Decimal | None
    explanation: str | None
    category: CategoryVarianceOut | None


class CostVarianceTotalsOut(Model):
    """Over every page of the filtered set; `category`: the sums of the filtered category."""

    count: int
    expected_cost: Decimal
    actual_cost: Decimal
    variance: Decimal
    variance_percent: Decimal | None
    category: CategoryVarianceOut | None


class PeriodOut(Model):
    closed_from: date
    closed_to: date


class CostVarianceReportOut(Model):
    period: PeriodOut
    category: CostCategory | None
    items: list[CostVarianceOut]
    totals: CostVarianceTotalsOut
    page: int
    per_page: int
    pages: int
    currency: str


def category_out(figures: CategoryFigures | None) -> CategoryVarianceOut | None:
    if figures is None:
        return None
    return CategoryVarianceOut(
        category=figures.category.value,
        expected=figures.expected,
        actual=figures.actual,
        difference=figures.difference,
        percent=figures.percent,
    )


def cost_variance_out(row: CostVarianceRow) -> CostVarianceOut:
    return CostVarianceOut(
        order_number=row.order_number,
        customer=CustomerRef(id=row.customer_id, name=row.customer),
        owner=UserRef(id=row.owner_id, username=row.owner_username, full_name=row.owner),
        department=DepartmentRef(id=row.department_id, name=row.department),
        closed_at=row.closed_at,
        total=row.total,
        returned=row.returned,
        credited=row.credited,
        credited_for_returns=row.credited_for_returns,
        revenue=row.revenue,
        expected_cost=row.expected_cost,
        actual_cost=row.actual_cost,
        variance=row.variance,
        variance_percent=row.variance_percent,
        explanation=row.explanation,
        category=category_out(row.in_category),
    )


def totals_out(totals: CostVarianceTotals) -> CostVarianceTotalsOut:
    return CostVarianceTotalsOut(
        count=totals.count,
        expected_cost=totals.expected_cost,
        actual_cost=totals.actual_cost,
        variance=totals.variance,
        variance_percent=totals.variance_percent,
        category=category_out(totals.in_category),
    )


@router.get(
    "/reports/cost-variance", response_model=CostVarianceReportOut, responses=EXPORT_RESPONSES
)
async def cost_variance(
    request: Request,
    user: CostReportUser,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    closed_from: Annotated[
        date | None, Query(description="closed on or after this day (default: 90 days ago)")
    ] = None,
    closed_to: Annotated[
        date | None, Query(description="closed on or before this day (default: today)")
    ] = None,
    category: Annotated[
        CostCategory | None,
        Query(description="rank by this cost category's variance and show its figures"),
    ] = None,
    customer_id: Annotated[Id | None, Query(description="only this customer's")] = None,
    owner_id: Annotated[Id | None, Query(description="only this person's orders")] = None,
    department_id: Annotated[
        Id | None, Query(description="only this department's and its sub-departments'")
    ] = None,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 25,
    file_format: ExportQuery = None,
) -> CostVarianceReportOut | Response:
    """Closed orders of a period (days in UTC, both ends included; the last 90 days by
    default) for business operations and directors: the largest variance either way first,
    or with `category` the largest variance in that category; totals over every page. With
    `format` (`csv`, `xlsx`), every order of the report as filtered (all pages) as a file;
    403 without the export permission; audited."""
    if file_format is not None:
        await check_api_export(session=session, user=user)
    try:
        closed_from, closed_to = report_period(today, closed_from, closed_to)
    except CostReportFilterRefusal as refusal:
        raise refused(Refused.of(422, refusal)) from refusal
    filters = CostReportFilter(
        closed_from=closed_from,
        closed_to=closed_to,
        category=category,
        customer_id=customer_id,
        owner_id=owner_id,
        department_id=department_id,
        page=page,
        per_page=per_page,
    )
    if file_format is not None:
        shown = {
            "closed_from": closed_from.isoformat(),
            "closed_to": closed_to.isoformat(),
            "category": category.value if category else None,
            "customer_id": customer_id,
            "owner_id": owner_id,
            "department_id": department_id,
        }
        export = await cost_variance_export(
            request=request, session=session, user=user, filters=filters, shown=audit_filters(shown)
        )
        return await export_response(
            export, file_format=file_format, exporter=exporter_of(request, user)
        )
    report = await cost_variance_report(session=session, user=user, filters=filters)
    return CostVarianceReportOut(
        period=PeriodOut(closed_from=closed_from, closed_to=closed_to),
        category=category,
        items=[cost_variance_out(row) for row in report.rows],
        totals=totals_out(report.totals),
        page=report.page,
        per_page=report.per_page,
        pages=report.pages,
        currency=settings.currency,
    )
