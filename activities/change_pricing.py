"""Activities of a change request's pricing: a change of products or quantities asks pricing for
an estimate of the order as the change makes it, before the change's approval round."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from temporalio import activity

from activities.change_terms import ChangedOrder, changed_order
from activities.orders import ESTIMATE_SLA
from activities.steps import StepRecorder
from activities.store import StepStore
from models.domain import Assignee, Refusal, Role, TodoKind, TodoStatus
from models.domain.changes import (
    ChangeRequest,
    ChangeStepResult,
    OpenChangeEstimate,
    RecordChangeEstimate,
)
from models.tables import Order, OrderChangeRequest, Todo


def change_estimate_key(order_workflow_id: str, number: int) -> str:
    """The pricing to-do of change request `number` (as the order's workflow names it)."""
    return f"{order_workflow_id}/change/{number}/estimate"


def estimate_facts(order: Order, number: int, changed: ChangedOrder) -> dict[str, Any]:
    """What the pricing to-do shows and checks: the change's number and the order's lines as
    the change makes them (a new line by -1, -2, ...), each with its standard cost and, where
    its product and quantity stay, the unit cost already estimated; the other costs as they
    stand."""
    return {
        "change_request": number,
        "total": str(changed.after.total),
        "lines": [
            {
                "line_id": line.facts_id,
                "product_code": line.product.code,
                "product_name": line.product.name,
                "quantity": str(line.quantity),
                "standard_cost": str(line.product.standard_cost),
                "unit_cost": (
                    str(line.line.unit_cost)
                    if line.line is not None and line.same_goods and line.line.unit_cost is not None
                    else None
                ),
                "changed": not line.same_goods,
            }
            for line in changed.lines
        ],
        "freight": str(order.freight_cost or Decimal("0")),
        "installation": str(order.installation_cost or Decimal("0")),
        "other": str(order.other_cost or Decimal("0")),
    }


async def cancel_change_estimate(rec: StepRecorder, order_workflow_id: str, number: int) -> None:
    """The change is closed: its pricing to-do, if still open, is cancelled."""
    key = change_estimate_key(order_workflow_id, number)
    todo = await rec.session.scalar(select(Todo).where(Todo.key == key))
    if todo is not None and todo.status == TodoStatus.open.value:
        await rec.cancel_todos([todo])


class ChangePricingActivities:
    """A change request's estimate: asked of pricing, and recorded once they give it."""

    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def open_change_estimate(self, step: OpenChangeEstimate) -> ChangeStepResult:
        """Pricing get an estimate_cost to-do for the order as change request `number` makes
        it (once per key). A change that no longer computes comes back as the problem."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
            request = await session.scalar(
                select(OrderChangeRequest).where(
                    OrderChangeRequest.order_id == order.id,
                    OrderChangeRequest.number == step.number,
                )
            )
            assert request is not None  # recorded by the step before, in the same update
            change = ChangeRequest.model_validate(request.body)
            try:
                changed = await changed_order(session, order, change, today=rec.now.date())
            except Refusal as wrong:
                return ChangeStepResult.refusing(wrong)
            await rec.open_todo(
                key=step.todo_key,
                order=order,
                workflow_id=step.workflow_id,
                kind=TodoKind.estimate_cost,
                assignees=[Assignee(role=Role.pricing)],
                due_in=ESTIMATE_SLA,
                requested_by_id=step.requested_by_id,
                facts=estimate_facts(order, step.number, changed),
            )
            await session.commit()
            return ChangeStepResult(opened=rec.opened, mail_ids=rec.mail_ids)

    @activity.defn
    async def record_change_estimate(self, step: RecordChangeEstimate) -> ChangeStepResult:
        """Pricing estimated the change: their to-do is done and the timeline shows the
        expected cost and margin it gives (to those who see costs)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await rec.close_todo(step.todo_key, outcome="estimated", by_user_id=step.actor_id)
            await rec.add_event(
                key=f"{step.todo_key}/done",
                order=order,
                kind="change_estimated",
                actor_id=step.actor_id,
                number=step.number,
                expected_cost=step.expected_cost,
                expected_margin=step.expected_margin,
            )
            await session.commit()
            return ChangeStepResult(mail_ids=rec.mail_ids)
