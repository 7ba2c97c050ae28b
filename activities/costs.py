"""Activities of an order's actual costs and variance review, up to its closing."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.steps import StepRecorder, amount_text, insert_once
from activities.store import StepStore
from activities.variance import OPS_MANAGERS, ZERO, close_order, open_review, open_with_figures
from models.domain import (
    Assignee,
    CostStep,
    CostStepResult,
    Role,
    Stage,
    TodoKind,
)
from models.tables import ActualCost, CostBatch, Order
from workflows import rules

OPS = [Assignee(role=Role.ops)]
FINANCE = [Assignee(role=Role.finance)]


async def open_record_todo(
    rec: StepRecorder,
    order: Order,
    *,
    key: str,
    workflow_id: str,
    requested_by_id: int | None = None,
    comment: str | None = None,
) -> None:
    """Ops are asked to record the order's actual costs (they may do it in batches)."""
    await rec.open_todo(
        key=key,
        order=order,
        workflow_id=workflow_id,
        kind=TodoKind.record_actual_costs,
        assignees=OPS,
        due_in=None,
        requested_by_id=requested_by_id,
        facts={"comment": comment} if comment else None,
    )


class CostActivities:
    def __init__(self, store: StepStore) -> None:
        self.store = store

    @activity.defn
    async def record_actual_costs(self, step: CostStep) -> CostStepResult:
        """Ops record a batch of actual costs: finance get a to-do to approve it, and ops a new
        record_actual_costs to-do unless they said these were the last."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            assert step.todo_key is not None  # the batch is recorded on ops' to-do
            await rec.close_todo(
                step.todo_key, outcome="recorded", by_user_id=step.actor_id, comment=None
            )
            if step.items:
                total = sum((rules.money(i.amount) for i in step.items), ZERO)
                await self._add_batch(session, rec, order, step, total)
                await rec.add_event(
                    key=step.step_key, order=order, kind="actual_costs_recorded",
                    actor_id=step.actor_id, batch=step.batch, amount=amount_text(total),
                    items=len(step.items),
                )  # fmt: skip
                await rec.open_todo(
                    key=f"{step.workflow_id}/costs/{step.batch}/approve",
                    order=order,
                    workflow_id=step.workflow_id,
                    kind=TodoKind.approve_actual_costs,
                    assignees=FINANCE,
                    due_in=None,
                    requested_by_id=step.actor_id,
                    facts={
                        "batch": step.batch,
                        "total": str(total),
                        "items": [i.model_dump(mode="json") for i in step.items],
                        "final": step.final,
                    },
                )
            else:  # nothing more to record
                await rec.add_event(
                    key=step.step_key, order=order, kind="actual_costs_complete",
                    actor_id=step.actor_id,
                )  # fmt: skip
            if step.record_todo_key:
                await open_record_todo(
                    rec, order, key=step.record_todo_key, workflow_id=step.workflow_id
                )
            figures = await open_review(session, rec, order, step)
            await session.commit()
            return CostStepResult(opened=rec.opened, mail_ids=rec.mail_ids, figures=figures)

    async def _add_batch(
        self,
        session: AsyncSession,
        rec: StepRecorder,
        order: Order,
        step: CostStep,
        total: Decimal,
    ) -> None:
        await insert_once(
            session,
            CostBatch.__table__,
            {
                "order_id": order.id,
                "number": step.batch,
                "total": total,
                "final": step.final,
                "status": "pending",
                "recorded_by_id": step.actor_id,
                "recorded_at": rec.now,
            },
            unique=("order_id", "number"),
        )
        batch_id = await session.scalar(
            select(CostBatch.id).where(
                CostBatch.order_id == order.id, CostBatch.number == step.batch
            )
        )
        for position, item in enumerate(step.items, start=1):
            await insert_once(
                session,
                ActualCost.__table__,
                {
                    "batch_id": batch_id,
                    "order_id": order.id,
                    "position": position,
                    "category": item.category.value,
                    "amount": rules.money(item.amount),
                    "supplier_payment_reference": item.supplier_payment_reference.strip(),
                },
                unique=("batch_id", "position"),
            )

    @activity.defn
    async def decide_actual_costs(self, step: CostStep) -> CostStepResult:
        """Finance approve a batch (it counts in the order's actual cost) or reject it with a
        comment (ops are asked to record those costs again)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            approved = step.outcome == "approve"
            assert step.todo_key is not None  # finance decide on their to-do
            await rec.close_todo(
                step.todo_key, outcome=step.outcome, by_user_id=step.actor_id, comment=step.comment
            )
            batch = await session.scalar(
                select(CostBatch).where(
                    CostBatch.order_id == order.id, CostBatch.number == step.batch
                )
            )
            assert batch is not None  # record_actual_costs added it
            if batch.status == "pending":
                batch.status = "approved" if approved else "rejected"
                batch.decided_by_id = step.actor_id
                batch.decided_at = rec.now
                batch.comment = step.comment or None
                if approved:
                    order.actual_cost = (order.actual_cost or ZERO) + batch.total
                    order.updated_at = rec.now
            event = "actual_costs_approved" if approved else "actual_costs_rejected"
            await rec.add_event(
                key=step.step_key, order=order, kind=event, actor_id=step.actor_id,
                batch=step.batch, amount=amount_text(batch.total), comment=step.comment or None,
            )  # fmt: skip
            if not approved:
                recorder = [Assignee(user_id=batch.recorded_by_id)] if batch.recorded_by_id else []
                await rec.notify(
                    key=step.step_key,
                    users=await rec.people(recorder),
                    order=order,
                    event=event,
                    comment=step.comment,
                )
            if step.record_todo_key:
                await open_record_todo(
                    rec,
                    order,
                    key=step.record_todo_key,
                    workflow_id=step.workflow_id,
                    requested_by_id=step.actor_id,
                    comment=step.comment,
                )
            figures = await open_review(session, rec, order, step)
            await session.commit()
            return CostStepResult(opened=rec.opened, mail_ids=rec.mail_ids, figures=figures)

    @activity.defn
    async def begin_cost_review(self, step: CostStep) -> CostStepResult:
        """Fulfilment, acceptance and collection are done: the order is in cost review. The
        comparison opens now if the costs are complete; else when they are (ops are asked to
        record them if they never were)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            if order.stage not in (Stage.cost_review.value, Stage.closed.value):
                rec.set_stage(order, Stage.cost_review)
            await rec.add_event(
                key=step.step_key, order=order, kind="cost_review_started", actor_id=None
            )
            if step.record_todo_key:
                await open_record_todo(
                    rec, order, key=step.record_todo_key, workflow_id=step.workflow_id
                )
            figures = await open_review(session, rec, order, step)
            await session.commit()
            return CostStepResult(
                opened=rec.opened, mail_ids=rec.mail_ids, figures=figures, stage=Stage.cost_review
            )

    @activity.defn
    async def review_variance(self, step: CostStep) -> CostStepResult:
        """Ops reviewed the variance (with an explanation when it is above the threshold): the
        operations manager approves a large one; otherwise the order closes."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            assert step.todo_key is not None  # ops review on their to-do
            await rec.close_todo(
                step.todo_key, outcome="reviewed", by_user_id=step.actor_id,
                comment=step.explanation or None,
            )  # fmt: skip
            order.variance_explanation = step.explanation or None
            await rec.add_event(
                key=step.step_key, order=order, kind="variance_reviewed", actor_id=step.actor_id,
                comment=step.explanation or None,
            )  # fmt: skip
            if step.review_todo_key:  # above the threshold: the operations manager decides
                await open_with_figures(
                    session,
                    rec,
                    order,
                    step,
                    key=step.review_todo_key,
                    kind=TodoKind.approve_variance,
                    assignees=OPS_MANAGERS,
                    facts={"explanation": step.explanation},
                )
            if step.close:
                await close_order(session, rec, order, step)
            await session.commit()
            return CostStepResult(
                opened=rec.opened,
                mail_ids=rec.mail_ids,
                closed=step.close,
                stage=Stage(order.stage),
            )

    @activity.defn
    async def decide_variance(self, step: CostStep) -> CostStepResult:
        """The operations manager approves the variance (the order closes) or rejects it with a
        comment (ops review it again)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            approved = step.outcome == "approve"
            assert step.todo_key is not None  # the operations manager decides on their to-do
            await rec.close_todo(
                step.todo_key, outcome=step.outcome, by_user_id=step.actor_id, comment=step.comment
            )
            event = "variance_approved" if approved else "variance_rejected"
            await rec.add_event(
                key=step.step_key, order=order, kind=event, actor_id=step.actor_id,
                comment=step.comment or None,
            )  # fmt: skip
            figures = None
            if approved:
                await close_order(session, rec, order, step)
            else:  # ops review again (the step names their new to-do)
                figures = await open_review(session, rec, order, step)
            await session.commit()
            return CostStepResult(
                opened=rec.opened,
                mail_ids=rec.mail_ids,
                figures=figures,
                closed=approved,
                stage=Stage(order.stage),
            )
