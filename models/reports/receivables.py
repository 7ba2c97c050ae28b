"""Receivables: the open money of each order and its aging per customer, in the user's scope.

This module holds the list, one row per order with money open; who sees which orders is in
receivables_scope and the aging in aging, both re-exported here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, Subquery, case, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.queries.sorting import SortOrder
from models.reports.aging import Aging, AgingRow, aging, aging_edges
from models.reports.receivables_scope import (
    COMPANY_SCOPE_ROLES,
    NOT_FOR_YOUR_ROLE,
    OWN_SCOPE_ROLES,
    RECEIVABLES_ROLES,
    ReceivablesRefusal,
    check_may_see_receivables,
    is_open,
    may_see_receivables,
    of_orders,
    receivable_orders,
    receivable_owners,
    receivables_scope,
)
from models.reports.receivables_sort import sorted_order_ids
from models.reports.returned_figures import returned_of_open_orders
from models.reports.sums import ZERO, sum_as_money
from models.tables import Customer, Installment, Order, User

__all__ = [
    "COMPANY_SCOPE_ROLES",
    "MAX_PER_PAGE",
    "NOT_FOR_YOUR_ROLE",
    "OWN_SCOPE_ROLES",
    "RECEIVABLES_ROLES",
    "WALK_AT_MOST",
    "ZERO",
    "Aging",
    "AgingRow",
    "Receivable",
    "ReceivableFilter",
    "ReceivablesPage",
    "ReceivablesRefusal",
    "aging",
    "aging_edges",
    "check_may_see_receivables",
    "may_see_receivables",
    "receivable_owners",
    "receivables",
    "receivables_scope",
]

MAX_PER_PAGE = 200
# Up to this many rows down the list a page is found by walking the open installments in
# due-date order; further down, grouping and sorting every order costs less.
WALK_AT_MOST = 5000


# -- the list: one row per order with money open ---------------------------------------------


@dataclass(frozen=True)
class ReceivableFilter:
    overdue: bool = False
    customer_id: int | None = None
    owner_id: int | None = None
    page: int = 1
    per_page: int = 25
    sort: SortOrder = field(default_factory=SortOrder)  # the usual: most overdue first


@dataclass(frozen=True)
class Receivable:
    """An order with money open: what is open, when the next money is due, how late it is.
    `returned` is the value of the goods that came back; `outstanding` is already net of it
    (the return reduced the unpaid installments)."""

    order_number: str
    customer_id: int
    customer: str
    owner_id: int
    owner_username: str
    owner: str
    total: Decimal
    paid: Decimal
    outstanding: Decimal
    next_due_on: date | None  # the earliest due date of its open installments
    overdue_days: int  # since the earliest open installment that is past due; 0 if none
    overdue_amount: Decimal
    returned: Decimal = ZERO

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0

    @property
    def net_total(self) -> Decimal:
        return self.total - self.returned


@dataclass(frozen=True)
class ReceivablesPage:
    rows: list[Receivable]
    count: int  # orders with money open, over every page
    outstanding: Decimal  # over every page
    overdue_amount: Decimal  # over every page
    page: int
    per_page: int
    returned: Decimal = ZERO  # over every page: what came back of these orders

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


async def receivables(
    *, session: AsyncSession, user: User, today: date, filters: ReceivableFilter
) -> ReceivablesPage:
    """The orders in the user's scope with money open, most overdue first, then by next due
    date, orders whose open installments have no due date yet last (by order id within a
    day); with totals over every page.

    An order's place in that list is its earliest open due date: an overdue order's earliest
    open installment is its oldest overdue one. So a page is read by walking the open
    installments in due-date order and keeping each order's earliest one, which stops after
    the page instead of summing every order's installments to sort them (pages far down the
    list do sum and sort); the totals are one pass over the installments."""
    order_conditions = await receivable_orders(
        session=session, user=user, customer_id=filters.customer_id, owner_id=filters.owner_id
    )
    in_scope = [*is_open(Installment), *of_orders(Installment, order_conditions)]
    count, outstanding, overdue_amount = await _totals(
        session, in_scope, today, overdue_only=filters.overdue
    )
    offset = (filters.page - 1) * filters.per_page
    order_ids: list[int] = []
    if offset < count and filters.sort.column:
        order_ids = await sorted_order_ids(
            session, in_scope, today, filters.sort, overdue_only=filters.overdue,
            offset=offset, limit=filters.per_page,
        )  # fmt: skip
    elif offset < count:  # else past the last page
        order_ids = await _page_order_ids(session, in_scope, today, filters, offset=offset)
    return ReceivablesPage(
        rows=await _receivables_of(session, order_ids, today),
        count=count,
        outstanding=outstanding,
        overdue_amount=overdue_amount,
        page=filters.page,
        per_page=filters.per_page,
        returned=await returned_of_open_orders(
            session, in_scope, today, overdue_only=filters.overdue
        )
        if count
        else ZERO,
    )


async def _page_order_ids(
    session: AsyncSession,
    in_scope: list[ColumnElement[bool]],
    today: date,
    filters: ReceivableFilter,
    *,
    offset: int,
) -> list[int]:
    """The page's order ids: walked through the open due dates, the undated orders after
    them, up to WALK_AT_MOST rows down the list; sorted as a whole further down."""
    if offset >= WALK_AT_MOST:
        return await _sorted_page(
            session,
            in_scope,
            today,
            overdue_only=filters.overdue,
            offset=offset,
            limit=filters.per_page,
        )
    order_ids = await _dated_page(
        session,
        in_scope,
        today,
        overdue_only=filters.overdue,
        offset=offset,
        limit=filters.per_page,
    )
    missing = filters.per_page - len(order_ids)
    if missing > 0 and not filters.overdue:  # past the dated orders: the undated follow
        dated = offset + len(order_ids) if order_ids else await _dated_count(session, in_scope)
        order_ids += await _undated_page(
            session, in_scope, offset=max(0, offset - dated), limit=missing
        )
    return order_ids


async def _totals(
    session: AsyncSession, in_scope: list[ColumnElement[bool]], today: date, *, overdue_only: bool
) -> tuple[int, Decimal, Decimal]:
    """How many orders have money open, how much, and how much of it is overdue; over the
    whole filtered set."""
    open_amount = Installment.amount - Installment.paid
    past_due = Installment.due_on < today
    overdue_amount = func.sum(case((past_due, open_amount), else_=0))
    if overdue_only:
        # Per order, in the index's order (no sort), keeping the orders with money past due.
        per_order = (
            select(func.sum(open_amount).label("outstanding"), overdue_amount.label("overdue"))
            .where(*in_scope)
            .group_by(Installment.order_id)
            .having(func.min(Installment.due_on) < today)
            .subquery()
        )
        totals = select(
            func.count(), func.sum(per_order.c.outstanding), func.sum(per_order.c.overdue)
        )
    else:
        totals = select(
            func.count(distinct(Installment.order_id)), func.sum(open_amount), overdue_amount
        ).where(*in_scope)
    count, outstanding, overdue = (await session.execute(totals)).one()
    return count or 0, sum_as_money(outstanding), sum_as_money(overdue)


async def _dated_count(session: AsyncSession, in_scope: list[ColumnElement[bool]]) -> int:
    """How many orders have an open installment with a due date."""
    found = await session.scalar(
        select(func.count(distinct(Installment.order_id))).where(
            *in_scope, Installment.due_on.is_not(None)
        )
    )
    return found or 0


async def _dated_page(
    session: AsyncSession,
    in_scope: list[ColumnElement[bool]],
    today: date,
    *,
    overdue_only: bool,
    offset: int,
    limit: int,
) -> list[int]:
    """Order ids of a page among the orders with a due date, by their earliest open due date:
    the open installments, in due-date order, that no open installment of their order comes
    before (by due date, then id). Checking that is one short range of the covering index."""
    earlier = aliased(Installment, name="earlier")
    comes_before = exists().where(
        *is_open(earlier),
        earlier.order_id == Installment.order_id,
        earlier.due_on <= Installment.due_on,
        or_(earlier.due_on < Installment.due_on, earlier.id < Installment.id),
    )
    query = select(Installment.order_id).where(
        *in_scope, Installment.due_on.is_not(None), ~comes_before
    )
    if overdue_only:
        query = query.where(Installment.due_on < today)
    rows = await session.scalars(
        query.order_by(Installment.due_on, Installment.order_id).offset(offset).limit(limit)
    )
    return list(rows)


async def _undated_page(
    session: AsyncSession, in_scope: list[ColumnElement[bool]], *, offset: int, limit: int
) -> list[int]:
    """Order ids of a page among the orders none of whose open installments has a due date
    yet, by order id."""
    other = aliased(Installment, name="other")
    dated_or_before = exists().where(
        *is_open(other),
        other.order_id == Installment.order_id,
        or_(other.due_on.is_not(None), other.id < Installment.id),
    )
    rows = await session.scalars(
        select(Installment.order_id)
        .where(*in_scope, Installment.due_on.is_(None), ~dated_or_before)
        .order_by(Installment.order_id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


async def _sorted_page(
    session: AsyncSession,
    in_scope: list[ColumnElement[bool]],
    today: date,
    *,
    overdue_only: bool,
    offset: int,
    limit: int,
) -> list[int]:
    """The same page as _dated_page then _undated_page, by grouping every order and sorting:
    a fixed cost, cheaper than walking the due dates once the page is far down the list."""
    first_due = func.min(Installment.due_on)
    query = select(Installment.order_id).where(*in_scope).group_by(Installment.order_id)
    if overdue_only:
        query = query.having(first_due < today)
    rows = await session.scalars(
        query.order_by(first_due.is_(None), first_due, Installment.order_id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


async def _receivables_of(
    session: AsyncSession, order_ids: list[int], today: date
) -> list[Receivable]:
    """The rows of a page, in the order of order_ids."""
    if not order_ids:
        return []
    per_order = _open_per_order(order_ids, today)
    owner = aliased(User, name="owner")
    rows = await session.execute(
        select(
            Order.id,
            Order.number,
            Order.customer_id,
            Customer.name,
            Order.owner_id,
            owner.username,
            owner.full_name,
            Order.total,
            Order.paid,
            per_order.c.outstanding,
            per_order.c.next_due_on,
            per_order.c.overdue_since,
            per_order.c.overdue_amount,
            Order.returned,
        )
        .join(Order, Order.id == per_order.c.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(owner, owner.id == Order.owner_id)
    )
    found = {row[0]: _receivable(row, today) for row in rows}
    return [found[order_id] for order_id in order_ids if order_id in found]


def _open_per_order(order_ids: list[int], today: date) -> Subquery:
    """Per order of the page: its open money, its earliest open due date, the earliest past
    today, and how much is past due."""
    open_amount = Installment.amount - Installment.paid
    past_due = Installment.due_on < today
    return (
        select(
            Installment.order_id.label("order_id"),
            func.sum(open_amount).label("outstanding"),
            func.min(Installment.due_on).label("next_due_on"),
            func.min(case((past_due, Installment.due_on))).label("overdue_since"),
            func.sum(case((past_due, open_amount), else_=0)).label("overdue_amount"),
        )
        .where(*is_open(Installment), Installment.order_id.in_(order_ids))
        .group_by(Installment.order_id)
        .subquery("per_order")
    )


def _receivable(row: Row[*tuple[Any, ...]], today: date) -> Receivable:
    """A row of _receivables_of's query as the list shows it."""
    (
        _,
        number,
        customer_id,
        customer,
        owner_id,
        username,
        full_name,
        total,
        paid,
        outstanding,
        next_due_on,
        overdue_since,
        overdue_amount,
        returned,
    ) = row
    return Receivable(
        order_number=number,
        customer_id=customer_id,
        customer=customer,
        owner_id=owner_id,
        owner_username=username,
        owner=full_name,
        total=total,
        paid=paid,
        outstanding=sum_as_money(outstanding),
        next_due_on=next_due_on,
        overdue_days=(today - overdue_since).days if overdue_since else 0,
        overdue_amount=sum_as_money(overdue_amount),
        returned=sum_as_money(returned),
    )
