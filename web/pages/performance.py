"""The performance report's page: a month, quarter or year, by person, department or
customer, with targets against what was confirmed and collected."""

from __future__ import annotations

from datetime import date

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from i18n import translations
from models.company import company_time_zone, company_today
from models.reports.performance import performance_rows, totals_of
from models.reports.performance_period import (
    GROUPINGS,
    PERIODS,
    PerformanceRefusal,
    grouping,
    report_period,
)
from web.deps import PageUser, SessionDep
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


@router.get("/reports/performance")
async def performance_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    period: str = "month",
    value: str = "",
    by: str = "person",
) -> HTMLResponse:
    if not value.strip() and period in PERIODS:
        value = current_value(period, company_today(await company_time_zone(session=session)))
    try:
        chosen = report_period(period, value)
        grouped = grouping(by)
    except PerformanceRefusal as refusal:
        gettext = translations(locale_of(request, user)).gettext
        raise HTTPException(422, refusal.translated(gettext)) from refusal
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
