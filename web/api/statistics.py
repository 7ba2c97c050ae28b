"""Statistics in the JSON API: customer statistics, order statistics month by month, and where
orders wait."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from starlette.responses import Response

from models.reports.customer_statistics import CustomerStatistics, customer_statistics
from models.reports.order_statistics import MonthFigures, OrderStatistics, order_statistics
from models.reports.statistics_period import (
    Period,
    ReportFilterRefusal,
    ReportRefusal,
    statistics_period,
)
from models.reports.waits import WaitRow, WaitsReport, check_may_see_waits, waits_report
from models.tables import User
from web.api import ApiRoute, refused
from web.api.reports import Today
from web.commands.actions import Refused
from web.company_zone import time_zone_of
from web.deps import ApiUser, SessionDep, SettingsDep
from web.exports import (
    EXPORT_RESPONSES,
    Export,
    ExportFormat,
    ExportQuery,
    export_response,
)
from web.exports.access import check_api_export, exporter_of
from web.exports.statistics import (
    customer_statistics_export,
    order_statistics_export,
    waits_export,
)
from web.schemas import Model, errors

router = APIRouter(
    prefix="/api/v1", tags=["reports"], route_class=ApiRoute, responses=errors(403, 422)
)
Report = TypeVar("Report")
FROM = Query(
    alias="date_from", description="the first day, e.g. 2026-01-01 (default: 12 months back)"
)
TO = Query(alias="date_to", description="the last day, included (default: today)")
First = Annotated[str | None, FROM]
Last = Annotated[str | None, TO]


def report_now() -> datetime:
    """The moment open to-dos have waited until (overridden in tests)."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(report_now)]


def asked_period(request: Request, today: date, first: str | None, last: str | None) -> Period:
    """The period of the query string in the company's days, or 422 saying what is wrong."""
    try:
        return statistics_period(
            today=today, first=first, last=last, time_zone=time_zone_of(request)
        )
    except ReportFilterRefusal as refusal:
        raise refused(Refused.of(422, refusal)) from refusal


async def answered(report: Awaitable[Report]) -> Report:
    """The report, or 403 for a role without it, 422 for a breakdown it does not know."""
    try:
        return await report
    except ReportRefusal as refusal:
        raise refused(Refused.of(403, refusal)) from refusal
    except ReportFilterRefusal as refusal:
        raise refused(Refused.of(422, refusal)) from refusal


class PeriodOut(Model):
    """The company's days the report covers, both included."""

    first: date = Field(serialization_alias="date_from")
    last: date = Field(serialization_alias="date_to")


def period_out(period: Period) -> PeriodOut:
    return PeriodOut(first=period.first, last=period.last)


class MoneyFiguresOut(Model):
    """Orders confirmed in the period (cancelled ones never) and their money: `amount` net of
    returns and of credit notes that credit no return, `returned`, `collected` (paid less
    refunded), `outstanding` (open installments), `invoiced` (issued less credited)."""

    orders: int
    amount: Decimal
    returned: Decimal
    collected: Decimal
    outstanding: Decimal
    invoiced: Decimal


class CustomerStatisticsRowOut(Model):
    level: str
    customer_id: int | None  # None in a row per level
    customer: str | None
    figures: MoneyFiguresOut


class CustomerStatisticsOut(Model):
    period: PeriodOut
    by: str
    rows: list[CustomerStatisticsRowOut]
    totals: MoneyFiguresOut
    currency: str


def customers_out(report: CustomerStatistics, currency: str) -> CustomerStatisticsOut:
    return CustomerStatisticsOut(
        period=period_out(report.period),
        by=report.by,
        rows=[
            CustomerStatisticsRowOut(
                level=row.level,
                customer_id=row.customer_id,
                customer=row.label if row.customer_id is not None else None,
                figures=MoneyFiguresOut.model_validate(row.figures),
            )
            for row in report.rows
        ],
        totals=MoneyFiguresOut.model_validate(report.totals),
        currency=currency,
    )


@router.get("/reports/customers", response_model=CustomerStatisticsOut, responses=EXPORT_RESPONSES)
async def customers_report(
    request: Request,
    user: ApiUser,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    first: First = None,
    last: Last = None,
    by: Annotated[str, Query(description="level or customer")] = "level",
    file_format: ExportQuery = None,
) -> CustomerStatisticsOut | Response:
    """Per customer level or per customer (the largest amount first), the orders confirmed
    in the period in the caller's order scope and their money, net of returns and
    cancellations. With `format` (`csv`, `xlsx`), the rows as a file; 403 without the export
    permission; audited."""
    if file_format is not None:
        await check_api_export(session=session, user=user)
    period = asked_period(request, today, first, last)
    report = await answered(customer_statistics(session=session, user=user, period=period, by=by))
    if file_format is not None:
        export = customer_statistics_export(request=request, user=user, report=report)
        return await exported(request, user, export, file_format)
    return customers_out(report, settings.currency)


class MonthOut(Model):
    month: str  # 2026-01
    orders: int
    amount: Decimal


class OrderGroupOut(Model):
    group: str  # the region, level, category or department ("" when none is set)
    months: list[MonthOut]  # every month of the period, in order
    orders: int
    amount: Decimal


class OrderStatisticsOut(Model):
    period: PeriodOut
    by: str
    groups: list[OrderGroupOut]
    months: list[MonthOut]  # all groups, each order once
    orders: int
    amount: Decimal
    currency: str


def orders_out(report: OrderStatistics, currency: str) -> OrderStatisticsOut:
    def months(of: dict[str, MonthFigures]) -> list[MonthOut]:
        return [
            MonthOut(month=m, orders=of[m].orders, amount=of[m].amount)
            if m in of
            else MonthOut(month=m, orders=0, amount=Decimal("0.00"))
            for m in report.months
        ]

    return OrderStatisticsOut(
        period=period_out(report.period),
        by=report.by,
        groups=[
            OrderGroupOut(
                group=row.group,
                months=months(row.months),
                orders=row.total.orders,
                amount=row.total.amount,
            )
            for row in report.rows
        ],
        months=months(report.per_month),
        orders=report.total.orders,
        amount=report.total.amount,
        currency=currency,
    )


@router.get("/reports/orders", response_model=OrderStatisticsOut, responses=EXPORT_RESPONSES)
async def orders_report(
    request: Request,
    user: ApiUser,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    first: First = None,
    last: Last = None,
    by: Annotated[
        str, Query(description="region, customer_level, product_category or department")
    ] = "department",
    file_format: ExportQuery = None,
) -> OrderStatisticsOut | Response:
    """Month by month, the orders confirmed and their net amount per region, customer level,
    product category or department, in the caller's order scope. With `format` (`csv`,
    `xlsx`), a row per group and month as a file; 403 without the export permission;
    audited."""
    if file_format is not None:
        await check_api_export(session=session, user=user)
    period = asked_period(request, today, first, last)
    report = await answered(order_statistics(session=session, user=user, period=period, by=by))
    if file_format is not None:
        export = order_statistics_export(request=request, user=user, report=report)
        return await exported(request, user, export, file_format)
    return orders_out(report, settings.currency)


class WaitFiguresOut(Model):
    count: int
    p50_hours: float
    p90_hours: float


class BreakdownOut(Model):
    label: str  # the department's or the person's name
    figures: WaitFiguresOut


class WaitRowOut(Model):
    name: str  # the stage or the to-do kind
    figures: WaitFiguresOut
    by_department: list[BreakdownOut]
    by_assignee: list[BreakdownOut]


class OpenAssigneeOut(Model):
    user: str | None
    role: str | None
    department: str | None


class WaitingTodoOut(Model):
    todo_id: int
    kind: str
    order_number: str
    since: datetime
    waited_hours: float
    assignees: list[OpenAssigneeOut]


class WaitsOut(Model):
    period: PeriodOut
    stages: list[WaitRowOut]
    todo_kinds: list[WaitRowOut]
    open_todos: list[WaitingTodoOut]


def waits_out(report: WaitsReport) -> WaitsOut:
    def rows(found: list[WaitRow]) -> list[WaitRowOut]:
        return [WaitRowOut.model_validate(row) for row in found]

    return WaitsOut(
        period=period_out(report.period),
        stages=rows(report.stages),
        todo_kinds=rows(report.todo_kinds),
        open_todos=[WaitingTodoOut.model_validate(t) for t in report.open_todos],
    )


async def waits_user(user: ApiUser) -> User:
    """The user, if their role has the report; 403 before the query is read otherwise."""
    try:
        check_may_see_waits(user)
    except ReportRefusal as refusal:
        raise refused(Refused.of(403, refusal)) from refusal
    return user


WaitsUser = Annotated[User, Depends(waits_user)]


@router.get("/reports/waits", response_model=WaitsOut, responses=EXPORT_RESPONSES)
async def waits(
    request: Request,
    user: WaitsUser,
    session: SessionDep,
    today: Today,
    now: Now,
    first: First = None,
    last: Last = None,
    file_format: ExportQuery = None,
) -> WaitsOut | Response:
    """Where orders wait (operations managers, sales managers, directors; the order list's
    scope): per stage and per to-do kind, how many ended in the period and their p50 and p90
    in hours, by department and by person; and the open to-dos waiting longest. With `format`
    (`csv`, `xlsx`), each stage and kind in all, by department and by person as a file; 403
    without the export permission; audited."""
    if file_format is not None:
        await check_api_export(session=session, user=user)
    period = asked_period(request, today, first, last)
    report = await answered(waits_report(session=session, user=user, period=period, now=now))
    if file_format is not None:
        export = waits_export(request=request, user=user, report=report)
        return await exported(request, user, export, file_format)
    return waits_out(report)


async def exported(
    request: Request, user: User, export: Export, file_format: ExportFormat
) -> Response:
    return await export_response(
        export, file_format=file_format, exporter=exporter_of(request, user)
    )
