"""Statistics pages: customer statistics, order statistics month by month, where orders wait;
each with its chart (SVG drawn on the server) above the table of every figure in it."""

from __future__ import annotations

from collections.abc import Awaitable
from functools import partial
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from i18n import Formatter, labels, translations
from models.domain import Refusal
from models.reports.customer_statistics import (
    CUSTOMER_GROUPINGS,
    CustomerStatistics,
    customer_statistics,
)
from models.reports.order_statistics import (
    ORDER_GROUPINGS,
    MonthFigures,
    OrderStatistics,
    order_statistics,
)
from models.reports.statistics_period import (
    Period,
    ReportFilterRefusal,
    ReportRefusal,
    statistics_period,
)
from models.reports.sums import ZERO
from models.reports.waits import WaitsReport, check_may_see_waits, waits_report
from models.tables import User
from web.api.reports import Today
from web.api.statistics import Now
from web.charts import bar_chart, month_label, number_text
from web.company_zone import time_zone_of
from web.deps import PageUser, SessionDep
from web.exports import ExportFormat, export_response
from web.exports.access import PageExporter, exporter_of
from web.exports.statistics import (
    customer_statistics_export,
    order_statistics_export,
    period_filters,
    waits_export,
)
from web.pages.common import page_router
from web.templating import locale_of, render

router = page_router()
_ZERO = MonthFigures()
Report = TypeVar("Report")


def _refused(request: Request, user: User, status: int, refusal: Refusal) -> HTTPException:
    t = translations(locale_of(request, user))
    return HTTPException(status, refusal.translated(t.gettext))


async def _answered(request: Request, user: User, report: Awaitable[Report]) -> Report:
    try:
        return await report
    except ReportRefusal as refusal:
        raise _refused(request, user, 403, refusal) from refusal
    except ReportFilterRefusal as refusal:
        raise _refused(request, user, 422, refusal) from refusal


def _period(request: Request, user: User, today: Today, first: str, last: str) -> Period:
    try:
        return statistics_period(
            today=today, first=first, last=last, time_zone=time_zone_of(request)
        )
    except ReportFilterRefusal as refusal:
        raise _refused(request, user, 422, refusal) from refusal


def _formatter(request: Request, user: User) -> Formatter:
    settings = request.app.state.settings
    return Formatter(locale_of(request, user), settings.currency, time_zone_of(request))


def customers_chart(request: Request, user: User, report: CustomerStatistics) -> Markup:
    gettext = translations(locale_of(request, user)).gettext
    shown = report.rows[:12]
    return bar_chart(
        title=gettext("Amount, collected and outstanding (%(currency)s)")
        % {"currency": request.app.state.settings.currency},
        labels=[row.label for row in shown],
        series=[
            (gettext("Amount"), [row.figures.amount for row in shown]),
            (gettext("Collected"), [row.figures.collected for row in shown]),
            (gettext("Outstanding"), [row.figures.outstanding for row in shown]),
        ],
        fmt=_formatter(request, user),
        horizontal=report.by == "customer",
    )


async def customers_report(
    request: Request,
    user: PageUser,
    session: SessionDep,
    today: Today,
    first: Annotated[str, Query(alias="date_from")] = "",
    last: Annotated[str, Query(alias="date_to")] = "",
    by: str = "level",
) -> CustomerStatistics:
    """The report the query string asks for (the page and its export read the same)."""
    period = _period(request, user, today, first, last)
    return await _answered(
        request, user, customer_statistics(session=session, user=user, period=period, by=by)
    )


@router.get("/reports/customers")
async def customers_page(
    request: Request,
    user: PageUser,
    report: Annotated[CustomerStatistics, Depends(customers_report)],
) -> HTMLResponse:
    return render(
        request,
        "reports/customers.html",
        user=user,
        report=report,
        groupings=CUSTOMER_GROUPINGS,
        chart=customers_chart(request, user, report) if report.rows else None,
        export_query=_export_query(report.period, report.by),
    )


@router.get("/reports/customers/export.{file_format}")
async def export_customers(
    request: Request,
    user: PageExporter,
    file_format: ExportFormat,
    report: Annotated[CustomerStatistics, Depends(customers_report)],
) -> Response:
    export = customer_statistics_export(request=request, user=user, report=report)
    return await export_response(
        export, file_format=file_format, exporter=exporter_of(request, user)
    )


def orders_chart(request: Request, user: User, report: OrderStatistics) -> Markup:
    gettext = translations(locale_of(request, user)).gettext
    fmt = _formatter(request, user)
    other = gettext("Other")
    shown, rest = report.rows[:6], report.rows[6:]
    series = [
        (row.group or gettext("None"), [row.months.get(m, _ZERO).amount for m in report.months])
        for row in shown
    ]
    if rest:
        series.append(
            (
                other,
                [sum((r.months.get(m, _ZERO).amount for r in rest), ZERO) for m in report.months],
            )
        )
    return bar_chart(
        title=gettext("Net amount by month (%(currency)s)")
        % {"currency": request.app.state.settings.currency},
        labels=[month_label(fmt, m) for m in report.months],
        series=series,
        fmt=fmt,
        stacked=True,
    )


async def orders_report(
    request: Request,
    user: PageUser,
    session: SessionDep,
    today: Today,
    first: Annotated[str, Query(alias="date_from")] = "",
    last: Annotated[str, Query(alias="date_to")] = "",
    by: str = "department",
) -> OrderStatistics:
    """The report the query string asks for (the page and its export read the same)."""
    period = _period(request, user, today, first, last)
    return await _answered(
        request, user, order_statistics(session=session, user=user, period=period, by=by)
    )


@router.get("/reports/orders")
async def orders_page(
    request: Request,
    user: PageUser,
    report: Annotated[OrderStatistics, Depends(orders_report)],
) -> HTMLResponse:
    fmt = _formatter(request, user)
    return render(
        request,
        "reports/orders.html",
        user=user,
        report=report,
        groupings=ORDER_GROUPINGS,
        month_names={m: month_label(fmt, m) for m in report.months},
        chart=orders_chart(request, user, report) if report.rows else None,
        export_query=_export_query(report.period, report.by),
    )


@router.get("/reports/orders/export.{file_format}")
async def export_orders_report(
    request: Request,
    user: PageExporter,
    file_format: ExportFormat,
    report: Annotated[OrderStatistics, Depends(orders_report)],
) -> Response:
    export = order_statistics_export(request=request, user=user, report=report)
    return await export_response(
        export, file_format=file_format, exporter=exporter_of(request, user)
    )


def waits_chart(request: Request, user: User, report: WaitsReport) -> Markup:
    gettext = translations(locale_of(request, user)).gettext
    rows = report.todo_kinds[:12]
    return bar_chart(
        title=gettext("Time to complete a to-do (hours)"),
        labels=[gettext(labels.TODO_KINDS.get(row.name, row.name)) for row in rows],
        series=[
            (gettext("Median (p50)"), [row.figures.p50_hours for row in rows]),
            (gettext("90th percentile (p90)"), [row.figures.p90_hours for row in rows]),
        ],
        fmt=_formatter(request, user),
        horizontal=True,
    )


async def waits_of(
    request: Request,
    user: PageUser,
    session: SessionDep,
    today: Today,
    now: Now,
    first: Annotated[str, Query(alias="date_from")] = "",
    last: Annotated[str, Query(alias="date_to")] = "",
) -> WaitsReport:
    """The report the query string asks for (the page and its export read the same); 403 for
    a role without it."""
    try:
        check_may_see_waits(user)
    except ReportRefusal as refusal:
        raise _refused(request, user, 403, refusal) from refusal
    period = _period(request, user, today, first, last)
    return await waits_report(session=session, user=user, period=period, now=now)


@router.get("/reports/waits")
async def waits_page(
    request: Request, user: PageUser, report: Annotated[WaitsReport, Depends(waits_of)]
) -> HTMLResponse:
    return render(
        request,
        "reports/waits.html",
        user=user,
        report=report,
        number=partial(number_text, _formatter(request, user)),
        chart=waits_chart(request, user, report) if report.todo_kinds else None,
        export_query=_export_query(report.period),
    )


@router.get("/reports/waits/export.{file_format}")
async def export_waits(
    request: Request,
    user: PageExporter,
    file_format: ExportFormat,
    report: Annotated[WaitsReport, Depends(waits_of)],
) -> Response:
    export = waits_export(request=request, user=user, report=report)
    return await export_response(
        export, file_format=file_format, exporter=exporter_of(request, user)
    )


def _export_query(period: Period, by: str | None = None) -> str:
    """The report's query string for its export links."""
    return urlencode(period_filters(period, by))
