"""An order's net revenue, as the cost comparison at closing and the cost variance report count
it: the total less the value of the goods that came back, less the credit notes issued for
anything else.

A return's credit note credits what was invoiced of goods that came back, whose value is in
`returned` already: it is not subtracted a second time. The credit notes that take revenue down
besides are the others (those crediting no return, `return_id` empty)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ScalarSelect, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.reports.sums import ZERO, sum_as_money
from models.tables import CreditNote, Order


def net_revenue(
    total: Decimal, returned: Decimal, credited: Decimal, credited_for_returns: Decimal
) -> Decimal:
    """The total less what came back, less the issued credit notes that credit no return."""
    return total - returned - (credited - credited_for_returns)


@dataclass(frozen=True)
class NetRevenue:
    """An order's revenue and what takes it down: `returned` (the value of the goods that came
    back), `credited` (every credit note issued) of which `credited_for_returns`."""

    total: Decimal
    returned: Decimal = ZERO
    credited: Decimal = ZERO
    credited_for_returns: Decimal = ZERO

    @property
    def credited_otherwise(self) -> Decimal:
        """The issued credit notes that credit no return: they take revenue down too."""
        return self.credited - self.credited_for_returns

    @property
    def revenue(self) -> Decimal:
        return net_revenue(self.total, self.returned, self.credited, self.credited_for_returns)


def credited_for_returns_of_order() -> ScalarSelect[Decimal]:
    """The credit notes issued for returns of the order of the enclosing query (0 when none)."""
    return (
        select(func.coalesce(func.sum(CreditNote.amount), 0))
        .where(
            CreditNote.order_id == Order.id,
            CreditNote.status == "issued",
            CreditNote.return_id.is_not(None),
        )
        .scalar_subquery()
    )


async def net_revenue_of(*, session: AsyncSession, order: Order) -> NetRevenue:
    """The order's net revenue and its parts, as they are now."""
    credited, for_returns = (
        await session.execute(
            select(
                func.sum(CreditNote.amount),
                func.sum(case((CreditNote.return_id.is_not(None), CreditNote.amount), else_=0)),
            ).where(CreditNote.order_id == order.id, CreditNote.status == "issued")
        )
    ).one()
    return NetRevenue(
        total=order.total,
        returned=sum_as_money(order.returned),
        credited=sum_as_money(credited),
        credited_for_returns=sum_as_money(for_returns),
    )
