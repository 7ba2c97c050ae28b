"""Who approves a confirmed order's cancellation after the owner's department manager: the
director, when the approval policy asks for it above an amount."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from models.domain import Assignee, Role


def needs_director(total: Decimal, above: Decimal | None) -> bool:
    """The policy's amount is set and the order's total is above it."""
    return above is not None and total > above


def director_step(
    directors: Collection[int], *, owner_id: int, requester_id: int, manager_id: int | None
) -> list[Assignee]:
    """Who decides the director's step, given the active directors' ids and the manager who
    decides the first step. Empty when no step is needed or nobody can take it:

    - the manager's step already lands on a director: their approval is the director's;
    - nobody approves their own cancellation nor their own order: a director who asked (or
      owns the order) is routed around, to the other directors by name; with no other
      director, the manager's approval stands alone (the director asked for it);
    - otherwise the role decides: every active director sees the to-do."""
    if not directors or manager_id in directors:
        return []
    avoided = {owner_id, requester_id}
    if not avoided & set(directors):
        return [Assignee(role=Role.director)]
    return [Assignee(user_id=d) for d in sorted(directors) if d not in avoided]
