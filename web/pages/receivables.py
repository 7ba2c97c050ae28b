"""Receivables pages: the orders with money open (filters, totals, paging) and the aging of
that money per customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, TypedDict

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_, translations
from models.domain import Role
from models.queries.sorting import SortOrder
from models.reports.receivables import (
    MAX_PER_PAGE,
    ReceivableFilter,
    ReceivablesRefusal,
    aging,
    check_may_see_receivables,
    receivable_owners,
    receivables,
)
from models.reports.receivables_sort import RECEIVABLE_SORTS
from models.reports.refund_figures import money_back
from models.tables import Customer, User
from web.api.receivables import Today
from web.deps import PageUser, SessionDep
from web.exports import ExportFormat, audit_filters, export_response
from web.exports.access import PageExporter, exporter_of
from web.exports.receivables import aging_export, receivables_export
from web.pages.common import page_router
from web.sorting import SortColumn, SortDirection, SortLinks
from web.templating import locale_of, render
from workflows.rules import AGING_BUCKETS

router = page_router()
PER_PAGE_CHOICES = (25, 50, 100)


def _refuse_other_roles(request: Request, user: User) -> None:
    try:
        check_may_see_receivables(user)
    except ReceivablesRefusal as refusal:
        t = translations(locale_of(request, user))
        raise HTTPException(403, refusal.translated(t.gettext)) from refusal


def _whole_number(
    request: Request,
    user: User,
    name: str,
    value: str,
    *,
    default: int | None,
    maximum: int | None = None,
) -> int | None:
    """A whole number from the query string: blank is the default; anything else that is not
    a number from 1 (to maximum) is answered with 400 and says which field is wrong."""
    value = value.strip()
    if not value:
        return default
    t = translations(locale_of(request, user))
    if not value.isdigit() or int(value) < 1:
        raise HTTPException(
            400, t.gettext(N_("%(field)s must be a whole number from 1 up.")) % {"field": name}
        )
    if maximum is not None and int(value) > maximum:
        raise HTTPException(
            400,
            t.gettext(N_("%(field)s can be at most %(maximum)s."))
            % {"field": name, "maximum": maximum},
        )
    return int(value)


class FilterChoices(TypedDict):
    customers: list[Customer]
    owners: list[User]


async def _filter_choices(session: AsyncSession, user: User) -> FilterChoices:
    customers = list(await session.scalars(select(Customer).order_by(Customer.name)))
    owners = await receivable_owners(session=session, user=user)
    return {"customers": customers, "owners": owners}


@dataclass(frozen=True)
class ReceivablesQuery:
    """The list's filters as asked, and as its links keep them."""

    filters: ReceivableFilter
    shown: dict[str, str]


def receivables_query(
    request: Request,
    user: PageUser,
    overdue: str = "",
    customer_id: str = "",
    owner_id: str = "",
    page: str = "",
    per_page: str = "",
    sort: SortColumn = "",
    direction: SortDirection = "",
) -> ReceivablesQuery:
    """The list's query string (the page and its export read the same): 403 for a role
    without receivables, 400 for a number that is not one."""
    _refuse_other_roles(request, user)
    filters = ReceivableFilter(
        sort=SortOrder.of(sort, direction, RECEIVABLE_SORTS),
        overdue=overdue == "1",
        customer_id=_whole_number(request, user, "customer_id", customer_id, default=None),
        owner_id=_whole_number(request, user, "owner_id", owner_id, default=None),
        page=_whole_number(request, user, "page", page, default=1) or 1,
        per_page=_whole_number(
            request, user, "per_page", per_page, default=PER_PAGE_CHOICES[0], maximum=MAX_PER_PAGE
        )
        or PER_PAGE_CHOICES[0],
    )
    shown = {
        "overdue": "1" if filters.overdue else "",
        "customer_id": str(filters.customer_id or ""),
        "owner_id": str(filters.owner_id or ""),
        "per_page": str(filters.per_page),
    }
    return ReceivablesQuery(filters, shown)


ReceivablesParams = Annotated[ReceivablesQuery, Depends(receivables_query)]


def _sorting(query: ReceivablesQuery) -> SortLinks:
    return SortLinks("/receivables", query.filters.sort, query.shown, usual=SortOrder("next_due"))


@router.get("/receivables")
async def receivables_page(
    request: Request, user: PageUser, session: SessionDep, today: Today, query: ReceivablesParams
) -> HTMLResponse:
    filters = query.filters
    result = await receivables(session=session, user=user, today=today, filters=filters)
    back = await money_back(
        session=session, user=user, customer_id=filters.customer_id, owner_id=filters.owner_id
    )
    return render(
        request,
        "receivables/index.html",
        user=user,
        result=result,
        back=back,
        today=today,
        filters=query.shown,
        sorting=_sorting(query),
        per_page_choices=PER_PAGE_CHOICES,
        shows_owner=Role(user.role) != Role.sales,
        **await _filter_choices(session, user),
    )


@router.get("/receivables/export.{file_format}")
async def export_receivables(
    request: Request,
    user: PageExporter,
    session: SessionDep,
    today: Today,
    file_format: ExportFormat,
    query: ReceivablesParams,
) -> Response:
    """Every order of the list as filtered and sorted (all its pages), as a file."""
    export = await receivables_export(
        request=request,
        session=session,
        user=user,
        today=today,
        filters=query.filters,
        shown=audit_filters(query.shown, query.filters.sort),
    )
    return await export_response(
        export, file_format=file_format, exporter=exporter_of(request, user)
    )


def aging_query(
    request: Request, user: PageUser, customer_id: str = "", owner_id: str = ""
) -> tuple[int | None, int | None]:
    """The aging report's customer and owner (the page and its export read the same)."""
    _refuse_other_roles(request, user)
    return (
        _whole_number(request, user, "customer_id", customer_id, default=None),
        _whole_number(request, user, "owner_id", owner_id, default=None),
    )


AgingParams = Annotated[tuple[int | None, int | None], Depends(aging_query)]


@router.get("/receivables/aging")
async def aging_page(
    request: Request, user: PageUser, session: SessionDep, today: Today, chosen: AgingParams
) -> HTMLResponse:
    chosen_customer, chosen_owner = chosen
    report = await aging(
        session=session,
        user=user,
        today=today,
        customer_id=chosen_customer,
        owner_id=chosen_owner,
    )
    return render(
        request,
        "receivables/aging.html",
        user=user,
        report=report,
        buckets=AGING_BUCKETS,
        filters={"customer_id": str(chosen_customer or ""), "owner_id": str(chosen_owner or "")},
        **await _filter_choices(session, user),
    )


@router.get("/receivables/aging/export.{file_format}")
async def export_aging(
    request: Request,
    user: PageExporter,
    session: SessionDep,
    today: Today,
    file_format: ExportFormat,
    chosen: AgingParams,
) -> Response:
    """Each customer's open money by aging bucket, and the total row, as a file."""
    export = await aging_export(
        request=request,
        session=session,
        user=user,
        today=today,
        customer_id=chosen[0],
        owner_id=chosen[1],
    )
    return await export_response(
        export, file_format=file_format, exporter=exporter_of(request, user)
    )
