"""The performance report in the JSON API: targets against what was confirmed and collected,
per person, department (its tree) or customer, over a month, quarter or year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from models.reports.performance import PerformanceRow, performance_rows, totals_of
from models.reports.performance_period import PerformanceRefusal, grouping, report_period
from web.api import ApiRoute, refused
from web.commands.actions import Refused
from web.deps import ApiUser, SessionDep
from web.exports import EXPORT_RESPONSES, ExportQuery, export_response
from web.exports.access import check_api_export, exporter_of
from web.exports.reports import performance_export
from web.schemas import Model, errors

router = APIRouter(prefix="/api/v1", tags=["reports"], route_class=ApiRoute, responses=errors(403))


class PerformanceRowOut(Model):
    """A person, department (its whole tree) or customer (`key` its id). `target` and
    `collection_target` are None where there is none (customers); `confirmed` is net of returns,
    credit notes and cancellations, counted in the month of confirmation; `collected` and
    `refunded` are the money received and paid back in the period; `returned`, `outstanding`,
    `invoice_applied` and `invoice_issued` are of the orders confirmed in it."""

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


class PerformanceOut(Model):
    period: str
    value: str
    first_day: date
    last_day: date
    by: str
    rows: list[PerformanceRowOut]
    total: PerformanceRowOut | None


def row_out(row: PerformanceRow) -> PerformanceRowOut:
    return PerformanceRowOut.model_validate(row)


@router.get(
    "/reports/performance",
    response_model=PerformanceOut,
    responses={**EXPORT_RESPONSES, **errors(422)},
)
async def performance_report(
    request: Request,
    user: ApiUser,
    session: SessionDep,
    period: Annotated[str, Query(description="month, quarter or year")] = "month",
    value: Annotated[str, Query(description="2026-11, 2026-Q4 or 2026")] = "",
    by: Annotated[str, Query(description="person, department or customer")] = "person",
    file_format: ExportQuery = None,
) -> PerformanceOut | Response:
    """Targets against what was confirmed and collected, in the user's scope (as the order
    list's: a rep their own orders, a manager their department tree, the director all). An
    unknown period, value or grouping answers 422. With `format` (`csv`, `xlsx`), the rows
    and the total as a file; 403 without the export permission; audited."""
    if file_format is not None:
        await check_api_export(session=session, user=user)
    try:
        chosen = report_period(period, value)
        grouped = grouping(by)
    except PerformanceRefusal as refusal:
        raise refused(Refused.of(422, refusal)) from refusal
    if file_format is not None:
        export = await performance_export(
            request=request, session=session, user=user, period=chosen, by=grouped
        )
        return await export_response(
            export, file_format=file_format, exporter=exporter_of(request, user)
        )
    rows = await performance_rows(session=session, user=user, period=chosen, by=grouped)
    total = totals_of(rows, grouped)
    return PerformanceOut(
        period=chosen.kind,
        value=chosen.value,
        first_day=chosen.first,
        last_day=chosen.last,
        by=grouped,
        rows=[row_out(r) for r in rows],
        total=row_out(total) if total else None,
    )
