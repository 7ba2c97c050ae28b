"""Receivables in the JSON API: the open money of each order, and its aging per customer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from models.reports.receivables import (
    MAX_PER_PAGE,
    AgingRow,
    Receivable,
    ReceivableFilter,
    ReceivablesRefusal,
    aging,
    check_may_see_receivables,
    receivables,
)
from models.reports.refund_figures import money_back
from models.tables import User
from web.api import ApiRoute, refused
from web.commands.actions import Refused
from web.deps import ApiUser, SessionDep, SettingsDep
from web.exports import EXPORT_RESPONSES, ExportQuery, audit_filters, export_response
from web.exports.access import check_api_export, exporter_of
from web.exports.receivables import aging_export, receivables_export
from web.schemas import CustomerRef, Id, Model, PageNumber, UserRef, errors
from workflows.rules import AGING_BUCKETS

router = APIRouter(
    prefix="/api/v1", tags=["receivables"], route_class=ApiRoute, responses=errors(403)
)


def receivables_today() -> date:
    """The day receivables are counted on (overridden in tests through
    app.dependency_overrides)."""
    return datetime.now(UTC).date()


Today = Annotated[date, Depends(receivables_today)]


async def receivables_user(user: ApiUser) -> User:
    """The user, if their role has receivables; 403 before the query is read otherwise."""
    try:
        check_may_see_receivables(user)
    except ReceivablesRefusal as refusal:
        raise refused(Refused.of(403, refusal)) from refusal
    return user


ReceivablesUser = Annotated[User, Depends(receivables_user)]
CustomerId = Annotated[Id | None, Query(description="only this customer's orders")]
OwnerId = Annotated[Id | None, Query(description="only the orders this person owns")]


class ReceivableOut(Model):
    """An order with money open. overdue_days counts from the earliest open installment past
    its due date (0 when none is); next_due_date is the earliest due date of the open
    installments (None while none has a date). `returned` is the value of the goods that came
    back and `net_total` the total less it; `outstanding` is net of it already (a return
    reduces the unpaid installments: outstanding = net_total - paid + refunds)."""

    order_number: str
    customer: CustomerRef
    owner: UserRef
    total: Decimal
    returned: Decimal
    net_total: Decimal
    paid: Decimal
    outstanding: Decimal
    next_due_date: date | None
    overdue_days: int
    overdue_amount: Decimal


class ReceivableTotalsOut(Model):
    """Over every page of the filtered list; `returned`: what came back of those orders."""

    count: int
    outstanding: Decimal
    overdue_amount: Decimal
    returned: Decimal


class RefundDueOut(Model):
    """A refund finance have yet to pay back: the order (cancelled, or goods came back), how
    much, asked since."""

    order_number: str
    customer: CustomerRef
    amount: Decimal
    since: datetime


class MoneyBackOut(Model):
    """Money going back to customers, of cancelled orders and of goods that came back, in the
    same scope as the list (the customer and owner filters apply; `overdue` does not):
    `refunds_due` (finance's open
    refunds, `refunds_due_count` of them, the oldest 100 in `refunds`), `refunded`,
    `credit_notes_due` (asked for, not issued yet) and `credited` (credit notes issued)."""

    refunds_due: Decimal
    refunds_due_count: int
    refunded: Decimal
    credit_notes_due: Decimal
    credited: Decimal
    refunds: list[RefundDueOut]


class ReceivablesPageOut(Model):
    items: list[ReceivableOut]
    totals: ReceivableTotalsOut
    money_back: MoneyBackOut
    page: int
    per_page: int
    pages: int
    currency: str
    as_of: date


class AgingRowOut(Model):
    """A customer's open money per aging bucket (`buckets`, keys in the order of the
    report's `buckets`); customer is None on the total row. `returned`: what came back of
    those orders (the buckets are net of it already)."""

    customer: CustomerRef | None
    buckets: dict[str, Decimal]
    total: Decimal
    returned: Decimal


class AgingOut(Model):
    as_of: date
    currency: str
    buckets: list[str]
    customers: list[AgingRowOut]
    total: AgingRowOut


def receivable_out(row: Receivable) -> ReceivableOut:
    return ReceivableOut(
        order_number=row.order_number,
        customer=CustomerRef(id=row.customer_id, name=row.customer),
        owner=UserRef(id=row.owner_id, username=row.owner_username, full_name=row.owner),
        total=row.total,
        returned=row.returned,
        net_total=row.net_total,
        paid=row.paid,
        outstanding=row.outstanding,
        next_due_date=row.next_due_on,
        overdue_days=row.overdue_days,
        overdue_amount=row.overdue_amount,
    )


def aging_row_out(row: AgingRow) -> AgingRowOut:
    return AgingRowOut(
        customer=CustomerRef(id=row.customer_id, name=row.customer)
        if row.customer_id is not None
        else None,
        buckets=row.buckets,
        total=row.total,
        returned=row.returned,
    )


@router.get("/receivables", response_model=ReceivablesPageOut, responses=EXPORT_RESPONSES)
async def receivables_list(
    request: Request,
    user: ReceivablesUser,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    overdue: bool = False,
    customer_id: CustomerId = None,
    owner_id: OwnerId = None,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 25,
    file_format: ExportQuery = None,
) -> ReceivablesPageOut | Response:
    """Orders with money open in the user's scope (a sales rep's own, a sales manager's
    department tree, everything for finance, directors and administrators): most overdue
    first, then by next due date. `overdue=true` keeps the orders with money past due.
    Amounts are net of returns: `returned` per order and in `totals`. Cancelled orders have no
    money open; what goes back to customers, of cancelled orders and of returns, is in
    `money_back` (refunds due, refunded, credit notes due, credited). With `format` (`csv`,
    `xlsx`), every order of the list as filtered (all pages) as a file; 403 without the export
    permission; audited."""
    if file_format is not None:
        await check_api_export(session=session, user=user)
        shown = {"overdue": overdue or None, "customer_id": customer_id, "owner_id": owner_id}
        export = await receivables_export(
            request=request,
            session=session,
            user=user,
            today=today,
            filters=ReceivableFilter(overdue=overdue, customer_id=customer_id, owner_id=owner_id),
            shown=audit_filters(shown),
        )
        return await export_response(
            export, file_format=file_format, exporter=exporter_of(request, user)
        )
    result = await receivables(
        session=session,
        user=user,
        today=today,
        filters=ReceivableFilter(
            overdue=overdue,
            customer_id=customer_id,
            owner_id=owner_id,
            page=page,
            per_page=per_page,
        ),
    )
    back = await money_back(session=session, user=user, customer_id=customer_id, owner_id=owner_id)
    return ReceivablesPageOut(
        items=[receivable_out(row) for row in result.rows],
        totals=ReceivableTotalsOut(
            count=result.count,
            outstanding=result.outstanding,
            overdue_amount=result.overdue_amount,
            returned=result.returned,
        ),
        money_back=MoneyBackOut(
            refunds_due=back.refunds_due,
            refunds_due_count=back.refunds_due_count,
            refunded=back.refunded,
            credit_notes_due=back.credit_notes_due,
            credited=back.credited,
            refunds=[
                RefundDueOut(
                    order_number=r.order_number,
                    customer=CustomerRef(id=r.customer_id, name=r.customer),
                    amount=r.amount,
                    since=r.since,
                )
                for r in back.due
            ],
        ),
        page=result.page,
        per_page=result.per_page,
        pages=result.pages,
        currency=settings.currency,
        as_of=today,
    )


@router.get("/receivables/aging", response_model=AgingOut, responses=EXPORT_RESPONSES)
async def receivables_aging(
    request: Request,
    user: ReceivablesUser,
    session: SessionDep,
    settings: SettingsDep,
    today: Today,
    customer_id: CustomerId = None,
    owner_id: OwnerId = None,
    file_format: ExportQuery = None,
) -> AgingOut | Response:
    """Open money per customer in the user's scope by how long it is overdue: `not_due`
    (including installments without a due date yet), `1-30`, `31-60`, `61-90` and `over_90`
    days; with a total row. Net of returns (a return reduces the unpaid installments);
    `returned` per customer is what came back of those orders. With `format` (`csv`, `xlsx`),
    the customers and the total row as a file; 403 without the export permission; audited."""
    if file_format is not None:
        await check_api_export(session=session, user=user)
        export = await aging_export(
            request=request,
            session=session,
            user=user,
            today=today,
            customer_id=customer_id,
            owner_id=owner_id,
        )
        return await export_response(
            export, file_format=file_format, exporter=exporter_of(request, user)
        )
    report = await aging(
        session=session, user=user, today=today, customer_id=customer_id, owner_id=owner_id
    )
    return AgingOut(
        as_of=report.today,
        currency=settings.currency,
        buckets=list(AGING_BUCKETS),
        customers=[aging_row_out(row) for row in report.rows],
        total=aging_row_out(report.total),
    )
