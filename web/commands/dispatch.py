"""The warehouse's dispatch as a person sends it (the confirm_dispatch to-do, from its page, the
queue or the API): all that remains of the round, or some lines and quantities now and the rest
in a later round, on the day it happened."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import DispatchConfirmation, Role, TodoKind, TodoStatus
from models.domain.dispatch import DISPATCH_BEFORE_CONFIRMATION, quantities_refusal
from models.queries.fulfilment import (
    PackingList,
    dispatch_round,
    packing_list,
    remaining_in_round,
)
from models.tables import Order, Todo, User
from web.commands.actions import Refused
from web.commands.completion import Completing


def dispatch_of(c: Completing) -> DispatchConfirmation:
    """The update's input; without a date, the workflow takes the day it arrives."""
    return DispatchConfirmation(
        todo_key=c.todo.key,
        actor=c.actor,
        carrier=c.given.carrier.strip(),
        tracking_number=c.given.tracking_number.strip(),
        dispatched_on=c.given.dispatched_on,
        lines=c.given.dispatch_lines,
    )


async def dispatch_state(
    session: AsyncSession, order: Order, dispatch: DispatchConfirmation
) -> Refused | None:
    """What the order's records say against it: a date before the order was confirmed, a line
    that is not the order's, more of a line than remains in the to-do's round. Whether the
    date is in the future is the workflow's to say, on the engine's clock."""
    confirmed_on = order.confirmed_at.date() if order.confirmed_at else None
    if dispatch.dispatched_on and confirmed_on and dispatch.dispatched_on < confirmed_on:
        return Refused(422, DISPATCH_BEFORE_CONFIRMATION, confirmed_on=confirmed_on.isoformat())
    if dispatch.lines is None:
        return None
    remaining = await remaining_in_round(
        session=session, order=order, round_=dispatch_round(dispatch.todo_key)
    )
    refusal = quantities_refusal({ln.line_id: ln.quantity for ln in dispatch.lines}, remaining)
    return None if refusal is None else Refused.of(422, refusal)


# Who prints a packing list: those who ship, and the order's owner (the order must be in their
# scope first: anyone else gets 404 for it).
PACKING_ROLES = frozenset({Role.warehouse, Role.ops, Role.ops_manager, Role.director, Role.admin})
NOT_FOR_PACKING = "The packing list is for the warehouse, operations and the order's owner."
NOTHING_TO_PACK = "There is no dispatch to pack for this order yet."


async def packing_list_of(
    *, session: AsyncSession, user: User, order: Order, round_: int | None = None
) -> PackingList:
    """A dispatch round's packing list (by default the round waiting for the warehouse, else
    the last one dispatched): 403 for a role that does not ship, unless it is the owner's
    order; 404 when there is nothing to pack."""
    if Role(user.role) not in PACKING_ROLES and order.owner_id != user.id:
        raise Refused(403, NOT_FOR_PACKING)
    found = await packing_list(session=session, order=order, round_=round_)
    if found is None:
        raise Refused(404, NOTHING_TO_PACK)
    return found


async def packing_for_todo(
    *, session: AsyncSession, todo: Todo, order: Order
) -> PackingList | None:
    """An open confirm_dispatch to-do's round, what remains of each line in it (its page's
    form); None for any other to-do."""
    if todo.kind != TodoKind.confirm_dispatch.value or todo.status != TodoStatus.open.value:
        return None
    return await packing_list(session=session, order=order, round_=dispatch_round(todo.key))
