"""Report pages: the cost variance of closed orders (filters, totals, paging)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from i18n import N_, translations
from models.domain import CostCategory
from models.reports.cost_report import (
    MAX_PER_PAGE,
    CostReportFilter,
    CostReportFilterRefusal,
    CostReportRefusal,
    check_may_see_cost_report,
    cost_variance_report,
    report_period,
)
from models.reports.cost_report_choices import report_departments, report_owners
from models.tables import Customer, User
from web.api.reports import Today
from web.deps import PageUser, SessionDep
from web.exports import ExportFormat, audit_filters, export_response
from web.exports.access import PageExporter, exporter_of
from web.exports.reports import cost_variance_export
from web.pages.common import page_router
from web.pages.receivables import PER_PAGE_CHOICES, _whole_number
from web.templating import locale_of, render

router = page_router()


def _refuse_other_roles(request: Request, user: User) -> None:
    try:
        check_may_see_cost_report(user)
    except CostReportRefusal as refusal:
        t = translations(locale_of(request, user))
        raise HTTPException(403, refusal.translated(t.gettext)) from refusal


def _day(request: Request, user: User, name: str, value: str) -> date | None:
    """A day from the query string (as a date input sends it): blank is none; anything else
    that is not a date is answered with 400 and says which field is wrong."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        t = translations(locale_of(request, user))
        raise HTTPException(
            400, t.gettext(N_("%(field)s must be a date such as 2026-06-30.")) % {"field": name}
        ) from None


def _category(request: Request, user: User, value: str) -> CostCategory | None:
    value = value.strip()
    if not value:
        return None
    try:
        return CostCategory(value)
    except ValueError:
        t = translations(locale_of(request, user))
        raise HTTPException(400, t.gettext(N_("Choose a cost category from the list."))) from None


def cost_variance_query(
    request: Request,
    user: PageUser,
    today: Today,
    closed_from: str = "",
    closed_to: str = "",
    category: str = "",
    customer_id: str = "",
    owner_id: str = "",
    department_id: str = "",
    page: str = "",
    per_page: str = "",
) -> CostReportFilter:
    """The report's query string (the page and its export read the same): 403 for a role
    without the report, 400 for a filter that cannot be right."""
    _refuse_other_roles(request, user)
    try:
        period = report_period(
            today,
            _day(request, user, "closed_from", closed_from),
            _day(request, user, "closed_to", closed_to),
        )
    except CostReportFilterRefusal as refusal:
        t = translations(locale_of(request, user))
        raise HTTPException(400, refusal.translated(t.gettext)) from refusal
    return CostReportFilter(
        closed_from=period[0],
        closed_to=period[1],
        category=_category(request, user, category),
        customer_id=_whole_number(request, user, "customer_id", customer_id, default=None),
        owner_id=_whole_number(request, user, "owner_id", owner_id, default=None),
        department_id=_whole_number(request, user, "department_id", department_id, default=None),
        page=_whole_number(request, user, "page", page, default=1) or 1,
        per_page=_whole_number(
            request, user, "per_page", per_page, default=PER_PAGE_CHOICES[0], maximum=MAX_PER_PAGE
        )
        or PER_PAGE_CHOICES[0],
    )


CostVarianceParams = Annotated[CostReportFilter, Depends(cost_variance_query)]


def shown_filters(filters: CostReportFilter) -> dict[str, str]:
    """The filters as the page's form and links keep them."""
    return {
        "closed_from": filters.closed_from.isoformat(),
        "closed_to": filters.closed_to.isoformat(),
        "category": filters.category.value if filters.category else "",
        "customer_id": str(filters.customer_id or ""),
        "owner_id": str(filters.owner_id or ""),
        "department_id": str(filters.department_id or ""),
        "per_page": str(filters.per_page),
    }


@router.get("/reports/cost-variance")
async def cost_variance_page(
    request: Request, user: PageUser, session: SessionDep, filters: CostVarianceParams
) -> HTMLResponse:
    report = await cost_variance_report(session=session, user=user, filters=filters)
    shown = shown_filters(filters)
    return render(
        request,
        "reports/cost_variance.html",
        user=user,
        report=report,
        filters=shown,
        export_query=urlencode({k: v for k, v in shown.items() if v and k != "per_page"}),
        categories=list(CostCategory),
        per_page_choices=PER_PAGE_CHOICES,
        customers=list(await session.scalars(select(Customer).order_by(Customer.name))),
        owners=await report_owners(session=session, user=user),
        departments=await report_departments(session=session, user=user),
    )


@router.get("/reports/cost-variance/export.{file_format}")
async def export_cost_variance(
    request: Request,
    user: PageExporter,
    session: SessionDep,
    file_format: ExportFormat,
    filters: CostVarianceParams,
) -> Response:
    """Every closed order of the report as filtered and ranked (all its pages), as a file."""
    export = await cost_variance_export(
        request=request,
        session=session,
        user=user,
        filters=filters,
        shown=audit_filters(shown_filters(filters)),
    )
    return await export_response(
        export, file_format=file_format, exporter=exporter_of(request, user)
    )
