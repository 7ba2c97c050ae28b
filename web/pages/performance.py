"""The performance report's page: a month, quarter or year, by person, department or
customer, with targets against what was confirmed and collected."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from i18n import translations
from models.company import company_time_zone, company_today
from models.reports.performance import performance_rows, totals_of
from models.reports.performance_period import (
    GROUPINGS,
    PERIODS,
    PerformanceRefusal,
    ReportPeriod,
    grouping,
    report_period,
)
from web.deps import PageUser, SessionDep
from web.exports import ExportFormat, export_response
from web.exports.access import PageExporter, exporter_of
from web.exports.reports import performance_export
from web.pages.common import page_router
from web.templating import locale_of, render

router = page_router()


def current_value(kind: str, today: date) -> str:
    """This month, quarter or year, as the report names it."""
    if kind == "year":
        return str(today.year)
    if kind == "quarter":
        return f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    return today.strftime("%Y-%m")


async def performance_query(
    request: Request,
    user: PageUser,
    session: SessionDep,
    period: str = "month",
    value: str = "",
    by: str = "person",
) -> tuple[ReportPeriod, str]:
    """The report's period and grouping (the page and its export read the same): this
    month, quarter or year when none is given; 422 for one the report does not know."""
    if not value.strip() and period in PERIODS:
        value = current_value(period, company_today(await company_time_zone(session=session)))
    try:
        return report_period(period, value), grouping(by)
    except PerformanceRefusal as refusal:
        gettext = translations(locale_of(request, user)).gettext
        raise HTTPException(422, refusal.translated(gettext)) from refusal


PerformanceParams = Annotated[tuple[ReportPeriod, str], Depends(performance_query)]


@router.get("/reports/performance")
async def performance_page(
    request: Request, user: PageUser, session: SessionDep, asked: PerformanceParams
) -> HTMLResponse:
    chosen, grouped = asked
    rows = await performance_rows(session=session, user=user, period=chosen, by=grouped)
    return render(
        request,
        "reports/performance.html",
        user=user,
        period=chosen,
        by=grouped,
        rows=rows,
        total=totals_of(rows, grouped),
        periods=PERIODS,
        groupings=GROUPINGS,
    )


@router.get("/reports/performance/export.{file_format}")
async def export_performance(
    request: Request,
    user: PageExporter,
    session: SessionDep,
    file_format: ExportFormat,
    asked: PerformanceParams,
) -> Response:
    """The report's rows and total, as a file."""
    export = await performance_export(
        request=request, session=session, user=user, period=asked[0], by=asked[1]
    )
    return await export_response(
        export, file_format=file_format, exporter=exporter_of(request, user)
    )
