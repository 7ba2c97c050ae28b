"""Costs: an order's cost batches and what a cost to-do shows to those who see costs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    select,
)

from models.domain import (
    TodoKind,
)
from models.queries.orders import ORDER_ID
from models.tables import (
    CostBatch,
)

# Built once, like the order's other rows (models.queries.orders).
COST_BATCHES = select(CostBatch).where(CostBatch.order_id == ORDER_ID).order_by(CostBatch.number)


COST_TODO_KINDS = frozenset(
    {
        TodoKind.record_actual_costs.value,
        TodoKind.approve_actual_costs.value,
        TodoKind.review_variance.value,
        TodoKind.approve_variance.value,
    }
)


def cost_facts(
    kind: str, stored: dict[str, Any] | None, *, sees_costs: bool
) -> dict[str, Any] | None:
    """A cost to-do's stored figures (a change request's estimate: the lines as changed, with
    their standard and kept unit costs), for those who see costs; None otherwise."""
    if not stored or not sees_costs:
        return None
    if kind in COST_TODO_KINDS or change_request_of(kind, stored) is not None:
        return stored
    return None


def change_request_of(kind: str, stored: dict[str, Any] | None) -> int | None:
    """The change request an estimate_cost to-do prices (None: the order's own estimate)."""
    if kind != TodoKind.estimate_cost.value or not stored:
        return None
    number = stored.get("change_request")
    return number if isinstance(number, int) else None
