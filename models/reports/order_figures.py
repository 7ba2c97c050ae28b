"""Confirmed orders' money in a statistics period, net of returns and cancellations, summed per
group (a customer, a month and region, ...) for the customer and order statistics.

An order counts in the period it was confirmed in (the company's days) and in the user's order
scope; a cancelled order counts nowhere. Its `amount` is its net revenue (models/reports/
net_revenue.py: the total less what came back, less the credit notes that credit no return);
`collected` is what was paid less what was refunded; `outstanding` what its open installments
still ask (already net of returns, as in the receivables); `invoiced` the invoices issued less
the credit notes issued."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    case,
    func,
    literal_column,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import Stage
from models.queries import order_scope
from models.reports.net_revenue import net_revenue
from models.reports.receivables_scope import is_open
from models.reports.statistics_period import Period
from models.reports.sums import ZERO, sum_as_money
from models.tables import CreditNote, Installment, Order, Refund, User


async def counted_orders(
    *, session: AsyncSession, user: User, period: Period
) -> list[ColumnElement[bool]]:
    """The orders a statistics report counts: in the user's scope, confirmed in the period,
    not cancelled."""
    begin, end = period.bounds()
    return [
        await order_scope(session=session, user=user),
        Order.confirmed_at >= begin,
        Order.confirmed_at < end,
        Order.stage != Stage.cancelled.value,
    ]


@dataclass(frozen=True)
class MoneyFigures:
    """What a group of orders sums to; `amount` is their net revenue."""

    orders: int = 0
    amount: Decimal = ZERO
    returned: Decimal = ZERO
    collected: Decimal = ZERO
    outstanding: Decimal = ZERO
    invoiced: Decimal = ZERO

    def __add__(self, other: MoneyFigures) -> MoneyFigures:
        return MoneyFigures(
            orders=self.orders + other.orders,
            amount=self.amount + other.amount,
            returned=self.returned + other.returned,
            collected=self.collected + other.collected,
            outstanding=self.outstanding + other.outstanding,
            invoiced=self.invoiced + other.invoiced,
        )


Key = tuple[Any, ...]


async def grouped_figures(
    session: AsyncSession,
    conditions: list[ColumnElement[bool]],
    keys: Sequence[SQLColumnExpression[Any]],
    joins: Sequence[tuple[Any, ColumnElement[bool]]] = (),
) -> dict[Key, MoneyFigures]:
    """The counted orders' money per value of `keys` (on orders, and on the tables `joins`
    adds). Each part is summed on its own, from the orders, the issued credit notes, the
    refunds paid back and the open installments: a sum of per-order figures is the sum of
    their parts, and each part reads only its own rows (the orders from their covering index)
    instead of looking up every order's credit notes, refunds and installments."""

    async def sums(
        source: Any, values: Sequence[SQLColumnExpression[Any]], *extra: ColumnElement[bool]
    ) -> dict[Key, Sequence[Any]]:
        return await summed_by(session, source, keys, joins, [*conditions, *extra], values)

    base = await sums(Order, [literal_column("1"), Order.total, Order.returned, Order.paid,
                              Order.invoiced])  # fmt: skip
    issued = [CreditNote.amount, case((CreditNote.return_id.is_not(None), CreditNote.amount))]
    notes = await sums(CreditNote, issued, CreditNote.status == "issued")
    refunds = await sums(Refund, [Refund.amount], Refund.status == "refunded")
    still_open = await sums(
        Installment, [Installment.amount - Installment.paid], *is_open(Installment)
    )
    found = {}
    for key, (count, total, returned, paid, invoiced) in base.items():
        credited, for_returns = (sum_as_money(v) for v in notes.get(key, (None, None)))
        returned_money = sum_as_money(returned)
        found[key] = MoneyFigures(
            orders=int(count or 0),
            amount=net_revenue(sum_as_money(total), returned_money, credited, for_returns),
            returned=returned_money,
            collected=sum_as_money(paid) - sum_as_money(refunds.get(key, (None,))[0]),
            outstanding=sum_as_money(still_open.get(key, (None,))[0]),
            invoiced=sum_as_money(invoiced) - credited,
        )
    return found


async def summed_by(
    session: AsyncSession,
    source: Any,
    keys: Sequence[SQLColumnExpression[Any]],
    joins: Sequence[tuple[Any, ColumnElement[bool]]],
    conditions: list[ColumnElement[bool]],
    values: Sequence[SQLColumnExpression[Any]],
    *,
    through: tuple[Any, ColumnElement[bool], Any] | None = None,
) -> dict[Key, Sequence[Any]]:
    """Sums of `values` per value of `keys` over the rows of `source` whose order meets
    `conditions`: orders, a table with an order_id, or one `through` another (the table, the
    join's condition, its order_id column). Grouped over a subquery, so that a key with
    parameters (a month's CASE) is written once: PostgreSQL would not take it again in GROUP
    BY."""
    per_row: Select[*tuple[Any, ...]] = select(
        *(key.label(f"key_{n}") for n, key in enumerate(keys)),
        *(value.label(f"value_{n}") for n, value in enumerate(values)),
    )
    if through is not None:
        table, on, order_id = through
        per_row = per_row.select_from(source).join(table, on)
        per_row = per_row.join(Order, Order.id == order_id)
    elif source is not Order:
        per_row = per_row.select_from(source).join(Order, Order.id == source.order_id)
    for table, on in joins:
        per_row = per_row.join(table, on)
    rows = per_row.where(*conditions).subquery("per_row")
    grouped = [rows.c[f"key_{n}"] for n in range(len(keys))]
    found = await session.execute(
        select(*grouped, *(func.sum(rows.c[f"value_{n}"]) for n in range(len(values)))).group_by(
            *grouped
        )
    )
    return {tuple(row[: len(keys)]): row[len(keys) :] for row in found}
