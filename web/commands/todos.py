"""Completing a to-do, whatever its kind: check the person may, build the update's input as the
kind's declaration says, and send it to the workflow that opened the to-do."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from models.domain import OWN_ORDER, TODO_NOT_YOURS, Actor, TodoDone, TodoKind, TodoStatus
from models.queries import actor_for, get_todo, is_assignee, order_scope
from models.tables import Order, Todo, User
from web.commands.actions import TODO_GONE, Refused, action_id, send_action
from web.commands.completion import Completing, TodoCompletion
from web.commands.todo_kinds import CLOSES_BY_ITSELF, TODO_KINDS, TodoKindDeclaration


async def visible_todo(*, session: AsyncSession, user: User, todo_id: int) -> Todo:
    """The to-do, if its order is within the user's scope or the user is an assignee."""
    todo = await get_todo(session=session, todo_id=todo_id)
    if todo is None:
        raise Refused(404, "There is no such to-do.")
    actor = await actor_for(session=session, user=user)
    if is_assignee(todo, actor):
        return todo
    scope = await order_scope(session=session, user=user)
    if await session.scalar(select(Order.id).where(Order.id == todo.order_id, scope)) is None:
        raise Refused(404, "There is no such to-do.")
    return todo


async def requested_by(*, session: AsyncSession, todo: Todo) -> str | None:
    """Who asked for the to-do (the owner who registered a payment, whoever applied for an
    invoice), by name."""
    if todo.requested_by_id is None:
        return None
    asker = await session.get(User, todo.requested_by_id)
    return asker.full_name if asker else None


def declaration_of(todo: Todo) -> TodoKindDeclaration[Any]:
    kind = TodoKind(todo.kind)
    if kind in CLOSES_BY_ITSELF:
        raise Refused(409, "This to-do closes by itself once the installment is paid.")
    return TODO_KINDS[kind]


async def complete_todo(
    *,
    session: AsyncSession,
    user: User,
    todo: Todo,
    completion: TodoCompletion,
    client: Client,
    action: str | None = None,
) -> TodoDone:
    """Check the person may complete this to-do this way, then send the workflow's update; the
    workflow's validator checks again against its own state.

    The update's id is derived from the action (the to-do, the person and what they sent, or
    `action` when the caller names it), so the same action sent again is the same update to
    the engine. A check against the database that refuses it (the to-do is closed, the invoice
    number is taken) may be looking at this very action's own effect: the engine is asked
    first, and an action it already took answers with its result."""
    gone = todo.status != TodoStatus.open.value
    actor = await actor_for(session=session, user=user)
    if not gone and not is_assignee(todo, actor):
        raise Refused(403, TODO_NOT_YOURS)
    order = await session.get(Order, todo.order_id)
    assert order is not None  # a to-do's order is never deleted
    try:
        declared = declaration_of(todo)
        argument = declared.argument_for(Completing(todo, order, actor, completion))
    except Refused:
        if gone:
            raise Refused(409, TODO_GONE) from None
        raise
    refusal = Refused(409, TODO_GONE) if gone else None
    if refusal is None:
        refusal = await state_refusal(session, declared, argument, order=order, actor=actor)
    return await send_action(
        client,
        todo.workflow_id,
        declared.update,
        argument,
        update_id=action or action_id(f"todo/{todo.id}", user.id, argument),
        gone=Refused(409, TODO_GONE),
        refusal=refusal,
    )


async def state_refusal(
    session: AsyncSession,
    declared: TodoKindDeclaration[Any],
    argument: Any,
    *,
    order: Order,
    actor: Actor,
) -> Refused | None:
    """What the database says against completing the to-do this way, if anything."""
    if declared.not_by_owner and order.owner_id == actor.user_id:
        return Refused(403, OWN_ORDER)
    if declared.state is not None and (refused := await declared.state(session, argument)):
        return refused
    if declared.order_state is not None:
        return await declared.order_state(session, order, argument)
    return None
