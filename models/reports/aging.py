"""Receivables aging: each customer's open money in the user's scope by how late it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Subquery, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.reports.receivables_scope import is_open, of_orders, receivable_orders
from models.reports.returned_figures import returned_per_customer
from models.reports.sums import ZERO, sum_as_money
from models.tables import Customer, Installment, Order, User
from workflows.rules import AGING_BUCKETS


@dataclass(frozen=True)
class AgingRow:
    """One customer's open money by aging bucket (rules.AGING_BUCKETS); customer_id is None on
    the grand total row. `returned`: what came back of those orders (the buckets are net of
    it already: a return reduces the unpaid installments)."""

    customer_id: int | None
    customer: str
    buckets: dict[str, Decimal] = field(default_factory=dict)
    returned: Decimal = ZERO

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
    conditions = await receivable_orders(
        session=session, user=user, customer_id=customer_id, owner_id=owner_id
    )
    per_customer = _due_before_edges(conditions, aging_edges(today))
    # The differences outside the grouping, so that each sum is computed once.
    everything, *due_before = list(per_customer.c)[1:]
    rows = (
        await session.execute(
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
    ).all()
    in_scope = [*is_open(Installment), *of_orders(Installment, conditions)]
    returned = await returned_per_customer(session, in_scope) if rows else {}
    found = [
        AgingRow(
            customer_id=row[0],
            customer=row[-1],
            buckets={
                name: sum_as_money(value)
                for name, value in zip(AGING_BUCKETS, row[1:-1], strict=True)
            },
            returned=returned.get(row[0], ZERO),
        )
        for row in rows
    ]
    total = AgingRow(
        customer_id=None,
        customer="",
        buckets={name: sum((r.buckets[name] for r in found), ZERO) for name in AGING_BUCKETS},
        returned=sum((r.returned for r in found), ZERO),
    )
    return Aging(today=today, rows=found, total=total)


def _due_before_edges(conditions: list[ColumnElement[bool]], edges: list[date]) -> Subquery:
    """Per customer of the orders meeting the conditions: all their open money
    (`everything`), and how much of it falls due before each edge (`due_before_<k>`)."""
    open_amount = Installment.amount - Installment.paid
    return (
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
        .where(*is_open(Installment), *of_orders(Installment, conditions))
        .group_by(Order.customer_id)
        .subquery("per_customer")
    )
