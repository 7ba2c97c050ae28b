"""The statistics reports' exports: customer statistics, order statistics month by month and
where orders wait, each the flat records the report gives for an export
(`customer_statistics_rows`, `order_statistics_rows`, `waits_rows`) under headers in the
reader's language."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from fastapi import Request

from i18n import N_, labels, translations
from models.reports.customer_statistics import CustomerStatistics, customer_statistics_rows
from models.reports.order_statistics import OrderStatistics, order_statistics_rows
from models.reports.statistics_period import Period
from models.reports.waits import WaitsReport, waits_rows
from models.tables import User
from web.exports import Cell, Export
from web.templating import locale_of

# A record's field -> its column header.
CUSTOMER_HEADERS = {
    "level": N_("Level"),
    "customer": N_("Customer"),
    "orders": N_("Orders"),
    "amount": N_("Amount"),
    "returned": N_("Returned"),
    "collected": N_("Collected"),
    "outstanding": N_("Outstanding"),
    "invoiced": N_("Invoiced"),
}
ORDER_GROUPS = {
    "region": N_("Region"),
    "customer_level": N_("Customer level"),
    "product_category": N_("Product category"),
    "department": N_("Department"),
}
WAIT_HEADERS = {
    "what": N_("Measured"),
    "name": N_("Stage or to-do kind"),
    "by": N_("Breakdown"),
    "label": N_("Department or person"),
    "count": N_("Count"),
    "p50_hours": N_("Median (p50), hours"),
    "p90_hours": N_("90th percentile (p90), hours"),
}
WAIT_WHAT = {"stage": N_("Stage"), "todo_kind": N_("To-do kind")}
WAIT_BY = {"all": N_("All"), "department": N_("By department"), "assignee": N_("By person")}

Record = Mapping[str, Any]


def _export(
    list_name: str,
    headers: list[str],
    records: Sequence[Record],
    cells: Callable[[Record], list[Cell]],
    filters: dict[str, Any],
) -> Export:
    async def rows() -> AsyncIterator[Sequence[Cell]]:
        for record in records:
            yield cells(record)

    return Export(list_name, headers, rows(), filters=filters)


def period_filters(period: Period, by: str | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "date_from": period.first.isoformat(),
        "date_to": period.last.isoformat(),
    }
    return shown | ({"by": by} if by else {})


def customer_statistics_export(
    *, request: Request, user: User, report: CustomerStatistics
) -> Export:
    gettext = translations(locale_of(request, user)).gettext
    records = customer_statistics_rows(report)
    names = [n for n in CUSTOMER_HEADERS if report.by == "customer" or n != "customer"]
    return _export(
        "customer_statistics",
        [gettext(CUSTOMER_HEADERS[n]) for n in names],
        records,
        lambda record: [record.get(n) for n in names],
        period_filters(report.period, report.by),
    )


def order_statistics_export(*, request: Request, user: User, report: OrderStatistics) -> Export:
    gettext = translations(locale_of(request, user)).gettext
    headers = [
        gettext(ORDER_GROUPS.get(report.by, report.by)),
        gettext("Month"),
        gettext("Orders"),
        gettext("Amount"),
    ]
    return _export(
        "order_statistics",
        headers,
        order_statistics_rows(report),
        lambda r: [r["group"] or gettext("None"), r["month"], r["orders"], r["amount"]],
        period_filters(report.period, report.by),
    )


def waits_export(*, request: Request, user: User, report: WaitsReport) -> Export:
    gettext = translations(locale_of(request, user)).gettext

    def cells(r: Record) -> list[Cell]:
        names = labels.STAGES if r["what"] == "stage" else labels.TODO_KINDS
        return [
            gettext(WAIT_WHAT[r["what"]]),
            gettext(names[r["name"]]) if r["name"] in names else r["name"],
            gettext(WAIT_BY[r["by"]]),
            r["label"],
            r["count"],
            round(float(r["p50_hours"]), 1),
            round(float(r["p90_hours"]), 1),
        ]

    return _export(
        "waits",
        [gettext(h) for h in WAIT_HEADERS.values()],
        waits_rows(report),
        cells,
        period_filters(report.period),
    )
