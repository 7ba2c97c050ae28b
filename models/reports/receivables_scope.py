"""Who sees receivables, of which orders, and the SQL for open installments that the
receivables list and the aging share."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models.domain import ORDER_ENTRY_ROLES, Refusal, Role
from models.queries import department_subtree, managed_department_ids, order_scope
from models.tables import Installment, Order, User

# Who has receivables: sales their own, a sales manager their department tree, the rest all.
OWN_SCOPE_ROLES = frozenset({Role.sales, Role.sales_manager})
COMPANY_SCOPE_ROLES = frozenset({Role.finance, Role.director, Role.admin})
RECEIVABLES_ROLES = OWN_SCOPE_ROLES | COMPANY_SCOPE_ROLES
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


async def receivable_orders(
    *, session: AsyncSession, user: User, customer_id: int | None, owner_id: int | None
) -> list[ColumnElement[bool]]:
    """The orders in the user's scope, of a customer and of an owner when given, as
    conditions on orders."""
    conditions = [await receivables_scope(session=session, user=user)]
    if customer_id is not None:
        conditions.append(Order.customer_id == customer_id)
    if owner_id is not None:
        conditions.append(Order.owner_id == owner_id)
    return conditions


def is_open(installment: type[Installment]) -> list[ColumnElement[bool]]:
    """An installment with money still open. `settled == False` (not IS): it renders as the
    literal the installments' covering index starts with."""
    return [installment.settled == False, installment.amount > installment.paid]  # noqa: E712


def of_orders(
    installment: type[Installment], order_conditions: list[ColumnElement[bool]]
) -> list[ColumnElement[bool]]:
    """The installment belongs to an order meeting the conditions (none: any order). A
    subquery, not a join, so that the whole company's receivables read installments only;
    EXISTS, not IN: the open installments are few, while a manager's tree can have tens of
    thousands of orders for IN to list first in every query."""
    # true() is a singleton: the whole company's scope adds no condition.
    conditions = [c for c in order_conditions if c is not true()]
    if not conditions:
        return []
    return [exists().where(Order.id == installment.order_id, *conditions).correlate_except(Order)]


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
