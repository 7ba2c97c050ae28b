"""Records the workflow histories that tests/workflows/test_replay.py replays.

    .venv/bin/python -m tests.histories.record [--overwrite] [--out DIR]

Each scenario drives real orders through the real worker on the time-skipping test server over
a fresh, seeded SQLite file, then saves the history of the order's workflow and of each of its
approval rounds as `<scenario>[.<child>].json`: {"workflow_id": ..., "history": ...}.

Existing files are kept unless --overwrite is given. When workflow code changes the commands it
issues (behind `workflow.patched`), keep the old files, which prove that running orders still
replay, and record the new path under a new name beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from uuid import uuid4

from sqlalchemy import select
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from models.db import SessionFactory, create_engine, create_session_factory
from models.domain import (
    AcceptanceOutcome,
    ArrivalConfirmation,
    MilestoneCode,
    MilestoneConfirmation,
)
from models.domain.changes import LineChange
from models.seed import seed_demo
from models.tables import Contact, Order, Product
from settings import Settings, venv_binary
from tests import helpers
from tests.conftest import DEMO_PASSWORD, migrate
from tests.workflows.test_order import decide, edit, estimate, revise
from web.temporal import SEARCH_ATTRIBUTES
from worker import build_worker
from workflows.shipment import ShipmentWorkflow

HERE = Path(__file__).resolve().parent
TASK_QUEUE: ContextVar[str] = ContextVar("TASK_QUEUE")
Scenario = Callable[[WorkflowEnvironment, SessionFactory], Awaitable[Order]]


def recorded(workflow_id: str, history: WorkflowHistory) -> str:
    return json.dumps({"workflow_id": workflow_id, "history": history.to_json_dict()}, indent=1)


def load(path: Path) -> WorkflowHistory:
    """A recorded history, ready for the Replayer (the workflow id first)."""
    saved = json.loads(path.read_text())
    return WorkflowHistory.from_json(saved["workflow_id"], saved["history"])


async def two_stage_path(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
    """A deep discount: the manager approves stage 1, the director stage 2."""
    order = await helpers.draft(
        session_factory, product_code="CNC-200", quantity="1", discount_percent="25"
    )
    await helpers.submit(env.client, session_factory, order, TASK_QUEUE.get())
    await estimate(env.client, session_factory, order, unit_cost="200000")
    await decide(env.client, session_factory, order, "sales_manager")
    await decide(env.client, session_factory, order, "director")
    return order


async def escalated_path(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
    """The manager lets the approval lie: reminded after one working day, escalated to the
    director after two, who approves."""
    order = await helpers.draft(session_factory)
    await helpers.submit(env.client, session_factory, order, TASK_QUEUE.get())
    await estimate(env.client, session_factory, order)
    await env.sleep(timedelta(days=5))  # at least two working days, whatever the weekday
    await decide(env.client, session_factory, order, "director")
    return order


async def export_shipment_path(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
    """An export order with a machine to install, through its six milestones, arrival and
    service's acceptance."""
    from tests.workflows import test_shipment as shipping  # the shipment tests' steps

    order, _ = await shipping.confirmed_order(
        env,
        session_factory,
        SimpleNamespace(task_queue=TASK_QUEUE.get()),
        code="CNC-200",
        quantity="1",
        mode="export",
    )
    await shipping.plan(env, session_factory, order, "export")
    await shipping.dispatch(env, session_factory, order)
    ops = await helpers.actor(session_factory, "ops")
    day = await shipping.today(env)
    shipment = shipping.shipment_of(env, order)
    for code in (
        MilestoneCode.port_departure,
        MilestoneCode.customs_declaration,
        MilestoneCode.commodity_inspection,
    ):
        await shipment.execute_update(
            ShipmentWorkflow.confirm_milestone,
            MilestoneConfirmation(actor=ops, code=code, actual_date=day),
        )
    arrival = await shipping.todo(session_factory, order, "confirm_arrival")
    await shipment.execute_update(
        ShipmentWorkflow.confirm_arrival,
        ArrivalConfirmation(actual_date=day, actor=ops, todo_key=arrival.key),
    )
    acceptance = await shipping.todo(session_factory, order, "confirm_acceptance")
    await shipment.execute_update(
        ShipmentWorkflow.confirm_acceptance,
        AcceptanceOutcome(
            todo_key=acceptance.key,
            actor=await helpers.actor(session_factory, "service"),
            outcome="accepted",
            accepted_on=day,
            signed_by="Xu Ming",
        ),
    )
    await shipment.result()
    return order


async def arrival_backfill_path(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
    """An export order whose customer confirms arrival by the link in the dispatch mail while
    port departure, customs and inspection are open: the order moves on to collection, ops
    fill in the three milestones' dates from their to-dos, and the shipment ends."""
    from tests.workflows import test_shipment as shipping  # the shipment tests' steps

    order, _ = await shipping.confirmed_order(
        env, session_factory, SimpleNamespace(task_queue=TASK_QUEUE.get()), mode="export"
    )
    await shipping.plan(env, session_factory, order, "export", start=2)
    await shipping.dispatch(env, session_factory, order)
    day = await shipping.today(env)
    shipment = shipping.shipment_of(env, order)
    async with session_factory() as session:
        contact_id = await session.scalar(
            select(Contact.id).where(Contact.customer_id == order.customer_id)
        )
    await shipment.execute_update(
        ShipmentWorkflow.confirm_arrival,
        ArrivalConfirmation(actual_date=day, contact_id=contact_id),
    )
    ops = await helpers.actor(session_factory, "ops")
    for asked in await helpers.open_todos(session_factory, order, "confirm_milestone", at_least=3):
        await shipping.confirm(env, order, ops, MilestoneCode(asked.facts["code"]), day, asked.key)
    await shipment.result()
    return order


async def collection_path(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
    """A 30/60/10 order: the deposit paid, the goods accepted, then the rest paid in two
    payments (registered by the owner, confirmed by finance) until the collection completes."""
    from tests.workflows import test_collection as collecting  # the collection tests' steps

    order, _ = await collecting.confirmed_order(
        env,
        session_factory,
        SimpleNamespace(task_queue=TASK_QUEUE.get()),
        plan_items=collecting.PLAN_30_60_10,
    )
    amounts = [amount for amount, _, _ in await collecting.installments(session_factory, order)]
    await collecting.pay(env, session_factory, order, str(amounts[0]), "DEPOSIT-1")
    await collecting.accept(env, session_factory, order)
    await collecting.pay(env, session_factory, order, str(amounts[1]), "PAY-2")
    await collecting.pay(env, session_factory, order, str(amounts[2]), "RETENTION-3")
    await collecting.collection_of(env, order).result()
    return order


async def closed_path(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
    """Paid in one payment (ops are asked for the costs), the costs recorded 10 % above the
    estimate and approved by finance, the goods accepted, the variance explained by ops and
    approved by the operations manager: the order closes and its workflow completes."""
    from tests.workflows import test_costs as costing  # the cost tests' steps

    return await costing.closed_path(
        env, session_factory, SimpleNamespace(task_queue=TASK_QUEUE.get())
    )


async def cancel_in_approval_path(
    env: WorkflowEnvironment, session_factory: SessionFactory
) -> Order:
    """The owner cancels the order while its approval round waits for the manager: the round
    ends by its own code path and the order ends cancelled."""
    from tests.workflows import test_cancellation as cancelling  # the cancellation tests' steps

    order = await helpers.draft(session_factory)
    await helpers.submit(env.client, session_factory, order, TASK_QUEUE.get())
    await estimate(env.client, session_factory, order)
    await helpers.open_todos(session_factory, order, "approve")
    await cancelling.cancel(env, session_factory, order, code="price", why="Found cheaper")
    return order


async def cancel_after_confirmation_path(
    env: WorkflowEnvironment, session_factory: SessionFactory
) -> Order:
    """A confirmed 30/60/10 order, its deposit paid and invoiced, is cancelled with the
    manager's approval: the shipment and the collection end by their own code paths, finance
    refund the deposit and issue the credit note, and the order ends cancelled."""
    from tests.workflows import test_cancellation as cancelling
    from tests.workflows import test_collection as collecting

    order, _ = await collecting.confirmed_order(
        env,
        session_factory,
        SimpleNamespace(task_queue=TASK_QUEUE.get()),
        plan_items=collecting.PLAN_30_60_10,
    )
    deposit = (await collecting.installments(session_factory, order))[0][0]
    await collecting.pay(env, session_factory, order, str(deposit), "DEP-1")
    await cancelling.issue_invoice(env, session_factory, order, str(deposit), "INV-C1")
    await cancelling.request_and_approve(env, session_factory, order)
    await cancelling.refund(env, session_factory, order, str(deposit), "RF-1")
    await cancelling.credit(env, session_factory, order, "CN-C1")
    return order


async def change_approved_path(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
    """A confirmed 30/60/10 order, its deposit paid and its shipment planned: the owner asks for
    a third pump, the manager approves, the order becomes revision 2, the collection takes the
    new installments and the shipment the change (a replan to-do for ops)."""
    from tests.workflows import test_change_pricing as pricing  # the change's estimate
    from tests.workflows import test_changes as changing  # the change tests' steps
    from tests.workflows import test_collection as collecting
    from tests.workflows import test_shipment as shipping

    order, _ = await collecting.confirmed_order(
        env,
        session_factory,
        SimpleNamespace(task_queue=TASK_QUEUE.get()),
        plan_items=collecting.PLAN_30_60_10,
    )
    await collecting.pay(env, session_factory, order, "5100.00", "DEP-1")
    await shipping.plan(env, session_factory, order)
    await changing.quantity_change(env, session_factory, order, "3", priced=False)
    # Recorded before pricing was asked again for a change of quantities; now it is.
    [line] = await changing.line_ids(session_factory, order)
    await pricing.estimate_change(env, session_factory, order, {line: "1000"})
    await changing.decide_change(env, session_factory, order, "sales_manager")
    await changing.settled(session_factory, order, "approved")
    await helpers.open_todos(session_factory, order, "replan_shipment")
    return order


async def change_priced_path(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
    """A confirmed order whose shipment is planned: the owner asks for a third pump and a new
    line of valves, pricing estimate the order as changed (the new line as -1), the manager
    approves on that margin, and the order becomes revision 2 with the new expected cost."""
    from tests.workflows import test_change_pricing as pricing  # the change's estimate
    from tests.workflows import test_changes as changing
    from tests.workflows import test_collection as collecting
    from tests.workflows import test_shipment as shipping

    order, _ = await collecting.confirmed_order(
        env, session_factory, SimpleNamespace(task_queue=TASK_QUEUE.get())
    )
    await shipping.plan(env, session_factory, order)
    [line] = await changing.line_ids(session_factory, order)
    async with session_factory() as session:
        valve = await session.scalar(select(Product).where(Product.code == "VALVE-3"))
    lines = [
        LineChange(line_id=line, quantity=Decimal("3")),
        LineChange(product_id=valve.id, quantity=Decimal("5")),
    ]
    await changing.request_change(env, session_factory, order, lines=lines)
    await pricing.estimate_change(env, session_factory, order, {line: "1100", -1: "600"}, "200")
    await changing.decide_change(env, session_factory, order, "sales_manager")
    await changing.settled(session_factory, order, "approved")
    await helpers.open_todos(session_factory, order, "replan_shipment")
    return order


async def return_path(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
    """A 30/60/10 order of two pumps, accepted, its deposit and second installment paid and
    invoiced: the owner asks to return one pump, the manager approves, the warehouse restock
    it; the retention is taken off, finance refund and credit what was paid and invoiced above
    the new net total."""
    from tests.workflows import test_cancellation as cancelling
    from tests.workflows import test_collection as collecting
    from tests.workflows import test_returns as returning  # the return tests' steps

    order, _ = await collecting.confirmed_order(
        env,
        session_factory,
        SimpleNamespace(task_queue=TASK_QUEUE.get()),
        plan_items=collecting.PLAN_30_60_10,
    )
    amounts = [amount for amount, _, _ in await collecting.installments(session_factory, order)]
    await collecting.pay(env, session_factory, order, str(amounts[0]), "DEP-1")
    await collecting.accept(env, session_factory, order)
    await collecting.pay(env, session_factory, order, str(amounts[1]), "PAY-2")
    paid = amounts[0] + amounts[1]
    await cancelling.issue_invoice(env, session_factory, order, str(paid), "INV-R1")
    await returning.ask(env, session_factory, order, "1")
    await returning.approve(env, session_factory, order)
    await returning.receive(env, session_factory, order, ("1", "restock"))
    [refund] = await helpers.open_todos(session_factory, order, "confirm_refund")
    await cancelling.refund(env, session_factory, order, refund.facts["amount"], "RF-R1")
    await cancelling.credit(env, session_factory, order, "CN-R1")
    return order


async def cancel_in_transit_path(
    env: WorkflowEnvironment, session_factory: SessionFactory
) -> Order:
    """A confirmed 30/60/10 order of two pumps, its deposit paid and invoiced, dispatched, is
    cancelled with the manager's approval: the shipment ends, everything dispatched comes back
    through a return the warehouse receive, finance refund the deposit and credit the invoice,
    and the order ends cancelled."""
    from tests.workflows import test_cancellation as cancelling
    from tests.workflows import test_collection as collecting
    from tests.workflows import test_returns as returning
    from tests.workflows import test_shipment as shipping

    order, _ = await collecting.confirmed_order(
        env,
        session_factory,
        SimpleNamespace(task_queue=TASK_QUEUE.get()),
        plan_items=collecting.PLAN_30_60_10,
        quantity="2",
    )
    deposit = (await collecting.installments(session_factory, order))[0][0]
    await collecting.pay(env, session_factory, order, str(deposit), "DEP-1")
    await cancelling.issue_invoice(env, session_factory, order, str(deposit), "INV-T1")
    await shipping.plan(env, session_factory, order)
    await shipping.dispatch(env, session_factory, order)
    await cancelling.request_and_approve(env, session_factory, order)
    await helpers.open_todos(session_factory, order, "receive_return")
    await cancelling.refund(env, session_factory, order, str(deposit), "RF-T1")
    await cancelling.credit(env, session_factory, order, "CN-T1")
    await returning.receive(env, session_factory, order, ("2", "restock"))
    return order


async def partial_dispatch_path(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
    """Two lines dispatched in two rounds: 2 of 5 pumps first, a day later the rest (a new
    confirm_dispatch to-do), then the arrival; the order goes on to collection."""
    from tests.workflows import test_partial_dispatch as parts  # the partial dispatch's steps
    from tests.workflows import test_shipment as shipping

    order, line = await parts.two_line_order(
        env, session_factory, SimpleNamespace(task_queue=TASK_QUEUE.get())
    )
    await parts.send(env, session_factory, order, lines={line["PUMP-10"]: "2"})
    await env.sleep(timedelta(days=1))
    await parts.send(env, session_factory, order, tracking="SF2")
    arrival = await shipping.todo(session_factory, order, "confirm_arrival")
    shipment = shipping.shipment_of(env, order)
    await shipment.execute_update(
        ShipmentWorkflow.confirm_arrival,
        ArrivalConfirmation(
            actual_date=await shipping.today(env),
            actor=await helpers.actor(session_factory, "ops"),
            todo_key=arrival.key,
        ),
    )
    await shipment.result()
    return order


def classic(scenario: Callable[[Client, SessionFactory, Order], Awaitable[None]]) -> Scenario:
    """A scenario of the first recordings: the usual draft, then what people do."""

    async def run(env: WorkflowEnvironment, session_factory: SessionFactory) -> Order:
        order = await helpers.draft(session_factory)
        await helpers.submit(env.client, session_factory, order, TASK_QUEUE.get())
        await scenario(env.client, session_factory, order)
        return order

    return run


async def approve_path(client: Client, session_factory: SessionFactory, order: Order) -> None:
    await estimate(client, session_factory, order)
    await decide(client, session_factory, order, "sales_manager")


async def reject_resubmit_path(
    client: Client, session_factory: SessionFactory, order: Order
) -> None:
    await estimate(client, session_factory, order)
    await decide(client, session_factory, order, "sales_manager", "reject", "Discount too small")
    await edit(session_factory, order, discount_percent="5")
    await revise(client, session_factory, order)
    await decide(client, session_factory, order, "sales_manager")


async def reject_new_estimate_path(
    client: Client, session_factory: SessionFactory, order: Order
) -> None:
    await estimate(client, session_factory, order)
    await decide(client, session_factory, order, "sales_manager", "reject", "Quantity too small")
    await edit(session_factory, order, quantity="3")
    await revise(client, session_factory, order)
    await estimate(client, session_factory, order, unit_cost="5200")
    await decide(client, session_factory, order, "sales_manager")


async def withdraw_path(client: Client, session_factory: SessionFactory, order: Order) -> None:
    await estimate(client, session_factory, order)
    await decide(client, session_factory, order, "sales_manager", "reject", "Customer over limit")
    await revise(client, session_factory, order, "withdraw", "Customer bought elsewhere")


# scenario name -> (the order and what people do with it, approval rounds it has). The first four
# were recorded before approval rounds had SLA timers, the next two before one step per
# decision; they prove that orders started then still replay.
SCENARIOS: dict[str, tuple[Scenario, int]] = {
    "approve_path": (classic(approve_path), 1),
    "reject_resubmit_path": (classic(reject_resubmit_path), 2),
    "reject_new_estimate_path": (classic(reject_new_estimate_path), 2),
    "withdraw_path": (classic(withdraw_path), 1),
    "two_stage_path": (two_stage_path, 1),
    "escalated_path": (escalated_path, 1),
    # Recorded after one step per decision (the estimate's step opens the round's first stage;
    # the decision that passes a stage opens the next; the last one confirms the order).
    "approve_one_step_path": (classic(approve_path), 1),
    "two_stage_one_step_path": (two_stage_path, 1),
    "reject_resubmit_one_step_path": (classic(reject_resubmit_path), 2),
    # Recorded after fulfilment: the order goes on into its shipment child.
    "export_shipment_path": (export_shipment_path, 1),
    # Recorded after collection: the order starts its collection beside the shipment, which
    # tells it of the dispatch.
    "collection_path": (collection_path, 1),
    # Recorded after closing: actual costs, the variance review and the closed order.
    "closed_path": (closed_path, 1),
    # Recorded after a person's action is written only once the engine accepted it: each
    # update handler's step is a regular activity (steps.ACCEPTED_BEFORE_WRITTEN).
    "accepted_before_written_path": (closed_path, 1),
    # Recorded after milestones are confirmed in their order: the customer's arrival link with
    # earlier milestones open (shipment.BACKFILL_AFTER_ARRIVAL).
    "arrival_backfill_path": (arrival_backfill_path, 1),
    # Recorded after cancellation: before confirmation (the round withdrawn) and after it (the
    # children stopped, the refund and the credit note).
    "cancel_in_approval_path": (cancel_in_approval_path, 1),
    "cancel_after_confirmation_path": (cancel_after_confirmation_path, 1),
    # Recorded after change requests: a change approved in its own round, applied, handed to the
    # collection and the shipment (`<name>.change_1.json` is the change's round).
    "change_approved_path": (change_approved_path, 1),
    # Recorded after pricing is asked again for a change of products or quantities (its
    # estimate_cost to-do, the round routed on its margin, the order taking its estimate), and
    # after the order's workflow numbers the change's round (order_state.ROUNDS_NUMBERED_APART).
    "change_priced_path": (change_priced_path, 1),
    # Recorded after returns: a return approved in its own round (`<name>.return_1.json`),
    # received, its money refunded and credited.
    "return_path": (return_path, 1),
    # Recorded after a cancellation after dispatch takes the goods back (issue 17): the
    # shipment withdrawn after dispatch, the return of everything, refund and credit note.
    "cancel_in_transit_path": (cancel_in_transit_path, 1),
    # Recorded after partial dispatch (shipment_state.PARTIAL_DISPATCH): part of the goods
    # left, the rest in a second round on a later day, then the arrival.
    "partial_dispatch_path": (partial_dispatch_path, 1),
}
# Scenarios that take the same steps as another and mark only the code they were recorded on:
# recorded afresh on today's code, each gives its twin's history.
TWINS = frozenset(
    {
        "approve_one_step_path",
        "two_stage_one_step_path",
        "reject_resubmit_one_step_path",
        "accepted_before_written_path",
    }
)
# Scenarios whose shipment child is recorded too (`<name>.shipment.json`).
WITH_SHIPMENT = {
    "export_shipment_path",
    "collection_path",
    "closed_path",
    "accepted_before_written_path",
    "arrival_backfill_path",
    "cancel_after_confirmation_path",
    "change_approved_path",
    "change_priced_path",
    "return_path",
    "cancel_in_transit_path",
    "partial_dispatch_path",
}
# ... and whose collection child is (`<name>.collection.json`).
WITH_COLLECTION = {
    "collection_path",
    "closed_path",
    "accepted_before_written_path",
    "cancel_after_confirmation_path",
    "change_approved_path",
    "change_priced_path",
    "return_path",
    "cancel_in_transit_path",
}
# ... and whose first change request's approval round is (`<name>.change_1.json`).
WITH_CHANGE = {"change_approved_path", "change_priced_path"}
# ... and whose first return's approval round is (`<name>.return_1.json`).
WITH_RETURN = {"return_path"}
# Scenarios whose order ends without being confirmed (its result is awaited instead).
ENDS_UNCONFIRMED = {
    "withdraw_path",
    "cancel_in_approval_path",
    "cancel_after_confirmation_path",
    "cancel_in_transit_path",
}


async def record(
    env: WorkflowEnvironment,
    session_factory: SessionFactory,
    settings: Settings,
    out: Path,
    *,
    overwrite: bool = False,
    leave_out: frozenset[str] = frozenset(),
) -> list[Path]:
    """Run every scenario (but those left out) with a worker on a fresh task queue and save its
    histories in out."""
    written: list[Path] = []
    client = env.client
    TASK_QUEUE.set(settings.task_queue)
    async with build_worker(client, session_factory, settings):
        for name, (scenario, rounds) in SCENARIOS.items():
            if name in leave_out:
                continue
            order = await scenario(env, session_factory)
            handle = client.get_workflow_handle(f"order-{order.number}")
            if name in ENDS_UNCONFIRMED:
                await handle.result()
            elif name not in WITH_SHIPMENT:
                await helpers.confirmed(handle, session_factory, order)
            files = {f"{name}.json": handle.id}
            if name in WITH_SHIPMENT:
                files[f"{name}.shipment.json"] = f"{handle.id}/shipment"
            if name in WITH_COLLECTION:
                files[f"{name}.collection.json"] = f"{handle.id}/collection"
            if name in WITH_CHANGE:
                files[f"{name}.change_1.json"] = f"{handle.id}/change/1/approval"
            if name in WITH_RETURN:
                files[f"{name}.return_1.json"] = f"{handle.id}/return/1/approval"
            for n in range(1, rounds + 1):
                files[f"{name}.approval_{n}.json"] = f"{handle.id}/approval/{n}"
            for filename, workflow_id in files.items():
                path = out / filename
                if path.exists() and not overwrite:
                    continue
                history = await client.get_workflow_handle(workflow_id).fetch_history()
                path.write_text(recorded(workflow_id, history) + "\n")
                written.append(path)
    return written


async def main(out: Path, overwrite: bool) -> list[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'o2c.db'}"
        await asyncio.to_thread(migrate, url)  # alembic's env.py runs its own event loop
        engine = create_engine(url)
        session_factory = create_session_factory(engine)
        async with session_factory() as session:
            await seed_demo(session, DEMO_PASSWORD)
        settings = Settings(
            database_url=url,
            base_url="http://testserver",
            secret_key="record",
            task_queue=f"record-{uuid4()}",
            smtp_host=None,
        )
        try:
            async with await WorkflowEnvironment.start_time_skipping(
                data_converter=pydantic_data_converter,
                test_server_existing_path=venv_binary("temporal-test-server"),
            ) as env:
                await env.client.operator_service.add_search_attributes(
                    AddSearchAttributesRequest(
                        namespace=env.client.namespace,
                        search_attributes={
                            name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
                            for name, kind in SEARCH_ATTRIBUTES.items()
                        },
                    )
                )
                return await record(env, session_factory, settings, out, overwrite=overwrite)
        finally:
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    args = parser.parse_args()
    for path in asyncio.run(main(args.out, args.overwrite)):
        sys.stdout.write(f"wrote {path}\n")
