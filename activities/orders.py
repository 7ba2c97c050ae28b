"""Activities that keep an order's business record current, one transaction per step."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from activities.facts import order_facts
from activities.rounds import confirm, mark_unroutable, open_round
from activities.store import StepStore
from models.domain import (
    ApprovalPolicy,
    Assignee,
    ConfirmOrder,
    CostEstimate,
    CostingStarted,
    LineCost,
    OrderFacts,
    PrepareRerouting,
    RecordEstimate,
    RecordUnroutable,
    Resubmit,
    Resubmitted,
    Role,
    RoundFacts,
    Stage,
    StartCosting,
    StepResult,
    TodoKind,
    Withdraw,
)
from models.policy import current_policy
from models.tables import Order
from workflows import rules

ESTIMATE_SLA = timedelta(days=1)


class OrderActivities:
    """From submission to confirmation: costing, the approval rounds' bookkeeping, revision."""

    def __init__(self, store: StepStore, *, hold_dispatch_for_deposit: bool = False) -> None:
        self.store = store
        self.hold_dispatch_for_deposit = hold_dispatch_for_deposit

    async def _facts(
        self, session: AsyncSession, order: Order, policy: ApprovalPolicy
    ) -> OrderFacts:
        return await order_facts(
            session, order, policy, hold_dispatch_for_deposit=self.hold_dispatch_for_deposit
        )

    @activity.defn
    async def start_costing(self, step: StartCosting) -> CostingStarted:
        """The order is submitted: it leaves the owner's hands and pricing is asked to estimate."""
        async with self.store.step() as session:
            order = await self.store.order(session, number=step.order_number)
            rec = self.store.recorder(session)
            if order.stage == Stage.draft.value:
                rec.set_stage(order, Stage.costing)
                order.submitted_at = order.submitted_at or rec.now
            await rec.add_event(
                key=f"{step.workflow_id}/submitted",
                order=order,
                kind="submitted",
                actor_id=step.submitted_by,
            )
            await rec.open_todo(
                key=step.todo_key,
                order=order,
                workflow_id=step.workflow_id,
                kind=TodoKind.estimate_cost,
                assignees=[Assignee(role=Role.pricing)],
                due_in=ESTIMATE_SLA,
                requested_by_id=step.submitted_by,
            )
            policy = await current_policy(session=session)
            facts = await self._facts(session, order, policy)
            await session.commit()
            return CostingStarted(
                facts=facts,
                policy=policy,
                round_number=1,
                opened=rec.opened,
                mail_ids=rec.mail_ids,
                stage=Stage(order.stage),
            )

    @activity.defn
    async def record_estimate(self, step: RecordEstimate) -> RoundFacts:
        """Pricing's estimate becomes the order's cost baseline and approval begins, routed by
        the policy in force on the facts as they are now."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
            unit_costs = {line.line_id: line.unit_cost for line in step.estimate.lines}
            for line in order.lines:
                line.unit_cost = unit_costs[line.id]
            order.freight_cost = step.estimate.freight
            order.installation_cost = step.estimate.installation
            order.other_cost = step.estimate.other
            order.expected_cost = step.expected_cost
            order.expected_margin = step.expected_margin
            await rec.close_todo(step.todo_key, outcome="estimated", by_user_id=step.actor_id)
            rec.set_stage(order, Stage.approval)
            await rec.add_event(
                key=f"{step.todo_key}/done",
                order=order,
                kind="estimated",
                actor_id=step.actor_id,
                expected_cost=step.expected_cost,
                expected_margin=step.expected_margin,
            )
            policy = await current_policy(session=session)
            facts = await self._facts(session, order, policy)
            routed = RoundFacts(facts=facts, policy=policy, stage=Stage.approval)
            if step.open_round is not None:
                await open_round(rec, order, routed, step.open_round)
            await session.commit()
            routed.mail_ids = rec.mail_ids
            routed.stage = Stage(order.stage)
            return routed

    @activity.defn
    async def resubmit(self, step: Resubmit) -> Resubmitted:
        """The owner resubmits a revised order: pricing again if what is sold changed, else
        straight to a new approval round on the kept estimate."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
            await rec.close_todo(step.todo_key, outcome="resubmit", by_user_id=step.actor_id)
            await rec.add_event(
                key=f"{step.todo_key}/done",
                order=order,
                kind="resubmitted",
                actor_id=step.actor_id,
            )
            policy = await current_policy(session=session)
            facts = await self._facts(session, order, policy)
            needs_estimate = rules.needs_new_estimate(facts)
            if needs_estimate:
                rec.set_stage(order, Stage.costing)
                await rec.open_todo(
                    key=step.estimate_todo_key,
                    order=order,
                    workflow_id=step.workflow_id,
                    kind=TodoKind.estimate_cost,
                    assignees=[Assignee(role=Role.pricing)],
                    due_in=ESTIMATE_SLA,
                    requested_by_id=step.actor_id,
                )
            else:
                figures = rules.expected_cost(facts, _kept_estimate(order))
                order.expected_cost = figures.expected_cost
                order.expected_margin = figures.expected_margin
                rec.set_stage(order, Stage.approval)
                await session.flush()
                facts = await self._facts(session, order, policy)
            await session.commit()
            return Resubmitted(
                policy=policy,
                facts=facts,
                needs_estimate=needs_estimate,
                round_number=0,
                opened=rec.opened,
                mail_ids=rec.mail_ids,
                stage=Stage(order.stage),
            )

    @activity.defn
    async def withdraw(self, step: Withdraw) -> StepResult:
        """The owner gives up a rejected order instead of revising it."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await rec.close_todo(
                step.todo_key, outcome="withdraw", by_user_id=step.actor_id, comment=step.comment
            )
            rec.set_stage(order, Stage.cancelled)
            await rec.add_event(
                key=f"{step.todo_key}/done",
                order=order,
                kind="withdrawn",
                actor_id=step.actor_id,
                comment=step.comment or None,
            )
            await session.commit()
            return StepResult(stage=Stage.cancelled)

    @activity.defn
    async def confirm_order(self, step: ConfirmOrder) -> StepResult:
        """Every approval is in: the order is confirmed and its owner told."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await confirm(rec, order, step)
            await session.commit()
            return StepResult(stage=Stage.confirmed, mail_ids=rec.mail_ids)

    @activity.defn
    async def record_unroutable(self, step: RecordUnroutable) -> StepResult:
        """Nobody can decide the approval: the order goes on the admin's unroutable list with
        the reason, its timeline says so, and the administrators are told."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await mark_unroutable(rec, order, step.step_key, step.reason)
            await session.commit()
            return StepResult(mail_ids=rec.mail_ids)

    @activity.defn
    async def prepare_rerouting(self, step: PrepareRerouting) -> RoundFacts:
        """Admin routes the order again: it leaves the unroutable list (it comes back with the
        new reason if routing fails again) and the facts and policy in force are loaded."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
            order.unroutable_reason = None
            order.unroutable_at = None
            await rec.add_event(
                key=step.step_key, order=order, kind="routed_again", actor_id=step.actor_id
            )
            policy = await current_policy(session=session)
            facts = await self._facts(session, order, policy)
            await session.commit()
            return RoundFacts(facts=facts, policy=policy)


def _kept_estimate(order: Order) -> CostEstimate:
    """The estimate already on the order, for a revision that changed no product or quantity."""
    return CostEstimate(
        lines=[LineCost(line_id=ln.id, unit_cost=ln.unit_cost) for ln in order.lines],
        freight=order.freight_cost or 0,
        installation=order.installation_cost or 0,
        other=order.other_cost or 0,
    )
