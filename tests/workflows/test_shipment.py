"""Fulfilment and acceptance on the time-skipping server: an export order through its six
milestones, late milestones and their single alert, re-planning, the deposit hold, reshipment
after damage, and stock that never goes negative."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributeKey
from temporalio.worker import Worker

from models.domain import (
    MILESTONES,
    AcceptanceOutcome,
    ArrivalConfirmation,
    DispatchConfirmation,
    ExceptionKind,
    ExceptionReport,
    ExceptionResolution,
    HoldRelease,
    MilestoneCode,
    MilestoneConfirmation,
    MilestoneReplan,
    PlannedMilestone,
    PlanShipment,
    ShippingMode,
    Stage,
)
from models.drafts import DraftLine, DraftOrder, create_draft
from models.tables import (
    Contact,
    Dispatch,
    Milestone,
    Order,
    OutboxMail,
    Product,
    ShipmentException,
    Todo,
    User,
)
from settings import Settings
from tests import helpers
from tests.helpers import saved
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.workflows.test_order import decide, estimate, fails_first_attempt
from worker import WORKFLOWS, activities_for, build_worker
from workflows.shipment import ShipmentWorkflow
from workflows.steps import INVALID, NOT_ASSIGNEE, NOT_OPEN

DELAYED = SearchAttributeKey.for_bool("Delayed")
SHIPMENT_DELAYED = SearchAttributeKey.for_bool("ShipmentDelayed")
STAGE = SearchAttributeKey.for_keyword("Stage")


async def confirmed_order(
    env,
    session_factory,
    settings,
    *,
    code="PUMP-10",
    quantity="2",
    mode="domestic",
    approvers=("sales_manager",),
) -> tuple[Order, WorkflowHandle]:
    async with session_factory() as session:
        product = await session.scalar(select(Product).where(Product.code == code))
        owner = await session.scalar(select(User).where(User.username == "sales"))
        order = await create_draft(
            session=session,
            user=owner,
            draft=DraftOrder(
                customer_id=1,
                shipping_mode=ShippingMode(mode),
                lines=[DraftLine(product_id=product.id, quantity=Decimal(quantity))],
            ),
        )
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order, unit_cost="1000")
    for approver in approvers:
        await decide(env.client, session_factory, order, approver)
    await helpers.confirmed(handle, session_factory, order)
    return order, handle


def shipment_of(env, order: Order) -> WorkflowHandle:
    return env.client.get_workflow_handle_for(
        ShipmentWorkflow.run, f"order-{order.number}/shipment"
    )


async def today(env) -> date:
    return (await env.get_current_time()).astimezone(UTC).date()


async def todo(session_factory, order, kind: str) -> Todo:
    [found] = await helpers.open_todos(session_factory, order, kind)
    return found


async def plan(env, session_factory, order, mode="domestic", *, start: int = 0, step: int = 1):
    """Ops plan the shipment: one milestone a day (step) from `start` days ahead."""
    first = await today(env)
    plan_todo = await todo(session_factory, order, "plan_shipment")
    ops = await helpers.actor(session_factory, "ops")
    milestones = [
        PlannedMilestone(code=code, planned_date=first + timedelta(days=start + i * step))
        for i, code in enumerate(MILESTONES[ShippingMode(mode)])
    ]
    await shipment_of(env, order).execute_update(
        ShipmentWorkflow.plan,
        PlanShipment(todo_key=plan_todo.key, actor=ops, milestones=milestones),
    )
    return milestones


async def dispatch(env, session_factory, order, tracking="SF1234567890"):
    dispatch_todo = await todo(session_factory, order, "confirm_dispatch")
    warehouse = await helpers.actor(session_factory, "warehouse")
    return await shipment_of(env, order).execute_update(
        ShipmentWorkflow.confirm_dispatch,
        DispatchConfirmation(
            todo_key=dispatch_todo.key, actor=warehouse, carrier="SF Express",
            tracking_number=tracking,
        ),
    )  # fmt: skip


async def stock(session_factory, code: str) -> tuple[Decimal, Decimal]:
    async with session_factory() as session:
        product = await session.scalar(select(Product).where(Product.code == code))
        return product.stock_on_hand, product.reserved


async def milestones_of(session_factory, order) -> dict[str, tuple[date, date | None]]:
    async with session_factory() as session:
        rows = await session.scalars(select(Milestone).where(Milestone.order_id == order.id))
        return {m.code: (m.planned_on, m.actual_on) for m in rows}


async def mails_about(session_factory, needle: str) -> Counter[str]:
    async with session_factory() as session:
        mails = await session.scalars(select(OutboxMail))
        return Counter(m.to_address for m in mails if needle in m.body or needle in m.subject)


async def test_export_order_goes_through_its_six_milestones_to_acceptance(
    env, session_factory, settings, worker: Worker
):
    # a CNC machine needs installation: service confirms acceptance after arrival
    order, handle = await confirmed_order(
        env, session_factory, settings, code="CNC-200", quantity="1", mode="export"
    )
    assert await stock(session_factory, "CNC-200") == (Decimal("6"), Decimal("1"))  # reserved
    planned = await plan(env, session_factory, order, "export")
    assert [m.code for m in planned] == list(MILESTONES[ShippingMode.export])

    await dispatch(env, session_factory, order)
    assert await stock(session_factory, "CNC-200") == (Decimal("5"), Decimal("0"))
    assert (await saved(session_factory, order)).shipment_status == "in_transit"
    # the customer's contact is told, with the tracking number and a link to confirm arrival
    [contact_mail] = [
        m for m in await all_mail(session_factory) if m.to_address == "xu.ming@shpm.example.com"
        and "SF1234567890" in m.body
    ]  # fmt: skip
    assert "/arrival/" in contact_mail.body
    assert "/orders/" not in contact_mail.body  # contacts have no account to open it with

    ops = await helpers.actor(session_factory, "ops")
    day = await today(env)
    shipment = shipment_of(env, order)
    for code in (
        MilestoneCode.port_departure,
        MilestoneCode.customs_declaration,
        MilestoneCode.commodity_inspection,
    ):
        await shipment.execute_update(
            ShipmentWorkflow.confirm_milestone,
            MilestoneConfirmation(actor=ops, code=code, actual_date=day),
        )
    arrival = await todo(session_factory, order, "confirm_arrival")
    done = await shipment.execute_update(
        ShipmentWorkflow.confirm_arrival,
        ArrivalConfirmation(actual_date=day, actor=ops, todo_key=arrival.key),
    )
    assert done.stage == Stage.acceptance
    for _ in range(100):  # the order's Stage search attribute follows the shipment
        if (await handle.describe()).typed_search_attributes.get(STAGE) == "acceptance":
            break
        await asyncio.sleep(0.05)
    assert (await handle.describe()).typed_search_attributes.get(STAGE) == "acceptance"
    acceptance = await todo(session_factory, order, "confirm_acceptance")
    service = await helpers.actor(session_factory, "service")
    await shipment.execute_update(
        ShipmentWorkflow.confirm_acceptance,
        AcceptanceOutcome(
            todo_key=acceptance.key, actor=service, outcome="accepted", accepted_on=day,
            signed_by="Xu Ming",
        ),
    )  # fmt: skip

    assert (await shipment.result()).accepted_on == day
    finished = await saved(session_factory, order)
    assert (finished.shipment_status, finished.accepted_signed_by) == ("accepted", "Xu Ming")
    assert all(
        actual == day for _, actual in (await milestones_of(session_factory, order)).values()
    )
    assert finished.delayed is False
    for _ in range(100):
        if await handle.query("status") == Stage.collection:
            break
        await asyncio.sleep(0.05)
    assert await handle.query("status") == Stage.collection
    # the owner is told to collect the payment due on acceptance
    assert (await mails_about(session_factory, "collect the payment"))["sales@o2c.example.com"] == 1


async def all_mail(session_factory) -> list[OutboxMail]:
    async with session_factory() as session:
        return list(await session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


@pytest.mark.own_test_server
@needs_catalog
async def test_a_milestone_missed_by_a_day_turns_the_order_delayed_with_one_alert(
    env, session_factory, settings: Settings
):
    attempts: list[int] = []
    activities = [
        fails_first_attempt(fn, attempts) if fn.__name__ == "mark_late" else fn
        for fn in activities_for(session_factory, settings, None)
    ]
    async with Worker(
        env.client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities
    ):
        order, handle = await confirmed_order(env, session_factory, settings)
        async with session_factory() as session:  # ops read their mail in Chinese
            await session.execute(update(User).where(User.username == "ops").values(locale="zh_CN"))
            await session.commit()
        await plan(env, session_factory, order, start=0, step=3)  # picking due today
        await env.sleep(timedelta(days=1, hours=1))

        late = await todo(session_factory, order, "confirm_milestone")
        assert (await saved(session_factory, order)).delayed is True
        assert attempts == [1, 2]  # the alert's step was retried ...
        alerts = await mails_about(session_factory, "Picking was planned for")
        alerts += await mails_about(session_factory, "备货原计划于")  # each in their language
        assert alerts == Counter({"ops@o2c.example.com": 1, "sales@o2c.example.com": 1})  # ... once
        assert await mails_about(session_factory, "picking was planned for 20") == Counter()
        described = (await handle.describe()).typed_search_attributes
        assert described.get(SHIPMENT_DELAYED) is True  # `ShipmentDelayed=true` finds it
        assert described.get(DELAYED) is True  # and the old name still does, for a release

        ops = await helpers.actor(session_factory, "ops")
        await shipment_of(env, order).execute_update(
            ShipmentWorkflow.confirm_milestone,
            MilestoneConfirmation(
                actor=ops, code=MilestoneCode.picking, actual_date=await today(env),
                todo_key=late.key,
            ),
        )  # fmt: skip
        assert (await saved(session_factory, order)).delayed is False
        # confirming it twice is refused
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await shipment_of(env, order).execute_update(
                ShipmentWorkflow.confirm_milestone,
                MilestoneConfirmation(
                    actor=ops, code=MilestoneCode.picking, actual_date=await today(env)
                ),
            )
        assert refused.value.cause.type == NOT_OPEN


@pytest.mark.own_test_server
async def test_replanning_a_milestone_moves_its_timer(env, session_factory, settings, worker):
    order, _ = await confirmed_order(env, session_factory, settings)
    await plan(env, session_factory, order, start=0, step=5)
    ops = await helpers.actor(session_factory, "ops")
    day = await today(env)
    await shipment_of(env, order).execute_update(
        ShipmentWorkflow.replan_milestone,
        MilestoneReplan(
            actor=ops, code=MilestoneCode.picking, planned_date=day + timedelta(days=3),
            reason="Supplier delivers the pumps on Thursday",
        ),
    )  # fmt: skip
    await env.sleep(timedelta(days=2))
    assert (await saved(session_factory, order)).delayed is False  # the old date passed quietly
    await env.sleep(timedelta(days=2, hours=1))
    assert (await saved(session_factory, order)).delayed is True
    assert (await milestones_of(session_factory, order))["picking"][0] == day + timedelta(days=3)


async def test_dispatch_waits_for_the_deposit_until_ops_release_it(
    env, session_factory, settings: Settings
):
    held = settings.model_copy(update={"hold_dispatch_for_deposit": True})
    async with build_worker(env.client, session_factory, held):
        async with session_factory() as session:  # the default plan: 100 % on confirmation
            owner = await session.scalar(select(User).where(User.username == "sales"))
            order = await create_draft(
                session=session,
                user=owner,
                draft=DraftOrder(customer_id=1, lines=[DraftLine(product_id=3, quantity=2)]),
            )
        handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
        await estimate(env.client, session_factory, order)
        await decide(env.client, session_factory, order, "sales_manager")
        await helpers.confirmed(handle, session_factory, order)
        await plan(env, session_factory, order)
        assert (await saved(session_factory, order)).shipment_status == "held"
        assert (
            await helpers.open_todos(session_factory, order, "confirm_dispatch", at_least=0) == []
        )

        shipment = shipment_of(env, order)
        warehouse = await helpers.actor(session_factory, "warehouse")
        ops = await helpers.actor(session_factory, "ops")
        for who, reason, refusal in ((warehouse, "urgent", NOT_ASSIGNEE), (ops, " ", INVALID)):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await shipment.execute_update(
                    ShipmentWorkflow.release_hold, HoldRelease(actor=who, reason=reason)
                )
            assert refused.value.cause.type == refusal
        await shipment.execute_update(
            ShipmentWorkflow.release_hold,
            HoldRelease(actor=ops, reason="Director approved shipping before the deposit"),
        )
        await todo(session_factory, order, "confirm_dispatch")
        released = await saved(session_factory, order)
        assert released.shipment_status == "awaiting_dispatch"
        assert released.hold_released_reason == "Director approved shipping before the deposit"


async def test_damaged_goods_are_shipped_again_taking_stock_again(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings, quantity="2")
    await plan(env, session_factory, order, start=0, step=2)
    before = await stock(session_factory, "PUMP-10")
    await dispatch(env, session_factory, order)
    shipment = shipment_of(env, order)
    owner = await helpers.actor(session_factory, "sales")
    await shipment.execute_update(
        ShipmentWorkflow.raise_exception,
        ExceptionReport(actor=owner, kind=ExceptionKind.damaged, description="Two pumps cracked"),
    )
    handling = await todo(session_factory, order, "handle_exception")
    ops = await helpers.actor(session_factory, "ops")
    await shipment.execute_update(
        ShipmentWorkflow.handle_exception,
        ExceptionResolution(
            todo_key=handling.key, actor=ops, resolution="Send two new pumps", reship=True
        ),
    )
    await dispatch(env, session_factory, order, tracking="SF2222222222")
    on_hand, reserved = await stock(session_factory, "PUMP-10")
    assert on_hand == before[0] - 4 and reserved == before[1] - 2
    async with session_factory() as session:
        rounds = list(
            await session.scalars(
                select(Dispatch.tracking_number)
                .where(Dispatch.order_id == order.id)
                .order_by(Dispatch.round)
            )
        )
    assert rounds == ["SF1234567890", "SF2222222222"]


async def test_stock_never_goes_negative_when_two_orders_dispatch_the_last_unit(
    env, session_factory, settings, worker
):
    async with session_factory() as session:
        await session.execute(
            update(Product).where(Product.code == "LATHE-50").values(stock_on_hand=1, reserved=0)
        )
        await session.commit()
    first, _ = await confirmed_order(env, session_factory, settings, code="LATHE-50", quantity="1")
    # the second order is above available stock: the warehouse approves it in stage 2
    second, _ = await confirmed_order(
        env, session_factory, settings, code="LATHE-50", quantity="1",
        approvers=("sales_manager", "warehouse"),
    )  # fmt: skip
    for order in (first, second):
        await plan(env, session_factory, order)
    results = await asyncio.gather(
        dispatch(env, session_factory, first), dispatch(env, session_factory, second),
        return_exceptions=True,
    )  # fmt: skip
    refused = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert len(refused) == 1
    assert "Not enough LATHE-50 to dispatch" in refused[0].cause.message
    assert await stock(session_factory, "LATHE-50") == (Decimal("0"), Decimal("1"))


@pytest.mark.parametrize(
    ("who", "shift", "expected"),
    [
        ("warehouse", [0, 1, 2], NOT_ASSIGNEE),  # the warehouse does not plan
        ("ops", [-1, 0, 1], INVALID),  # a date in the past
        ("ops", [0, 2, 1], INVALID),  # out of order
    ],
)
async def test_bad_plans_are_refused_and_change_nothing(
    env, session_factory, settings, worker, who, shift, expected
):
    order, _ = await confirmed_order(env, session_factory, settings)
    plan_todo = await todo(session_factory, order, "plan_shipment")
    first = await today(env)
    milestones = [
        PlannedMilestone(code=code, planned_date=first + timedelta(days=days))
        for code, days in zip(MILESTONES[ShippingMode.domestic], shift, strict=True)
    ]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await shipment_of(env, order).execute_update(
            ShipmentWorkflow.plan,
            PlanShipment(
                todo_key=plan_todo.key,
                actor=await helpers.actor(session_factory, who),
                milestones=milestones,
            ),
        )
    assert refused.value.cause.type == expected
    assert await milestones_of(session_factory, order) == {}
    assert (await todo(session_factory, order, "plan_shipment")).status == "open"


async def test_a_dispatch_without_tracking_number_is_refused(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings)
    await plan(env, session_factory, order)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await dispatch(env, session_factory, order, tracking=" ")
    assert refused.value.cause.message == "Give the tracking number."
    assert (await saved(session_factory, order)).shipment_status == "awaiting_dispatch"


async def test_a_defect_at_acceptance_opens_an_exception_of_its_own_kind(
    env, session_factory, settings, worker
):
    order, _ = await confirmed_order(env, session_factory, settings, code="CNC-200", quantity="1")
    await plan(env, session_factory, order)
    await dispatch(env, session_factory, order)
    ops = await helpers.actor(session_factory, "ops")
    service = await helpers.actor(session_factory, "service")
    arrival = await todo(session_factory, order, "confirm_arrival")
    shipment = shipment_of(env, order)
    await shipment.execute_update(
        ShipmentWorkflow.confirm_arrival,
        ArrivalConfirmation(actual_date=await today(env), actor=ops, todo_key=arrival.key),
    )
    acceptance = await todo(session_factory, order, "confirm_acceptance")
    await shipment.execute_update(
        ShipmentWorkflow.confirm_acceptance,
        AcceptanceOutcome(
            todo_key=acceptance.key, actor=service, outcome="defect",
            comment="Spindle vibrates above 3,000 rpm",
        ),
    )  # fmt: skip
    async with session_factory() as session:
        [raised] = await session.scalars(
            select(ShipmentException).where(ShipmentException.order_id == order.id)
        )
    assert (raised.kind, raised.description) == ("defect", "Spindle vibrates above 3,000 rpm")
    assert await todo(session_factory, order, "handle_exception")


# -- milestones are confirmed in the order they happen (issue 16, item 7) ----------------------


def out_of_turn(before: str, code: str) -> str:
    return f"Confirm {before} first: it comes before {code} and is not done yet."


async def confirm(env, order, ops, code: MilestoneCode, day: date, todo_key: str | None = None):
    return await shipment_of(env, order).execute_update(
        ShipmentWorkflow.confirm_milestone,
        MilestoneConfirmation(actor=ops, code=code, actual_date=day, todo_key=todo_key),
    )


async def test_export_arrival_is_refused_while_customs_is_open_and_taken_once_it_is_done(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings, mode="export")
    await plan(env, session_factory, order, "export")
    await dispatch(env, session_factory, order)
    ops = await helpers.actor(session_factory, "ops")
    day = await today(env)
    await confirm(env, order, ops, MilestoneCode.port_departure, day)
    arrival = await todo(session_factory, order, "confirm_arrival")
    shipment = shipment_of(env, order)
    arrived = ArrivalConfirmation(actual_date=day, actor=ops, todo_key=arrival.key)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await shipment.execute_update(ShipmentWorkflow.confirm_arrival, arrived)
    assert refused.value.cause.type == NOT_OPEN
    assert refused.value.cause.message == out_of_turn("customs_declaration", "arrival")
    # an earlier milestone skipped is refused on the order page's path too
    with pytest.raises(WorkflowUpdateFailedError) as skipped:
        await confirm(env, order, ops, MilestoneCode.commodity_inspection, day)
    assert skipped.value.cause.message == out_of_turn("customs_declaration", "commodity_inspection")
    assert (await milestones_of(session_factory, order))["commodity_inspection"][1] is None
    assert (await saved(session_factory, order)).shipment_status == "in_transit"

    await confirm(env, order, ops, MilestoneCode.customs_declaration, day)
    with pytest.raises(WorkflowUpdateFailedError) as still:
        await shipment.execute_update(ShipmentWorkflow.confirm_arrival, arrived)
    assert still.value.cause.message == out_of_turn("commodity_inspection", "arrival")
    await confirm(env, order, ops, MilestoneCode.commodity_inspection, day)
    done = await shipment.execute_update(ShipmentWorkflow.confirm_arrival, arrived)

    assert done.stage == Stage.collection  # a pump needs no installation
    assert (await shipment.result()).accepted_on == day
    assert all(
        actual == day for _, actual in (await milestones_of(session_factory, order)).values()
    )


async def test_the_customers_arrival_link_gives_ops_a_to_do_per_milestone_left_open(
    env, session_factory, settings, worker
):
    order, handle = await confirmed_order(env, session_factory, settings, mode="export")
    await plan(env, session_factory, order, "export", start=2)
    await dispatch(env, session_factory, order)
    day = await today(env)
    async with session_factory() as session:
        contact_id = await session.scalar(
            select(Contact.id).where(Contact.customer_id == order.customer_id)
        )
    shipment = shipment_of(env, order)
    # the customer's link cannot be refused: the goods are there
    done = await shipment.execute_update(
        ShipmentWorkflow.confirm_arrival,
        ArrivalConfirmation(actual_date=day, contact_id=contact_id),
    )
    assert done.stage == Stage.collection

    asked = await helpers.open_todos(session_factory, order, "confirm_milestone", at_least=3)
    left_open = ["port_departure", "customs_declaration", "commodity_inspection"]
    assert [t.facts["code"] for t in asked] == left_open
    assert {t.facts["arrived_on"] for t in asked} == {day.isoformat()}
    # the order moves on to collection while the to-dos stay open
    for _ in range(100):
        if (await handle.describe()).typed_search_attributes.get(STAGE) == "collection":
            break
        await asyncio.sleep(0.05)
    assert (await handle.describe()).typed_search_attributes.get(STAGE) == "collection"
    assert await handle.query("status") == Stage.collection
    assert (await saved(session_factory, order)).shipment_status == "accepted"
    assert (await shipment.describe()).status == WorkflowExecutionStatus.RUNNING

    ops = await helpers.actor(session_factory, "ops")
    by_code = {t.facts["code"]: t.key for t in asked}
    with pytest.raises(WorkflowUpdateFailedError) as skipped:  # still in their order
        await confirm(env, order, ops, MilestoneCode.customs_declaration, day,
                      by_code["customs_declaration"])  # fmt: skip
    assert skipped.value.cause.message == out_of_turn("port_departure", "customs_declaration")
    for code in left_open:
        await confirm(env, order, ops, MilestoneCode(code), day, by_code[code])

    assert (await shipment.result()).accepted_on == day
    assert all(
        actual == day for _, actual in (await milestones_of(session_factory, order)).values()
    )
    async with session_factory() as session:
        closed = await session.scalars(select(Todo).where(Todo.key.in_(by_code.values())))
        assert {t.status for t in closed} == {"done"}
