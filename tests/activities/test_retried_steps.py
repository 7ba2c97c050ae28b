"""Each step's activity, run a second time as Temporal does after a reply was lost, records
nothing twice: no second to-do, timeline event, approval row or e-mail."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from activities.approvals import ApprovalActivities
from activities.notify import NotifyActivities
from activities.orders import OrderActivities
from activities.store import StepStore
from models.db import SessionFactory
from models.domain import (
    ConfirmOrder,
    CostEstimate,
    CostingStarted,
    LineCost,
    OpenStage,
    RecordDecision,
    RecordEstimate,
    Resubmit,
    SendMail,
    Stage,
    StartCosting,
    TodoKind,
    Withdraw,
)
from models.tables import (
    ApprovalRound,
    ApprovalStep,
    Order,
    OutboxMail,
    Todo,
    TodoAssignee,
)
from notifications.mail import Message
from tests import helpers
from tests.helpers import events, saved
from tests.workflows.test_order import edit
from workflows import rules

BASE_URL = "http://testserver"


class Clock:
    """A clock that moves a minute on each reading, so a retry happens visibly later."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


class Steps:
    """One order's step inputs, built the way its workflows build them."""

    def __init__(self, session_factory: SessionFactory, order: Order, *, deliver_mail=False):
        clock = Clock()
        self.session_factory = session_factory
        self.order = order
        store = StepStore(
            session_factory, base_url=BASE_URL, deliver_mail=deliver_mail, clock=clock
        )
        self.orders = OrderActivities(store)
        self.approvals = ApprovalActivities(store)
        self.wid = f"order-{order.number}"
        self.started: CostingStarted | None = None

    def start_costing(self) -> StartCosting:
        return StartCosting(
            order_number=self.order.number,
            workflow_id=self.wid,
            submitted_by=self.order.owner_id,
            todo_key=f"{self.wid}/estimate/1",
        )

    async def submitted(self) -> CostingStarted:
        self.started = await self.orders.start_costing(self.start_costing())
        return self.started

    async def record_estimate(self, todo_key: str | None = None) -> RecordEstimate:
        pricing = await helpers.user(self.session_factory, "pricing")
        estimate = CostEstimate(
            lines=[
                LineCost(line_id=line.line_id, unit_cost=Decimal("5000"))
                for line in self.started.facts.lines
            ],
            freight=Decimal("300"),
        )
        figures = rules.expected_cost(self.started.facts, estimate)
        return RecordEstimate(
            order_id=self.order.id,
            todo_key=todo_key or f"{self.wid}/estimate/1",
            actor_id=pricing.id,
            estimate=estimate,
            expected_cost=figures.expected_cost,
            expected_margin=figures.expected_margin,
        )

    async def estimated(self) -> None:
        await self.orders.record_estimate(await self.record_estimate())

    def open_stage(self, round_number: int = 1) -> OpenStage:
        [stage] = rules.approval_route(rules.DEFAULT_APPROVAL_POLICY, self.started.facts)
        return OpenStage(
            order_id=self.order.id,
            workflow_id=f"{self.wid}/approval/{round_number}",
            order_workflow_id=self.wid,
            round_number=round_number,
            policy_version=rules.DEFAULT_APPROVAL_POLICY.version,
            stage=stage,
        )

    async def in_approval(self) -> None:
        await self.submitted()
        await self.estimated()
        await self.approvals.open_stage(self.open_stage())

    async def decision(self, outcome: str, comment: str = "") -> RecordDecision:
        manager = await helpers.user(self.session_factory, "sales_manager")
        return RecordDecision(
            order_id=self.order.id,
            round_number=1,
            todo_key=f"{self.wid}/approval/1/1/sales_manager",
            actor_id=manager.id,
            outcome=outcome,
            comment=comment,
            round_approved=outcome == "approve",
            revise_todo_key=f"{self.wid}/revise/1",
            order_workflow_id=self.wid,
        )


@pytest.fixture
async def order(session_factory) -> Order:
    return await helpers.draft(session_factory)


async def count(session_factory, model, *conditions) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*conditions))


async def todos(session_factory, order) -> list[tuple[str, str, str]]:
    async with session_factory() as session:
        rows = await session.execute(
            select(Todo.key, Todo.kind, Todo.status)
            .where(Todo.order_id == order.id)
            .order_by(Todo.id)
        )
        return [(key.split("/", 1)[1], kind, status) for key, kind, status in rows]


async def mail_per_recipient(session_factory) -> Counter[str]:
    async with session_factory() as session:
        return Counter(await session.scalars(select(OutboxMail.to_address)))


async def test_submission_retried_opens_one_estimate_todo_and_queues_one_mail(
    session_factory, order
):
    steps = Steps(session_factory, order)
    first = await steps.orders.start_costing(steps.start_costing())
    submitted_at = (await saved(session_factory, order)).submitted_at
    second = await steps.orders.start_costing(steps.start_costing())

    assert first.opened == second.opened
    assert [t.kind for t in first.opened] == [TodoKind.estimate_cost]
    assert first.stage == second.stage == Stage.costing
    assert first.facts == second.facts
    assert await todos(session_factory, order) == [("estimate/1", "estimate_cost", "open")]
    assert await count(session_factory, TodoAssignee) == 1
    assert await events(session_factory, order) == ["created", "submitted"]
    assert await mail_per_recipient(session_factory) == Counter({"pricing@o2c.example.com": 1})
    assert (await saved(session_factory, order)).submitted_at == submitted_at


async def test_retried_step_hands_the_same_queued_mail_to_the_sender(session_factory, order):
    steps = Steps(session_factory, order, deliver_mail=True)
    first = await steps.orders.start_costing(steps.start_costing())
    second = await steps.orders.start_costing(steps.start_costing())
    assert first.mail_ids
    assert second.mail_ids == first.mail_ids


async def test_estimate_retried_closes_its_todo_once(session_factory, order):
    steps = Steps(session_factory, order)
    await steps.submitted()
    step = await steps.record_estimate()
    await steps.orders.record_estimate(step)
    async with session_factory() as session:
        completed_at = await session.scalar(select(Todo.completed_at))
    result = await steps.orders.record_estimate(step)

    assert result.stage == Stage.approval
    assert await todos(session_factory, order) == [("estimate/1", "estimate_cost", "done")]
    async with session_factory() as session:
        assert await session.scalar(select(Todo.completed_at)) == completed_at
    assert await events(session_factory, order) == ["created", "submitted", "estimated"]
    order_now = await saved(session_factory, order)
    assert order_now.expected_cost == Decimal("10300.00")
    assert order_now.stage == "approval"


async def test_approval_stage_retried_opens_one_round_one_step_one_todo(session_factory, order):
    steps = Steps(session_factory, order)
    await steps.submitted()
    await steps.estimated()
    first = await steps.approvals.open_stage(steps.open_stage())
    second = await steps.approvals.open_stage(steps.open_stage())

    assert first.opened == second.opened
    assert [t.key for t in first.opened] == [f"{steps.wid}/approval/1/1/sales_manager"]
    assert await count(session_factory, ApprovalRound) == 1
    assert await count(session_factory, ApprovalStep) == 1
    assert await todos(session_factory, order) == [
        ("estimate/1", "estimate_cost", "done"),
        ("approval/1/1/sales_manager", "approve", "open"),
    ]
    assert (await events(session_factory, order)).count("approval_requested") == 1
    assert (await mail_per_recipient(session_factory))["sales_manager@o2c.example.com"] == 1


async def test_approval_retried_records_one_decision_and_ends_the_round_once(
    session_factory, order
):
    steps = Steps(session_factory, order)
    await steps.in_approval()
    step = await steps.decision("approve")
    await steps.approvals.record_decision(step)
    async with session_factory() as session:
        ended_at = await session.scalar(select(ApprovalRound.ended_at))
    await steps.approvals.record_decision(step)

    async with session_factory() as session:
        approval_round = await session.scalar(select(ApprovalRound))
        approval_step = await session.scalar(select(ApprovalStep))
    assert approval_round.status == "approved"
    assert approval_round.ended_at == ended_at
    assert approval_step.decision == "approve"
    assert (await events(session_factory, order)).count("approved") == 1
    assert await count(session_factory, Todo, Todo.status == "open") == 0


async def test_rejection_retried_opens_one_revise_todo_and_tells_the_owner_once(
    session_factory, order
):
    steps = Steps(session_factory, order)
    await steps.in_approval()
    step = await steps.decision("reject", "Too cheap")
    first = await steps.approvals.record_decision(step)
    second = await steps.approvals.record_decision(step)

    assert first.opened == second.opened
    assert [t.key for t in first.opened] == [f"{steps.wid}/revise/1"]
    assert first.stage == second.stage == Stage.revising
    assert await todos(session_factory, order) == [
        ("estimate/1", "estimate_cost", "done"),
        ("approval/1/1/sales_manager", "approve", "done"),
        ("revise/1", "revise", "open"),
    ]
    assert (await events(session_factory, order)).count("rejected") == 1
    assert (await mail_per_recipient(session_factory))["sales@o2c.example.com"] == 1
    async with session_factory() as session:
        assert await session.scalar(select(ApprovalRound.status)) == "rejected"
        assert await session.scalar(select(ApprovalStep.comment)) == "Too cheap"


async def test_resubmission_retried_asks_pricing_once_when_the_quantity_changed(
    session_factory, order
):
    steps = Steps(session_factory, order)
    await steps.in_approval()
    await steps.approvals.record_decision(await steps.decision("reject", "Too few"))
    await edit(session_factory, order, quantity="3")
    owner = await helpers.user(session_factory, "sales")
    step = Resubmit(
        order_id=order.id,
        workflow_id=steps.wid,
        todo_key=f"{steps.wid}/revise/1",
        actor_id=owner.id,
        estimate_todo_key=f"{steps.wid}/estimate/2",
    )
    first = await steps.orders.resubmit(step)
    second = await steps.orders.resubmit(step)

    assert first.needs_estimate and second.needs_estimate
    assert first.opened == second.opened
    assert first.stage == second.stage == Stage.costing
    assert await todos(session_factory, order) == [
        ("estimate/1", "estimate_cost", "done"),
        ("approval/1/1/sales_manager", "approve", "done"),
        ("revise/1", "revise", "done"),
        ("estimate/2", "estimate_cost", "open"),
    ]
    assert (await events(session_factory, order)).count("resubmitted") == 1
    assert (await mail_per_recipient(session_factory))["pricing@o2c.example.com"] == 2


async def test_resubmission_with_same_goods_keeps_the_estimate_and_recomputes_the_margin(
    session_factory, order
):
    steps = Steps(session_factory, order)
    await steps.in_approval()
    await steps.approvals.record_decision(await steps.decision("reject", "Discount"))
    await edit(session_factory, order, discount_percent="10")
    owner = await helpers.user(session_factory, "sales")
    step = Resubmit(
        order_id=order.id,
        workflow_id=steps.wid,
        todo_key=f"{steps.wid}/revise/1",
        actor_id=owner.id,
        estimate_todo_key=f"{steps.wid}/estimate/2",
    )
    first = await steps.orders.resubmit(step)
    second = await steps.orders.resubmit(step)

    assert not first.needs_estimate and not second.needs_estimate
    assert first.opened == second.opened == []
    assert first.stage == Stage.approval
    order_now = await saved(session_factory, order)
    assert order_now.total == Decimal("15300.00")
    assert order_now.expected_cost == Decimal("10300.00")
    assert order_now.expected_margin == Decimal("5000.00")
    assert await count(session_factory, Todo, Todo.kind == "estimate_cost") == 1


async def test_withdrawal_retried_cancels_the_order_once(session_factory, order):
    steps = Steps(session_factory, order)
    await steps.in_approval()
    await steps.approvals.record_decision(await steps.decision("reject", "No"))
    owner = await helpers.user(session_factory, "sales")
    step = Withdraw(
        order_id=order.id, todo_key=f"{steps.wid}/revise/1", actor_id=owner.id, comment="Lost"
    )
    await steps.orders.withdraw(step)
    result = await steps.orders.withdraw(step)

    assert result.stage == Stage.cancelled
    assert (await saved(session_factory, order)).stage == "cancelled"
    assert (await events(session_factory, order)).count("withdrawn") == 1
    assert await count(session_factory, Todo, Todo.status == "open") == 0


async def test_confirmation_retried_tells_the_owner_once(session_factory, order):
    steps = Steps(session_factory, order)
    await steps.in_approval()
    await steps.approvals.record_decision(await steps.decision("approve"))
    step = ConfirmOrder(order_id=order.id, step_key=f"{steps.wid}/confirmed")
    await steps.orders.confirm_order(step)
    confirmed_at = (await saved(session_factory, order)).confirmed_at
    result = await steps.orders.confirm_order(step)

    assert result.stage == Stage.confirmed
    assert (await saved(session_factory, order)).confirmed_at == confirmed_at
    assert (await events(session_factory, order)).count("confirmed") == 1
    assert await mail_per_recipient(session_factory) == Counter(
        {
            "pricing@o2c.example.com": 1,
            "sales_manager@o2c.example.com": 1,
            "sales@o2c.example.com": 1,
        }
    )


class FlakyMailer:
    """A mail server that drops the connection once, at the given message."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at
        self.attempts = 0
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        self.attempts += 1
        if self.attempts == self.fail_at:
            raise ConnectionError("connection lost")
        self.sent.append(message)


async def test_mail_sending_retried_sends_only_what_did_not_go_out(session_factory, order):
    steps = Steps(session_factory, order, deliver_mail=True)
    await steps.in_approval()
    decided = await steps.approvals.record_decision(await steps.decision("reject", "Redo"))
    async with session_factory() as session:
        mail_ids = list(await session.scalars(select(OutboxMail.id).order_by(OutboxMail.id)))
    assert len(mail_ids) == 3  # pricing, the manager, the owner (revise)
    assert decided.mail_ids == mail_ids[-1:]

    mailer = FlakyMailer(fail_at=2)
    notify = NotifyActivities(session_factory, mailer)
    with pytest.raises(ConnectionError):
        await notify.send_mail(SendMail(mail_ids=mail_ids))
    assert await notify.send_mail(SendMail(mail_ids=mail_ids)) == 2
    assert await notify.send_mail(SendMail(mail_ids=mail_ids)) == 0

    assert sorted(m.to_address for m in mailer.sent) == [
        "pricing@o2c.example.com",
        "sales@o2c.example.com",
        "sales_manager@o2c.example.com",
    ]
    assert await count(session_factory, OutboxMail, OutboxMail.sent_at.is_(None)) == 0


async def test_mail_kept_in_the_outbox_when_no_mail_server_is_configured(session_factory, order):
    steps = Steps(session_factory, order)
    started = await steps.submitted()
    assert started.mail_ids == []
    notify = NotifyActivities(session_factory, None)
    assert await notify.send_mail(SendMail(mail_ids=[1])) == 0
    assert await count(session_factory, OutboxMail, OutboxMail.sent_at.is_(None)) == 1
