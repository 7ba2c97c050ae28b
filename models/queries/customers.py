"""What an order needs to know of its customer: its credit exposure, and the site the goods go
to with the people to call there."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import Stage
from models.tables import Contact, Order

# Orders whose value the customer owes or will owe: confirmed and not yet closed. (Payments
# received will come off once collection records them.)
EXPOSED_STAGES = [
    Stage.confirmed.value,
    Stage.fulfilment.value,
    Stage.acceptance.value,
    Stage.collection.value,
    Stage.cost_review.value,
]


def _exposure_by_customer(other_than: int | None) -> Select[int, Decimal]:
    """Each customer's exposure on its confirmed, open orders, leaving out one order (the one
    being weighed, so that it is counted once, as itself)."""
    leave_out: ColumnElement[bool] = true() if other_than is None else Order.id != other_than
    return (
        select(Order.customer_id, func.coalesce(func.sum(Order.total), 0))
        .where(Order.stage.in_(EXPOSED_STAGES), leave_out)
        .group_by(Order.customer_id)
    )


async def exposure_of(
    *, session: AsyncSession, customer_id: int, other_than: int | None = None
) -> Decimal:
    """What the customer owes or will owe on its confirmed, open orders (but `other_than`).
    Not scoped by a user: it is one sum over the customer's orders, which approval routing
    and the order form weigh whoever owns them."""
    found = await session.execute(
        _exposure_by_customer(other_than).where(Order.customer_id == customer_id)
    )
    row = found.first()
    return Decimal(row[1]) if row else Decimal("0")


async def exposures(
    *, session: AsyncSession, customer_ids: Collection[int], other_than: int | None = None
) -> dict[int, Decimal]:
    """exposure_of for several customers at once (0 for one with no open order)."""
    found = await session.execute(
        _exposure_by_customer(other_than).where(Order.customer_id.in_(list(customer_ids)))
    )
    sums = {customer_id: Decimal(total) for customer_id, total in found}
    return {customer_id: sums.get(customer_id, Decimal("0")) for customer_id in customer_ids}


@dataclass(frozen=True)
class SiteContact:
    name: str
    phone: str
    email: str


@dataclass(frozen=True)
class Site:
    """Where the goods go and are installed (the customer's address: an order has no ship-to
    of its own), and the customer's contacts there."""

    address: str
    contacts: list[SiteContact]


async def site_of(*, session: AsyncSession, order: Order) -> Site:
    """The order's site, for someone who already may see the order."""
    contacts = await session.scalars(
        select(Contact).where(Contact.customer_id == order.customer_id).order_by(Contact.id)
    )
    return Site(
        address=order.customer.address,
        contacts=[SiteContact(name=c.name, phone=c.phone, email=c.email) for c in contacts],
    )


# The to-dos done at the customer's site, whose pages show it.
SITE_TODO_KINDS = frozenset({"confirm_acceptance"})


async def site_for_todo(*, session: AsyncSession, kind: str, order: Order) -> Site | None:
    """The site of a to-do done there (None for the others)."""
    return await site_of(session=session, order=order) if kind in SITE_TODO_KINDS else None
