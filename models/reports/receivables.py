"""Receivables: the open money of each order and its aging per customer, in the user's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, case, distinct, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from i18n import N_
from models.domain import ORDER_ENTRY_ROLES, Refusal, Role
from models.queries import department_subtree, managed_department_ids, order_scope
from models.tables import Customer, Installment, Order, User
from workflows.rules import AGING_BUCKETS

# Who has receivables: sales their own, a sales manager their department tree, the rest all.
OWN_SCOPE_ROLES = frozenset({Role.sales, Role.sales_manager})
COMPANY_SCOPE_ROLES = frozenset({Role.finance, Role.director, Role.admin})
RECEIVABLES_ROLES = OWN_SCOPE_ROLES | COMPANY_SCOPE_ROLES
MAX_PER_PAGE = 200
# Up to this many rows down the list a page is found by walking the open installments in
# due-date order; further down, grouping and sorting every order costs less.
WALK_AT_MOST = 5000
ZERO = Decimal("0.00")
NOT_FOR_YOUR_ROLE = N_(
    "Receivables are for sales, sales managers, finance, directors and administrators."
)


class ReceivablesRefusal(Refusal):
    """Someone whose role has no receivables asked for them."""


def may_see_receivables(user: User) -> bool:
    return Role(user.role) in RECEIVABLES_ROLES


def check_may_see_receivables(user: User) -> None:
    if not may_see_receivables(user):
        raise ReceivablesRefusal(NOT_FOR_YOUR_ROLE)


async def receivables_scope(*, session: AsyncSession, user: User) -> ColumnElement[bool]:
    """The orders whose receivables this user sees, as a WHERE clause on orders."""
    check_may_see_receivables(user)
    if Role(user.role) in COMPANY_SCOPE_ROLES:
        return true()
    return await order_scope(session=session, user=user)


def _is_open(installment: type[Installment]) -> list[ColumnElement[bool]]:
    """An installment with money still open. `settled == False` (not IS): it renders as the
    literal the installments' covering index starts with."""
    return [installment.settled == False, installment.amount > installment.paid]  # noqa: E712


def _of_orders(
    installment: type[Installment], order_conditions: list[ColumnElement[bool]]
) -> list[ColumnElement[bool]]:
    """The installment belongs to an order meeting the conditions (none: any order). A
    subquery, not a join, so that the whole company's receivables read installments only."""
    # true() is a singleton: the whole company's scope adds no condition.
    conditions = [c for c in order_conditions if c is not true()]
    if not conditions:
        return []
    return [installment.order_id.in_(select(Order.id).where(*conditions))]


# -- the list: one row per order with money open ---------------------------------------------


@dataclass(frozen=True)
class ReceivableFilter:
    overdue: bool = False
    customer_id: int | None = None
    owner_id: int | None = None
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class Receivable:
    """An order with money open: what is open, when the next money is due, how late it is."""

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

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


@dataclass(frozen=True)
class ReceivablesPage:
    rows: list[Receivable]
    count: int  # orders with money open, over every page
    outstanding: Decimal  # over every page
    overdue_amount: Decimal  # over every page
    page: int
    per_page: int

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
    scope = await receivables_scope(session=session, user=user)
    order_conditions = [scope]
    if filters.customer_id is not None:
        order_conditions.append(Order.customer_id == filters.customer_id)
    if filters.owner_id is not None:
        order_conditions.append(Order.owner_id == filters.owner_id)
    in_scope = [*_is_open(Installment), *_of_orders(Installment, order_conditions)]

    count, outstanding, overdue_amount = await _totals(
        session, in_scope, today, overdue_only=filters.overdue
    )
    offset = (filters.page - 1) * filters.per_page
    order_ids: list[int] = []
    if offset >= count:
        pass  # past the last page
    elif offset >= WALK_AT_MOST:
        order_ids = await _sorted_page(
            session,
            in_scope,
            today,
            overdue_only=filters.overdue,
            offset=offset,
            limit=filters.per_page,
        )
    else:
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
    return ReceivablesPage(
        rows=await _receivables_of(session, order_ids, today),
        count=count,
        outstanding=outstanding,
        overdue_amount=overdue_amount,
        page=filters.page,
        per_page=filters.per_page,
    )


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
    return count or 0, _money(outstanding), _money(overdue)


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
        *_is_open(earlier),
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
        *_is_open(other),
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
    open_amount = Installment.amount - Installment.paid
    past_due = Installment.due_on < today
    per_order = (
        select(
            Installment.order_id.label("order_id"),
            func.sum(open_amount).label("outstanding"),
            func.min(Installment.due_on).label("next_due_on"),
            func.min(case((past_due, Installment.due_on))).label("overdue_since"),
            func.sum(case((past_due, open_amount), else_=0)).label("overdue_amount"),
        )
        .where(*_is_open(Installment), Installment.order_id.in_(order_ids))
        .group_by(Installment.order_id)
        .subquery("per_order")
    )
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
        )
        .join(Order, Order.id == per_order.c.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(owner, owner.id == Order.owner_id)
    )
    found = {
        order_id: Receivable(
            order_number=number,
            customer_id=customer_id,
            customer=customer,
            owner_id=owner_id,
            owner_username=username,
            owner=full_name,
            total=total,
            paid=paid,
            outstanding=_money(outstanding),
            next_due_on=next_due_on,
            overdue_days=(today - overdue_since).days if overdue_since else 0,
            overdue_amount=_money(overdue_amount),
        )
        for (
            order_id,
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
        ) in rows
    }
    return [found[order_id] for order_id in order_ids if order_id in found]


def _money(value: Decimal | float | int | None) -> Decimal:
    """A sum as money. SQLite keeps Numeric as floating point, so sums and their differences
    come back with float noise (or as a float where the column type is lost): rounded here."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(Decimal("0.01"))


# -- aging: open money per customer by how late it is ----------------------------------------


@dataclass(frozen=True)
class AgingRow:
    """One customer's open money by aging bucket (rules.AGING_BUCKETS); customer_id is None on
    the grand total row."""

    customer_id: int | None
    customer: str
    buckets: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


@dataclass(frozen=True)
class Aging:
    today: date
    rows: list[AgingRow]  # by customer name
    total: AgingRow


def aging_edges(today: date) -> list[date]:
    """The due dates where the buckets after not_due begin: an installment due before
    edges[k] is at least 1, 31, 61, 91 days overdue (the edges of rules.aging_bucket)."""
    return [today - timedelta(days=days) for days in (0, 30, 60, 90)]


async def aging(
    *,
    session: AsyncSession,
    user: User,
    today: date,
    customer_id: int | None = None,
    owner_id: int | None = None,
) -> Aging:
    """Open money per customer in the user's scope, in the aging buckets, with a grand total
    row; customers with nothing open are left out.

    The SQL sums what is due before each edge (plain date comparisons, the same on SQLite and
    PostgreSQL) and a bucket is the difference of two such sums: one comparison per sum
    instead of two, over every open installment."""
    scope = await receivables_scope(session=session, user=user)
    conditions = [scope]
    if customer_id is not None:
        conditions.append(Order.customer_id == customer_id)
    if owner_id is not None:
        conditions.append(Order.owner_id == owner_id)
    open_amount = Installment.amount - Installment.paid
    edges = aging_edges(today)
    per_customer = (
        select(
            Order.customer_id.label("customer_id"),
            func.sum(open_amount).label("everything"),
            *(
                func.sum(case((Installment.due_on < edge, open_amount), else_=0)).label(
                    f"due_before_{k}"
                )
                for k, edge in enumerate(edges)
            ),
        )
        .select_from(Installment)
        .join(Order, Order.id == Installment.order_id)
        .where(*_is_open(Installment), *_of_orders(Installment, conditions))
        .group_by(Order.customer_id)
        .subquery("per_customer")
    )
    # The differences outside the grouping, so that each sum is computed once.
    everything, *due_before = list(per_customer.c)[1:]
    rows = await session.execute(
        select(
            per_customer.c.customer_id,
            everything - due_before[0],  # not due, or no due date yet (NULL < edge is not true)
            due_before[0] - due_before[1],
            due_before[1] - due_before[2],
            due_before[2] - due_before[3],
            due_before[3],
            Customer.name,
        )
        .join(Customer, Customer.id == per_customer.c.customer_id)
        .order_by(Customer.name, Customer.id)
    )
    found = [
        AgingRow(
            customer_id=row[0],
            customer=row[-1],
            buckets={
                name: _money(value) for name, value in zip(AGING_BUCKETS, row[1:-1], strict=True)
            },
        )
        for row in rows
    ]
    total = AgingRow(
        customer_id=None,
        customer="",
        buckets={name: sum((r.buckets[name] for r in found), ZERO) for name in AGING_BUCKETS},
    )
    return Aging(today=today, rows=found, total=total)


# -- who the list can be filtered by ----------------------------------------------------------


async def receivable_owners(*, session: AsyncSession, user: User) -> list[User]:
    """The people whose orders this user may filter the receivables by: none for a sales rep
    (they see their own), their department tree's people for a sales manager, else everyone
    who enters orders."""
    check_may_see_receivables(user)
    role = Role(user.role)
    if role == Role.sales:
        return []
    query = select(User).where(User.role.in_([r.value for r in ORDER_ENTRY_ROLES]))
    if role == Role.sales_manager:
        managed = await managed_department_ids(session=session, user=user)
        tree = await department_subtree(session=session, roots=[*managed, user.department_id])
        query = query.where(User.department_id.in_(tree))
    return list((await session.scalars(query.order_by(User.full_name))).unique())
