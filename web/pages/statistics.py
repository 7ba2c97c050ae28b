"""Statistics pages: customer statistics, order statistics month by month, where orders wait;
each with its chart (SVG drawn on the server) above the table of every figure in it."""

from __future__ import annotations

from collections.abc import Awaitable
from functools import partial
from typing import Annotated, TypeVar

from fastapi import HTTPException, Query, Request
from fastapi.responses import HTMLResponse
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


@router.get("/reports/customers")
async def customers_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    today: Today,
    first: Annotated[str, Query(alias="date_from")] = "",
    last: Annotated[str, Query(alias="date_to")] = "",
    by: str = "level",
) -> HTMLResponse:
    report = await _answered(
        request,
        user,
        customer_statistics(
            session=session,
            user=user,
            period=_period(request, user, today, first, last),
            by=by,
        ),
    )
    return render(
        request,
        "reports/customers.html",
        user=user,
        report=report,
        groupings=CUSTOMER_GROUPINGS,
        chart=customers_chart(request, user, report) if report.rows else None,
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


@router.get("/reports/orders")
async def orders_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    today: Today,
    first: Annotated[str, Query(alias="date_from")] = "",
    last: Annotated[str, Query(alias="date_to")] = "",
    by: str = "department",
) -> HTMLResponse:
    report = await _answered(
        request,
        user,
        order_statistics(
            session=session,
            user=user,
            period=_period(request, user, today, first, last),
            by=by,
        ),
    )
    fmt = _formatter(request, user)
    return render(
        request,
        "reports/orders.html",
        user=user,
        report=report,
        groupings=ORDER_GROUPINGS,
        month_names={m: month_label(fmt, m) for m in report.months},
        chart=orders_chart(request, user, report) if report.rows else None,
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


@router.get("/reports/waits")
async def waits_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    today: Today,
    now: Now,
    first: Annotated[str, Query(alias="date_from")] = "",
    last: Annotated[str, Query(alias="date_to")] = "",
) -> HTMLResponse:
    try:
        check_may_see_waits(user)
    except ReportRefusal as refusal:
        raise _refused(request, user, 403, refusal) from refusal
    report = await waits_report(
        session=session,
        user=user,
        period=_period(request, user, today, first, last),
        now=now,
    )
    return render(
        request,
        "reports/waits.html",
        user=user,
        report=report,
        number=partial(number_text, _formatter(request, user)),
        chart=waits_chart(request, user, report) if report.todo_kinds else None,
    )
