"""What people do to an order's actual costs and its cost variance, shared by the JSON API and
the pages: ops record cost batches, finance approve them, ops review the variance and the
operations manager approves a large one. Each checks role and fields first, then hands the
change to the order's workflow, whose validator checks again against its own state."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from models.domain import CostCategory, Role, Stage, TodoDone, TodoKind, TodoStatus
from models.queries import COST_BATCHES, of_order
from models.reports.net_revenue import NetRevenue
from models.tables import CostBatch, Order, OrderCostVariance, Todo, User
from web.commands.actions import Refused, action_id, redelivered
from web.commands.completion import CostItemIn, TodoCompletion
from web.commands.todos import complete_todo
from web.temporal import workflow_id

# Who records actual costs (finance approve them), and who may see an order's costs.
RECORDING_ROLES = frozenset({Role.ops})
FIRST_PAYMENT = "Actual costs are recorded once the order's first payment is confirmed."


class CostsForm(BaseModel):
    """The body of POST /api/v1/orders/{number}/actual-costs: a batch of actual costs, and
    whether they are the last."""

    items: list[CostItemIn] = Field(default_factory=list)
    final: bool = False


async def record_todo_of(*, session: AsyncSession, order: Order) -> Todo | None:
    """The order's open record_actual_costs to-do, if ops are being asked for costs."""
    return await session.scalar(
        select(Todo).where(
            Todo.order_id == order.id,
            Todo.kind == TodoKind.record_actual_costs.value,
            Todo.status == TodoStatus.open.value,
        )
    )


async def record_costs(
    *,
    session: AsyncSession,
    user: User,
    order: Order,
    form: CostsForm,
    client: Client,
    idempotency_key: str | None = None,
) -> TodoDone:
    """Ops record a batch of actual costs against the order (its open record_actual_costs
    to-do): finance get a to-do to approve it. The update's id is derived from the batch (and
    the client's idempotency key), not from the to-do, which the first delivery closed: the
    same batch sent again after a lost answer is answered as before, never recorded twice."""
    role = Role(user.role)
    if role == Role.finance:
        raise Refused(403, "Operations record the actual costs; finance approve them.")
    if role not in RECORDING_ROLES:
        raise Refused(403, "Only business operations record actual costs.")
    # A batch finance rejected sets its references free: the same batch recorded again after
    # that is a new action.
    rejected = await session.scalar(
        select(func.count()).where(CostBatch.order_id == order.id, CostBatch.status == "rejected")
    )
    action = action_id(
        f"costs/{order.number}", user.id, form.model_dump(mode="json"), idempotency_key, rejected
    )
    todo = await record_todo_of(session=session, order=order)
    if todo is None:
        return await redelivered(client, workflow_id(order.number), action, _no_record_todo(order))
    return await complete_todo(
        session=session,
        user=user,
        todo=todo,
        completion=TodoCompletion(outcome="recorded", items=form.items, final=form.final),
        client=client,
        action=action,
    )


def _no_record_todo(order: Order) -> Refused:
    if order.stage in (Stage.cost_review.value, Stage.closed.value):
        return Refused(
            409,
            "The cost comparison of order %(number)s has begun: no more costs can be recorded.",
            number=order.number,
        )
    if not order.paid:
        return Refused(409, FIRST_PAYMENT)
    return Refused(
        409,
        "Operations said every actual cost of order %(number)s is recorded.",
        number=order.number,
    )


# -- what the order page and the API show -----------------------------------------------------


@dataclass(frozen=True)
class FinalFigures:
    """A closed order's figures: revenue, expected and actual cost and margin, variance. The
    revenue is net (the total less what came back and the credit notes for anything else)
    and the actual margin is on it; the expected margin is the estimate's, on the total as
    sold."""

    revenue: Decimal
    expected_cost: Decimal
    expected_margin: Decimal
    actual_cost: Decimal
    actual_margin: Decimal
    variance: Decimal
    variance_percent: Decimal | None
    explanation: str | None


def final_figures(order: Order, revenue: NetRevenue | None = None) -> FinalFigures | None:
    """The closed order's figures on its net revenue (without it: the total less what came
    back)."""
    if order.closed_at is None or order.actual_cost is None:
        return None
    expected = order.expected_cost or Decimal("0.00")
    net = revenue.revenue if revenue is not None else order.net_total
    return FinalFigures(
        revenue=net,
        expected_cost=expected,
        expected_margin=order.total - expected,
        actual_cost=order.actual_cost,
        actual_margin=net - order.actual_cost,
        variance=order.variance if order.variance is not None else order.actual_cost - expected,
        variance_percent=order.variance_percent,
        explanation=order.variance_explanation,
    )


async def cost_batches(*, session: AsyncSession, order: Order) -> list[CostBatch]:
    return list(await session.scalars(COST_BATCHES, of_order(order)))


async def category_variances(*, session: AsyncSession, order: Order) -> list[OrderCostVariance]:
    rows = await session.scalars(
        select(OrderCostVariance).where(OrderCostVariance.order_id == order.id)
    )
    position = {c.value: i for i, c in enumerate(CostCategory)}
    return sorted(rows, key=lambda row: position.get(row.category, len(position)))
