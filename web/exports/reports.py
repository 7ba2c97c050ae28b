"""The cost variance report's and the performance report's exports: every closed order of the
period as the report filters and ranks it (a page of orders at a time), and the performance
rows with their total."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_, labels, translations
from models.queries import sees_costs
from models.reports.cost_report import CostReportFilter, CostVarianceRow, cost_variance_report
from models.reports.performance import PerformanceRow, performance_rows, totals_of
from models.reports.performance_period import ReportPeriod
from models.tables import User
from web.company_zone import company_zone
from web.exports import BATCH, Cell, Export
from web.exports.orders import local_date
from web.templating import locale_of

VARIANCE_COLUMNS = (
    N_("Order"),
    N_("Customer"),
    N_("Owner"),
    N_("Department"),
    N_("Closed"),
    N_("Revenue"),
)
VARIANCE_COST_COLUMNS = (N_("Expected cost"), N_("Actual cost"), N_("Variance"), N_("Variance %%"))
CATEGORY_COLUMNS = (
    N_("%(category)s: expected"),
    N_("%(category)s: actual"),
    N_("%(category)s: variance"),
)
PERFORMANCE_COLUMNS = (
    N_("Order target"),
    N_("Confirmed"),
    N_("Achieved"),
    N_("Shortfall"),
    N_("Collection target"),
    N_("Money collected"),
    N_("Of target"),
    N_("Refunded"),
    N_("Value returned"),
    N_("Outstanding"),
    N_("Invoices applied for"),
    N_("Invoices issued"),
)
BY_NAMES = {
    "person": N_("Per person"),
    "department": N_("Per department"),
    "customer": N_("Per customer"),
}


def _variance_row(row: CostVarianceRow, zone: ZoneInfo, costs: bool, category: bool) -> list[Cell]:
    cells: list[Cell] = [
        row.order_number,
        row.customer,
        row.owner,
        row.department,
        local_date(row.closed_at, zone),
        row.revenue,
    ]
    if costs:
        cells += [row.expected_cost, row.actual_cost, row.variance, row.variance_percent]
        if category:
            figures = row.in_category
            cells += (
                [figures.expected, figures.actual, figures.difference]
                if figures
                else [None, None, None]
            )
    return [*cells, row.explanation]


async def cost_variance_export(
    *,
    request: Request,
    session: AsyncSession,
    user: User,
    filters: CostReportFilter,
    shown: dict[str, Any],
) -> Export:
    gettext = translations(locale_of(request, user)).gettext
    zone = ZoneInfo(await company_zone(request.app).current())
    costs = sees_costs(user)
    headers = [gettext(h) for h in VARIANCE_COLUMNS]
    if costs:
        # "Variance %%" is a template (the page fills it in): % {} makes it "Variance %"
        headers += [gettext(h) % {} for h in VARIANCE_COST_COLUMNS]
        if filters.category:
            name = gettext(labels.COST_CATEGORIES[filters.category.value])
            headers += [gettext(h) % {"category": name} for h in CATEGORY_COLUMNS]
    headers.append(gettext("Explanation"))

    async def rows() -> AsyncIterator[Sequence[Cell]]:
        page = 1
        while True:
            batch = dataclasses.replace(filters, page=page, per_page=BATCH)
            report = await cost_variance_report(session=session, user=user, filters=batch)
            for row in report.rows:
                yield _variance_row(row, zone, costs, filters.category is not None)
            if page >= report.pages:
                return
            page += 1

    return Export("cost_variance", headers, rows(), filters=shown)


def _performance_cells(row: PerformanceRow) -> list[Cell]:
    return [
        row.target,
        row.confirmed,
        row.achieved_percent,
        row.shortfall,
        row.collection_target,
        row.collected,
        row.collected_percent,
        row.refunded,
        row.returned,
        row.outstanding,
        row.invoice_applied,
        row.invoice_issued,
    ]


async def performance_export(
    *, request: Request, session: AsyncSession, user: User, period: ReportPeriod, by: str
) -> Export:
    gettext = translations(locale_of(request, user)).gettext
    found = await performance_rows(session=session, user=user, period=period, by=by)
    total = totals_of(found, by)
    headers = [gettext(BY_NAMES[by]), *(gettext(h) for h in PERFORMANCE_COLUMNS)]

    async def rows() -> AsyncIterator[Sequence[Cell]]:
        for row in found:
            # a department's place in the tree, as the page indents it
            yield ["    " * row.depth + row.name, *_performance_cells(row)]
        if total is not None:
            yield [gettext("Total"), *_performance_cells(total)]

    shown = {"period": period.kind, "value": period.value, "by": by}
    return Export("performance", headers, rows(), filters=shown)
