"""The approval chain as policy on the time-skipping server: parallel stages, rejection in a later
stage, reminders and escalation by workflow timers, fresh routes per round, self-approval
rerouted, unroutable orders on the admin's list, and policy changes that leave running rounds
alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.worker import Worker

from models.domain import (
    REJECTED_WITHOUT_REASON,
    ApprovalPolicy,
    Condition,
    ConditionKind,
    Decider,
    Decision,
    PolicyRequirement,
    PolicyStage,
    Role,
    RouteAgain,
    Stage,
)
from models.drafts import DraftLine, DraftOrder, create_draft
from models.tables import (
    ApprovalPolicyVersion,
    ApprovalRound,
    ApprovalStep,
    Order,
    OutboxMail,
    Product,
    Todo,
    TodoAssignee,
    User,
)
from tests import helpers
from tests.workflows.test_order import decide, edit, estimate, revise, timeline_kinds, todos_of
from web.commands.actions import refusal_of
from workflows import rules
from workflows.approval import ApprovalWorkflow
from workflows.order import OrderWorkflow
from workflows.steps import NOT_ASSIGNEE, NOT_OPEN


async def order_of(
    session_factory,
    *,
    owner: str = "sales",
    lines: list[tuple[str, str, str]],  # (product code, quantity, discount %)
    customer_id: int = 1,
) -> Order:
    async with session_factory() as session:
        codes = {code for code, _, _ in lines}
        products = {
            p.code: p.id
            for p in await session.scalars(select(Product).where(Product.code.in_(codes)))
        }
        user = await session.scalar(select(User).where(User.username == owner))
        return await create_draft(
            session=session,
            user=user,
            draft=DraftOrder(
                customer_id=customer_id,
                lines=[
                    DraftLine(
                        product_id=products[code],
                        quantity=Decimal(quantity),
                        discount_percent=Decimal(discount),
                    )
                    for code, quantity, discount in lines
                ],
            ),
        )


async def save_policy(session_factory, policy: ApprovalPolicy) -> int:
    """A new policy version, as admin saves it; its number."""
    async with session_factory() as session:
        latest = await session.scalar(
            select(ApprovalPolicyVersion.version).order_by(ApprovalPolicyVersion.version.desc())
        )
        version = (latest or 0) + 1
        session.add(
            ApprovalPolicyVersion(
                version=version,
                body=policy.model_dump(mode="json", exclude={"version"}),
                created_at=datetime.now(UTC),
            )
        )
        await session.commit()
        return version


async def decide_as(client, session_factory, todo: Todo, username, outcome="approve", comment=""):
    who = await helpers.actor(session_factory, username)
    handle = client.get_workflow_handle(todo.workflow_id)
    return await handle.execute_update(
        ApprovalWorkflow.decide,
        Decision(todo_key=todo.key, actor=who, outcome=outcome, comment=comment),
    )


def by_requirement(todos: list[Todo]) -> dict[str, Todo]:
    return {todo.key.rsplit("/", 1)[1]: todo for todo in todos}


async def steps_of(session_factory, order) -> list[tuple[int, int, str, str, str | None]]:
    """(round, stage, requirement, reason, decision) of every approval step of the order."""
    async with session_factory() as session:
        rows = await session.execute(
            select(
                ApprovalRound.number,
                ApprovalStep.stage,
                ApprovalStep.code,
                ApprovalStep.reason,
                ApprovalStep.decision,
            )
            .join(ApprovalStep, ApprovalStep.round_id == ApprovalRound.id)
            .where(ApprovalRound.order_id == order.id)
            .order_by(ApprovalRound.number, ApprovalStep.stage, ApprovalStep.code)
        )
        return [tuple(row) for row in rows]


# A deep discount on more machines than the warehouse holds: stage 2 needs the director (discount
# >= 20 %) and the warehouse (7 ordered, 6 in stock) in parallel.
DEEP_AND_SHORT = [("CNC-200", "7", "25")]


async def test_parallel_stage_needs_every_approval(env, session_factory, settings, worker: Worker):
    order = await order_of(session_factory, lines=DEEP_AND_SHORT)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order, unit_cost="200000")
    await decide(env.client, session_factory, order, "sales_manager")

    stage_two = by_requirement(
        await helpers.open_todos(session_factory, order, "approve", at_least=2)
    )
    assert set(stage_two) == {"director", "warehouse"}
    await decide_as(env.client, session_factory, stage_two["director"], "director")
    # one of two approvals is not enough
    assert await handle.query(OrderWorkflow.status) == Stage.approval
    await decide_as(env.client, session_factory, stage_two["warehouse"], "warehouse")

    await helpers.confirmed(handle, session_factory, order)
    assert await steps_of(session_factory, order) == [
        (1, 1, "sales_manager", "always", "approve"),
        (1, 2, "director", "order total >= 500,000; discount 25.00 % >= 20 %", "approve"),
        (1, 2, "warehouse", "above available stock: CNC-200: 7 ordered, 6 available", "approve"),
    ]
    async with session_factory() as session:
        [approval_round] = await session.scalars(
            select(ApprovalRound).where(ApprovalRound.order_id == order.id)
        )
        director_todo = await session.get(Todo, stage_two["director"].id)
    assert (approval_round.status, approval_round.policy_version) == ("approved", 2)
    # the approver's to-do carries the facts that decide it
    assert director_todo.facts["max_discount_percent"] == "25.00"
    assert director_todo.facts["short_lines"] == ["CNC-200: 7 ordered, 6 available"]


async def test_rejection_in_stage_two_cancels_the_other_todos_and_returns_the_order(
    env, session_factory, settings, worker: Worker
):
    order = await order_of(session_factory, lines=DEEP_AND_SHORT)
    await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order, unit_cost="200000")
    await decide(env.client, session_factory, order, "sales_manager")
    stage_two = by_requirement(
        await helpers.open_todos(session_factory, order, "approve", at_least=2)
    )

    done = await decide_as(
        env.client, session_factory, stage_two["director"], "director", "reject", "25 % is too deep"
    )

    assert done.stage == Stage.revising
    assert await todos_of(session_factory, order) == [
        ("estimate/1", "estimate_cost", "done", "estimated"),
        ("approval/1/1/sales_manager", "approve", "done", "approve"),
        ("approval/1/2/director", "approve", "done", "reject"),
        ("approval/1/2/warehouse", "approve", "cancelled", "cancelled"),
        ("revise/1", "revise", "open", None),
    ]
    # the round is over: its workflow is closed, so nothing can decide the cancelled to-do (the
    # web layer refuses it from the database first; an update to a closed round is not sent here
    # because the test server then stops skipping time for later tests)
    round_handle = env.client.get_workflow_handle(stage_two["warehouse"].workflow_id)
    assert (await round_handle.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_round_two_is_routed_afresh_after_the_revision(
    env, session_factory, settings, worker: Worker
):
    # one machine at 25 % off (285,000): the director for the discount alone
    order = await order_of(session_factory, lines=[("CNC-200", "1", "25")])
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order, unit_cost="200000")
    await decide(env.client, session_factory, order, "sales_manager")
    await decide(env.client, session_factory, order, "director", "reject", "Too deep a discount")

    await edit(session_factory, order, discount_percent="5")
    await revise(env.client, session_factory, order)
    # 5 % needs no director: round 2 is the manager alone
    await decide(env.client, session_factory, order, "sales_manager")

    await helpers.confirmed(handle, session_factory, order)
    assert [
        (r, stage, code) for r, stage, code, _, _ in await steps_of(session_factory, order)
    ] == [
        (1, 1, "sales_manager"),
        (1, 2, "director"),
        (2, 1, "sales_manager"),
    ]


@pytest.mark.own_test_server
async def test_undecided_approval_is_reminded_at_its_sla_and_escalated_at_twice_it(
    env, session_factory, settings, worker: Worker
):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    [todo] = await helpers.open_todos(session_factory, order, "approve")
    opened = (await env.get_current_time()).astimezone(UTC)
    remind_at = rules.add_working_days(opened, 1)
    escalate_at = rules.add_working_days(opened, 2)

    await env.sleep(remind_at - opened + timedelta(minutes=5))
    reminded = await mails_to(session_factory, "sales_manager@o2c.example.com", "Reminder")
    assert len(reminded) == 1 and "/decide/" in reminded[0].body
    assert await assignee_users(session_factory, todo) == []  # not escalated yet

    await env.sleep(escalate_at - remind_at)
    escalations = await mails_to(session_factory, "director@o2c.example.com", "Escalated")
    assert len(escalations) == 1
    assert "Li Na has not decided it within 1 working day" in (escalations[0].body)
    director = await helpers.user(session_factory, "director")
    assert await assignee_users(session_factory, todo) == [director.id]
    assert "approval_escalated" in await timeline_kinds(session_factory, order)

    # the manager's manager, now an assignee, decides it
    await decide_as(env.client, session_factory, todo, "director")
    await helpers.confirmed(handle, session_factory, order)
    async with session_factory() as session:
        step = await session.scalar(select(ApprovalStep).where(ApprovalStep.todo_id == todo.id))
    assert step.reminded_at is not None and step.escalated_at is not None
    assert step.escalated_to == "Zhou Wei"


@pytest.mark.own_test_server
async def test_approval_decided_in_time_is_neither_reminded_nor_escalated(
    env, session_factory, settings, worker: Worker
):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    await decide(env.client, session_factory, order, "sales_manager")
    await helpers.confirmed(handle, session_factory, order)
    await env.sleep(timedelta(days=10))
    assert await mails_to(session_factory, "sales_manager@o2c.example.com", "Reminder") == []
    assert await mails_to(session_factory, "director@o2c.example.com", "Escalated") == []


async def test_role_requirement_landing_on_the_owner_goes_to_the_owners_manager(
    env, session_factory, settings, worker: Worker
):
    await save_policy(
        session_factory,
        ApprovalPolicy(
            version=0,
            stages=[
                PolicyStage(
                    position=1,
                    requirements=[
                        PolicyRequirement(
                            code="sales_management",
                            decider=Decider(kind="role", role=Role.sales_manager),
                        )
                    ],
                )
            ],
        ),
    )
    # the sales manager enters an order: the sales managers' approval goes above them
    order = await order_of(session_factory, owner="sales_manager", lines=[("PUMP-10", "2", "0")])
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    [todo] = await helpers.open_todos(session_factory, order, "approve")
    async with session_factory() as session:
        [assignee] = await session.scalars(
            select(TodoAssignee).where(TodoAssignee.todo_id == todo.id)
        )
        sales = await session.scalar(select(User.department_id).where(User.username == "director"))
    assert (assignee.role, assignee.department_id) == (None, sales)

    with pytest.raises(WorkflowUpdateFailedError):  # the owner is not among its deciders
        await decide_as(env.client, session_factory, todo, "sales_manager")
    await decide_as(env.client, session_factory, todo, "director")
    await helpers.confirmed(handle, session_factory, order)


async def test_unroutable_order_waits_on_the_admin_list_until_routed_again(
    env, session_factory, settings, worker: Worker
):
    await save_policy(
        session_factory,
        ApprovalPolicy(
            version=0,
            stages=[
                PolicyStage(
                    position=1,
                    requirements=[
                        PolicyRequirement(
                            code="operations",
                            decider=Decider(kind="role", role=Role.ops_manager),
                            when=[Condition(kind=ConditionKind.total_at_least, value=Decimal(1))],
                        )
                    ],
                )
            ],
        ),
    )
    async with session_factory() as session:
        await session.execute(
            update(User).where(User.username == "ops_manager").values(active=False)
        )
        await session.commit()
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)

    reason = "Nobody active has the role 'ops_manager' to decide 'operations'."
    async with session_factory() as session:
        saved = await session.get(Order, order.id)
    assert saved.unroutable_reason == reason
    assert "unroutable" in await timeline_kinds(session_factory, order)
    [to_admin] = await mails_to(session_factory, "admin@o2c.example.com", "")
    assert reason in to_admin.body

    admin = await helpers.actor(session_factory, "admin")
    sales = await helpers.actor(session_factory, "sales")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OrderWorkflow.route_again, RouteAgain(actor=sales))
    assert refused.value.cause.type == NOT_ASSIGNEE

    async with session_factory() as session:
        await session.execute(
            update(User).where(User.username == "ops_manager").values(active=True)
        )
        await session.commit()
    await handle.execute_update(OrderWorkflow.route_again, RouteAgain(actor=admin))
    [todo] = await helpers.open_todos(session_factory, order, "approve")
    async with session_factory() as session:
        saved = await session.get(Order, order.id)
    assert saved.unroutable_reason is None
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OrderWorkflow.route_again, RouteAgain(actor=admin))
    assert refused.value.cause.type == NOT_OPEN

    await decide_as(env.client, session_factory, todo, "ops_manager")
    await helpers.confirmed(handle, session_factory, order)


async def test_a_new_policy_leaves_the_running_round_alone(
    env, session_factory, settings, worker: Worker
):
    order = await order_of(session_factory, lines=[("CNC-200", "2", "25")])
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order, unit_cost="200000")
    # admin drops the director's stage while the round waits on the manager
    await save_policy(session_factory, rules.DEFAULT_APPROVAL_POLICY)
    await decide(env.client, session_factory, order, "sales_manager")
    await decide(env.client, session_factory, order, "director")

    await helpers.confirmed(handle, session_factory, order)
    async with session_factory() as session:
        versions = list(
            await session.scalars(
                select(ApprovalRound.policy_version).where(ApprovalRound.order_id == order.id)
            )
        )
    assert versions == [2]


async def test_final_approval_tells_the_owner_and_the_people_the_policy_names(
    env, session_factory, settings, worker: Worker
):
    order = await helpers.draft(session_factory)
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    await decide(env.client, session_factory, order, "sales_manager")
    await helpers.confirmed(handle, session_factory, order)
    for address in ("sales@o2c.example.com", "sales_manager@o2c.example.com"):
        told = [m for m in await mails_to(session_factory, address, "") if "confirmed" in m.body]
        assert len(told) == 1, address


async def mails_to(session_factory, address: str, subject_prefix: str) -> list[OutboxMail]:
    async with session_factory() as session:
        mails = await session.scalars(
            select(OutboxMail).where(OutboxMail.to_address == address).order_by(OutboxMail.id)
        )
        return [m for m in mails if m.subject.startswith(subject_prefix)]


async def assignee_users(session_factory, todo: Todo) -> list[int]:
    """The people named on the to-do besides its routed assignee (escalations)."""
    async with session_factory() as session:
        rows = await session.scalars(
            select(TodoAssignee).where(TodoAssignee.todo_id == todo.id).order_by(TodoAssignee.id)
        )
        return [row.user_id for row in list(rows)[1:] if row.user_id is not None]


async def test_a_rejection_without_a_comment_is_refused_in_the_web_layers_own_words(
    env, session_factory, settings, worker: Worker
):
    """The validator runs the decision's own check, so a client that skips the web layer hears
    the same refusal, template and all (it used to say "A rejection needs a comment.")."""
    order = await order_of(session_factory, lines=[("PUMP-10", "2", "0")])
    await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(env.client, session_factory, order, "sales_manager", outcome="reject")
    assert refused.value.cause.message == "A rejection needs a comment saying why."
    said = refusal_of(refused.value)
    assert (said.status, said.template) == (422, REJECTED_WITHOUT_REASON)
    assert await helpers.open_todos(session_factory, order, "approve")  # nothing was decided
