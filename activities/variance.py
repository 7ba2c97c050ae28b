"""Expected against actual costs: the figures, the to-dos showing them, the closing."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activities.steps import StepRecorder, insert_once
from models.domain import (
    Assignee,
    CostCategory,
    CostStep,
    Role,
    Stage,
    TodoKind,
    VarianceFigures,
)
from models.policy import current_variance_policy
from models.reports.net_revenue import NetRevenue, net_revenue_of
from models.tables import ActualCost, CostBatch, Order, OrderCostVariance
from workflows import rules

# Who reviews the variance (an operations manager may do it too, then another one approves).
REVIEWERS = [Assignee(role=Role.ops), Assignee(role=Role.ops_manager)]
OPS_MANAGERS = [Assignee(role=Role.ops_manager)]
ZERO = Decimal("0.00")


async def open_review(
    session: AsyncSession,
    rec: StepRecorder,
    order: Order,
    step: CostStep,
) -> VarianceFigures | None:
    """Open the review_variance to-do when the workflow says the order is ready for it,
    with the figures (per category, expected against the approved actual costs)."""
    if not step.review_todo_key:
        return None
    return await open_with_figures(
        session,
        rec,
        order,
        step,
        key=step.review_todo_key,
        kind=TodoKind.review_variance,
        assignees=REVIEWERS,
        facts={"comment": step.comment} if step.comment else {},
    )


async def open_with_figures(
    session: AsyncSession,
    rec: StepRecorder,
    order: Order,
    step: CostStep,
    *,
    key: str,
    kind: TodoKind,
    assignees: list[Assignee],
    facts: dict[str, Any],
) -> VarianceFigures:
    """Open the step's review or approval to-do with the figures among its facts, and the net
    revenue the actual margin is on (the total less what came back and other credit notes)."""
    figures = await variance_figures(session, order)
    revenue = await net_revenue_of(session=session, order=order)
    await rec.open_todo(
        key=key,
        order=order,
        workflow_id=step.workflow_id,
        kind=kind,
        assignees=assignees,
        due_in=None,
        requested_by_id=step.actor_id,
        facts={**_figure_facts(figures), **_revenue_facts(revenue, figures), **facts},
    )
    return figures


async def variance_figures(session: AsyncSession, order: Order) -> VarianceFigures:
    actual: dict[CostCategory, Decimal] = defaultdict(lambda: ZERO)
    rows = await session.execute(
        select(ActualCost.category, ActualCost.amount)
        .join(CostBatch, CostBatch.id == ActualCost.batch_id)
        .where(ActualCost.order_id == order.id, CostBatch.status == "approved")
    )
    for category, amount in rows:
        actual[CostCategory(category)] += amount
    expected = rules.expected_by_category(
        expected_cost=order.expected_cost or ZERO,
        freight=order.freight_cost,
        installation=order.installation_cost,
        other=order.other_cost,
    )
    policy = await current_variance_policy(session=session)
    return rules.variance(expected, actual, policy)


async def close_order(
    session: AsyncSession,
    rec: StepRecorder,
    order: Order,
    step: CostStep,
) -> None:
    """The order closes with its final figures; its owner is told."""
    figures = await variance_figures(session, order)
    if order.stage != Stage.closed.value:
        rec.set_stage(order, Stage.closed)
        order.closed_at = rec.now
    order.actual_cost = figures.actual
    order.variance = figures.difference
    order.variance_percent = figures.percent
    for category in figures.categories:
        await insert_once(
            session,
            OrderCostVariance.__table__,
            {
                "order_id": order.id,
                "category": category.category.value,
                "expected": category.expected,
                "actual": category.actual,
                "difference": category.difference,
            },
            unique=("order_id", "category"),
        )
    key = f"{step.workflow_id}/closed"
    await rec.add_event(key=key, order=order, kind="closed", actor_id=step.actor_id)
    # Sales reps do not see costs: the mail says the order closed, not its figures.
    await rec.notify(key=key, users=[order.owner], order=order, event="closed")


def _revenue_facts(revenue: NetRevenue, figures: VarianceFigures) -> dict[str, Any]:
    """The order's net revenue and the actual margin on it, as a to-do's facts."""
    return {
        "order_total": str(revenue.total),
        "returned": str(revenue.returned),
        "credited_otherwise": str(revenue.credited_otherwise),
        "revenue": str(revenue.revenue),
        "actual_margin": str(revenue.revenue - figures.actual),
    }


def _figure_facts(figures: VarianceFigures) -> dict[str, Any]:
    """The figures as a to-do's facts (what the inbox and the to-do page show)."""
    return {
        "expected": str(figures.expected),
        "actual": str(figures.actual),
        "difference": str(figures.difference),
        "percent": None if figures.percent is None else str(figures.percent),
        "above_threshold": figures.above_threshold,
        "threshold": rules.describe_threshold(figures.policy),
        # ... and as numbers, for the page to say it in the reader's language
        "threshold_percent": f"{figures.policy.threshold_percent.normalize():f}",
        "threshold_amount": (
            None
            if figures.policy.threshold_amount is None
            else str(figures.policy.threshold_amount)
        ),
        "categories": [c.model_dump(mode="json") for c in figures.categories],
    }
