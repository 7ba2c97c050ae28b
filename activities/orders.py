"""Activities that keep an order's business record current, one transaction per step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.rounds import open_approval_stage
from activities.steps import Clock, StepRecorder
from models.db import SessionFactory
from models.domain import (
    ApprovalPolicy,
    Assignee,
    ConfirmOrder,
    CostEstimate,
    CostingStarted,
    DepartmentLink,
    LineCost,
    LineFacts,
    OpenRound,
    OpenStage,
    OrderFacts,
    PaymentTrigger,
    PrepareRerouting,
    RecordEstimate,
    RecordUnroutable,
    Resubmit,
    Resubmitted,
    Role,
    RoundFacts,
    ShippingMode,
    Stage,
    StartCosting,
    StepResult,
    TodoKind,
    Withdraw,
)
from models.links import DecisionLinks
from models.policy import current_collection_policy, current_policy
from models.tables import Department, Order, OrderLine, PaymentPlanItem, User
from workflows import rules

ESTIMATE_SLA = timedelta(days=1)
# Orders whose value the customer owes or will owe: confirmed and not yet closed. (Payments
# received will come off once collection records them.)
EXPOSED_STAGES = [
    Stage.confirmed.value,
    Stage.fulfilment.value,
    Stage.acceptance.value,
    Stage.collection.value,
    Stage.cost_review.value,
]
REVISE_SLA = timedelta(days=3)


def utc_now() -> datetime:
    return datetime.now(UTC)


# An order by id or number, with or without its lines: built once (steps run many a second).
_ORDER_QUERIES = {
    (with_lines, by_id): (
        select(Order).options(selectinload(Order.lines).selectinload(OrderLine.product))
        if with_lines
        else select(Order)
    ).where((Order.id if by_id else Order.number) == bindparam("key"))
    for with_lines in (True, False)
    for by_id in (True, False)
}


class OrderActivities:
    def __init__(
        self,
        session_factory: SessionFactory,
        *,
        base_url: str,
        currency: str = "CNY",
        deliver_mail: bool = False,
        clock: Clock = utc_now,
        links: DecisionLinks | None = None,
        write_lock: asyncio.Lock | None = None,
        hold_dispatch_for_deposit: bool = False,
    ) -> None:
        self.hold_dispatch_for_deposit = hold_dispatch_for_deposit
        self.session_factory = session_factory
        self.links = links
        # SQLite has one writer at a time: steps of this process take turns here rather than
        # in SQLite's busy handler, which sleeps in growing steps of up to 100 ms.
        self.write_lock = write_lock
        self.deliver_mail = deliver_mail
        self.base_url = base_url
        self.currency = currency
        self.clock = clock

    @asynccontextmanager
    async def _step(self) -> AsyncIterator[AsyncSession]:
        """The session of one step (one transaction), taking its turn to write."""
        if self.write_lock is None:
            async with self.session_factory() as session:
                yield session
            return
        async with self.write_lock, self.session_factory() as session:
            yield session

    def _recorder(self, session: AsyncSession) -> StepRecorder:
        return StepRecorder(
            session,
            now=self.clock(),
            base_url=self.base_url,
            currency=self.currency,
            deliver_mail=self.deliver_mail,
            links=self.links,
        )

    async def _order(
        self,
        session: AsyncSession,
        *,
        order_id: int | None = None,
        number: str | None = None,
        with_lines: bool = True,
    ) -> Order:
        """The order with its customer and owner; its lines and products only when the step
        works on them (most steps don't, and loading them is most of a step's cost)."""
        query = _ORDER_QUERIES[with_lines, order_id is not None]
        order = await session.scalar(query, {"key": order_id or number})
        if order is None:
            raise ApplicationError(f"No order {number or order_id}", non_retryable=True)
        return order

    @activity.defn
    async def start_costing(self, step: StartCosting) -> CostingStarted:
        """The order is submitted: it leaves the owner's hands and pricing is asked to estimate."""
        async with self._step() as session:
            order = await self._order(session, number=step.order_number)
            rec = self._recorder(session)
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
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id)
            rec = self._recorder(session)
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
                await self._open_round(rec, order, routed, step.open_round)
            await session.commit()
            routed.mail_ids = rec.mail_ids
            routed.stage = Stage(order.stage)
            return routed

    async def _open_round(
        self, rec: StepRecorder, order: Order, routed: RoundFacts, round_: OpenRound
    ) -> None:
        """Route the round on the facts just loaded and open its first stage, in the step's
        own transaction; or, when no one can decide it, put the order on the unroutable list."""
        policy, facts = routed.policy, routed.facts
        assert policy is not None and facts is not None  # record_estimate loaded both
        try:
            routed.route = rules.approval_route(policy, facts)
        except rules.UnroutableError as unroutable:
            routed.unroutable = str(unroutable)
            await self._mark_unroutable(rec, order, round_.unroutable_key, routed.unroutable)
            return
        if not routed.route:
            return
        await open_approval_stage(
            rec,
            order,
            OpenStage(
                order_id=order.id,
                workflow_id=round_.workflow_id,
                order_workflow_id=round_.order_workflow_id,
                round_number=round_.round_number,
                policy_version=policy.version,
                stage=routed.route[0],
                facts=rules.decision_facts(facts),
            ),
        )
        # The round's to-dos belong to the round's workflow, not to the order's.
        routed.round_opened, rec.opened = rec.opened, []

    @activity.defn
    async def resubmit(self, step: Resubmit) -> Resubmitted:
        """The owner resubmits a revised order: pricing again if what is sold changed, else
        straight to a new approval round on the kept estimate."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id)
            rec = self._recorder(session)
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
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
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
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            await self._confirm(rec, order, step)
            await session.commit()
            return StepResult(stage=Stage.confirmed, mail_ids=rec.mail_ids)

    async def _confirm(self, rec: StepRecorder, order: Order, step: ConfirmOrder) -> None:
        """The order is confirmed; its owner and the people the policy names are told."""
        if order.stage != Stage.confirmed.value:
            rec.set_stage(order, Stage.confirmed)
            order.confirmed_at = rec.now
        await rec.add_event(key=step.step_key, order=order, kind="confirmed", actor_id=None)
        told = [order.owner] + [
            user for user in await rec.people(step.notify) if user.id != order.owner_id
        ]
        await rec.notify(key=step.step_key, users=told, order=order, event="confirmed")

    @activity.defn
    async def record_unroutable(self, step: RecordUnroutable) -> StepResult:
        """Nobody can decide the approval: the order goes on the admin's unroutable list with
        the reason, its timeline says so, and the administrators are told."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id, with_lines=False)
            rec = self._recorder(session)
            await self._mark_unroutable(rec, order, step.step_key, step.reason)
            await session.commit()
            return StepResult(mail_ids=rec.mail_ids)

    async def _mark_unroutable(
        self, rec: StepRecorder, order: Order, key: str, reason: str
    ) -> None:
        if order.unroutable_reason != reason:
            order.unroutable_reason = reason
            order.unroutable_at = rec.now
        await rec.add_event(key=key, order=order, kind="unroutable", actor_id=None, reason=reason)
        admins = await rec.people([Assignee(role=Role.admin)])
        await rec.notify(key=key, users=admins, order=order, event="unroutable", comment=reason)

    @activity.defn
    async def prepare_rerouting(self, step: PrepareRerouting) -> RoundFacts:
        """Admin routes the order again: it leaves the unroutable list (it comes back with the
        new reason if routing fails again) and the facts and policy in force are loaded."""
        async with self._step() as session:
            order = await self._order(session, order_id=step.order_id)
            rec = self._recorder(session)
            order.unroutable_reason = None
            order.unroutable_at = None
            await rec.add_event(
                key=step.step_key, order=order, kind="routed_again", actor_id=step.actor_id
            )
            policy = await current_policy(session=session)
            facts = await self._facts(session, order, policy)
            await session.commit()
            return RoundFacts(facts=facts, policy=policy)

    async def _facts(
        self, session: AsyncSession, order: Order, policy: ApprovalPolicy
    ) -> OrderFacts:
        """What routing weighs: the order and its lines with their stock, the owner's place in
        the department tree, the customer's exposure against its credit limit, and who of the
        policy's deciders is there to decide."""
        chain: list[DepartmentLink] = []
        department_id: int | None = order.department_id
        while department_id is not None and len(chain) < 50:
            department = await session.get_one(Department, department_id)
            chain.append(
                DepartmentLink(department_id=department.id, manager_id=department.manager_id)
            )
            department_id = department.parent_id
        staffed = await session.scalars(
            select(User.role).where(User.active.is_(True)).group_by(User.role)
        )
        named = {
            decider.user_id
            for stage in policy.stages
            for requirement in stage.requirements
            for decider in [requirement.decider]
            if decider.user_id is not None
        } | {decider.user_id for decider in policy.notify if decider.user_id is not None}
        active_named: Iterable[int] = (
            await session.scalars(select(User.id).where(User.id.in_(named), User.active.is_(True)))
            if named
            else []
        )
        exposure = await session.scalar(
            select(func.coalesce(func.sum(Order.total), 0)).where(
                Order.customer_id == order.customer_id,
                Order.id != order.id,
                Order.stage.in_(EXPOSED_STAGES),
            )
        )
        deposit_due = await session.scalar(
            select(func.count())
            .select_from(PaymentPlanItem)
            .where(
                PaymentPlanItem.order_id == order.id,
                PaymentPlanItem.trigger == PaymentTrigger.confirmation.value,
            )
        )
        # Aggregates without a GROUP BY return one row, and coalesce makes the sum 0, not NULL.
        assert exposure is not None and deposit_due is not None
        margin_percent = (
            rules.money(order.expected_margin / order.total * rules.HUNDRED)
            if order.expected_margin is not None and order.total
            else None
        )
        return OrderFacts(
            order_id=order.id,
            number=order.number,
            owner_id=order.owner_id,
            department_id=order.department_id,
            customer_id=order.customer_id,
            total=order.total,
            max_discount_percent=max(
                (
                    rules.discount_percent_vs_list(ln.amount, ln.quantity, ln.product.list_price)
                    for ln in order.lines
                ),
                default=0,
            ),
            shipping_mode=ShippingMode(order.shipping_mode),
            lines=[
                LineFacts(
                    line_id=ln.id,
                    product_id=ln.product_id,
                    quantity=ln.quantity,
                    amount=ln.amount,
                    standard_cost=ln.product.standard_cost,
                    unit_cost=ln.unit_cost,
                    product_code=ln.product.code,
                    available=ln.product.stock_on_hand - ln.product.reserved,
                )
                for ln in order.lines
            ],
            department_chain=chain,
            owner_role=Role(order.owner.role),
            expected_margin=order.expected_margin,
            expected_margin_percent=margin_percent,
            credit_limit=order.customer.credit_limit,
            exposure=Decimal(exposure) + order.total,
            staffed_roles=[Role(role) for role in staffed],
            active_deciders=sorted(active_named),
            needs_installation=any(ln.product.needs_installation for ln in order.lines),
            hold_for_deposit=deposit_due > 0
            and (
                self.hold_dispatch_for_deposit
                or (await current_collection_policy(session=session)).hold_dispatch_for_deposit
            ),
        )


def _kept_estimate(order: Order) -> CostEstimate:
    """The estimate already on the order, for a revision that changed no product or quantity."""
    return CostEstimate(
        lines=[LineCost(line_id=ln.id, unit_cost=ln.unit_cost) for ln in order.lines],
        freight=order.freight_cost or 0,
        installation=order.installation_cost or 0,
        other=order.other_cost or 0,
    )
