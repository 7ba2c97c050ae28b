"""Money going back to customers after cancellations and returns, in the receivables user's
scope: refunds due (finance's open confirm_refund), refunded, credit notes to issue and
credited; and the credit notes that take an order's revenue down in the cost variance report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, ScalarSelect, case, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from models.dates import as_utc
from models.reports.receivables_scope import receivable_orders
from models.reports.sums import sum_as_money
from models.tables import CreditNote, Customer, Order, Refund, User

# The refunds due listed by name, oldest first; the figures count them all.
REFUNDS_LISTED = 100


@dataclass(frozen=True)
class RefundDue:
    """A refund finance have yet to pay back to a customer: of a cancelled order, or of goods
    that came back."""

    order_number: str
    customer_id: int
    customer: str
    amount: Decimal
    since: datetime


@dataclass(frozen=True)
class MoneyBack:
    """Over the whole selected scope (not one page)."""

    refunds_due: Decimal  # open confirm_refund to-dos: what is still to pay back
    refunds_due_count: int
    refunded: Decimal
    credit_notes_due: Decimal  # credit notes asked for, not issued yet
    credited: Decimal  # credit notes issued
    due: list[RefundDue]  # the oldest REFUNDS_LISTED refunds due


async def money_back(
    *, session: AsyncSession, user: User, customer_id: int | None, owner_id: int | None
) -> MoneyBack:
    """Refunds and credit notes of the orders whose receivables this user sees (a sales rep's
    own, a sales manager's department tree, all for finance, directors and administrators),
    of a customer and an owner when given; those a cancellation asked for and those a
    return did alike (whatever the order's stage)."""
    conditions = await receivable_orders(
        session=session, user=user, customer_id=customer_id, owner_id=owner_id
    )
    refunds = _of_orders(Refund.order_id, conditions)
    notes = _of_orders(CreditNote.order_id, conditions)
    pending = Refund.status == "pending"
    due, count, refunded = (
        await session.execute(
            select(
                func.sum(case((pending, Refund.due), else_=0)),
                func.count(case((pending, Refund.id))),
                func.sum(case((Refund.status == "refunded", Refund.amount), else_=0)),
            ).where(*refunds)
        )
    ).one()
    to_issue, credited = (
        await session.execute(
            select(
                func.sum(case((CreditNote.status == "requested", CreditNote.amount), else_=0)),
                func.sum(case((CreditNote.status == "issued", CreditNote.amount), else_=0)),
            ).where(*notes)
        )
    ).one()
    return MoneyBack(
        refunds_due=sum_as_money(due),
        refunds_due_count=count or 0,
        refunded=sum_as_money(refunded),
        credit_notes_due=sum_as_money(to_issue),
        credited=sum_as_money(credited),
        due=await _refunds_due(session, refunds) if count else [],
    )


def _of_orders(
    order_id: QueryableAttribute[int], conditions: list[ColumnElement[bool]]
) -> list[ColumnElement[bool]]:
    """The row belongs to an order meeting the conditions (the company's scope: any order):
    EXISTS, not IN, so that a manager's tree of orders is not listed first."""
    kept = [c for c in conditions if c is not true()]
    if not kept:
        return []
    return [exists().where(Order.id == order_id, *kept).correlate_except(Order)]


async def _refunds_due(
    session: AsyncSession, refunds: list[ColumnElement[bool]]
) -> list[RefundDue]:
    rows = await session.execute(
        select(Order.number, Order.customer_id, Customer.name, Refund.due, Refund.created_at)
        .join(Order, Order.id == Refund.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Refund.status == "pending", *refunds)
        .order_by(Refund.created_at, Refund.id)
        .limit(REFUNDS_LISTED)
    )
    return [
        RefundDue(
            order_number=number,
            customer_id=customer_id,
            customer=customer,
            amount=sum_as_money(amount),
            # SQLite hands datetimes back without their zone; they were stored in UTC.
            since=as_utc(since),
        )
        for number, customer_id, customer, amount, since in rows
    ]


def credited_of_order() -> ScalarSelect[Decimal]:
    """The credit notes issued for the order of the enclosing query (0 when none)."""
    return (
        select(func.coalesce(func.sum(CreditNote.amount), 0))
        .where(CreditNote.order_id == Order.id, CreditNote.status == "issued")
        .scalar_subquery()
    )
