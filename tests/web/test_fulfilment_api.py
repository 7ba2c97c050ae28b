"""Fulfilment through the JSON API: who may plan, dispatch, confirm and report what, how bad
input is refused (and changes nothing), the warehouse's queue, and the order's shipment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from models.tables import (
    Dispatch,
    Milestone,
    Order,
    ShipmentException,
    StockReservation,
    Todo,
    TodoAssignee,
    User,
)
from tests.web.test_orders_api import order_body, submitted_order, todo_of
from tests.web.test_todos_api import estimated
from worker import build_worker

TODAY = datetime.now(UTC).date()
DOMESTIC = ("picking", "dispatch", "arrival")
EXPORT = (
    "picking",
    "dispatch",
    "port_departure",
    "customs_declaration",
    "commodity_inspection",
    "arrival",
)


@dataclass
class Shipment:
    """An order in fulfilment, built row by row (as the shipment workflow's steps would)."""

    number: str
    order_id: int
    todos: dict[str, int] = field(default_factory=dict)


async def fulfilment_order(
    api,
    session_factory,
    *,
    owner: str = "sales",
    mode: str = "domestic",
    status: str | None = "planning",
    milestones: list[tuple[str, date, date | None]] | None = None,
    delayed: bool = False,
    reserve: bool = False,
    dispatched: bool | None = None,
) -> Shipment:
    """A draft entered through the API, then moved to the fulfilment stage in the database
    with the given shipment status and milestones (code, planned, actual); once on its way,
    with its dispatch."""
    client = await api(owner)
    created = await client.post("/api/v1/orders", json=order_body(shipping_mode=mode))
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    now = datetime.now(UTC)
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        order.stage = "fulfilment" if status else "confirmed"
        order.shipment_status = status
        order.submitted_at = order.confirmed_at = now
        order.delayed = delayed
        for position, (code, planned_on, actual_on) in enumerate(milestones or []):
            session.add(
                Milestone(
                    order_id=order.id,
                    position=position,
                    code=code,
                    planned_on=planned_on,
                    actual_on=actual_on,
                )
            )
        if dispatched is None:
            dispatched = status in ("in_transit", "arrived", "accepted")
        if dispatched:
            session.add(
                Dispatch(
                    order_id=order.id,
                    round=1,
                    carrier="SF Express",
                    tracking_number="SF1000",
                    dispatched_on=TODAY,
                    created_at=now,
                )
            )
        if reserve:
            await session.refresh(order, ["lines"])
            for line in order.lines:
                session.add(
                    StockReservation(
                        order_line_id=line.id,
                        round=1,
                        product_id=line.product_id,
                        quantity=line.quantity,
                        reserved_at=now,
                    )
                )
        await session.commit()
        return Shipment(number=number, order_id=order.id)


async def open_todo(
    session_factory,
    shipment: Shipment,
    kind: str,
    role: str,
    *,
    facts: dict[str, Any] | None = None,
) -> int:
    """An open to-do of the shipment workflow, assigned to everyone with the role."""
    now = datetime.now(UTC)
    async with session_factory() as session:
        todo = Todo(
            key=f"order-{shipment.number}/shipment/{kind}/{len(shipment.todos) + 1}",
            order_id=shipment.order_id,
            workflow_id=f"order-{shipment.number}/shipment",
            kind=kind,
            status="open",
            created_at=now,
            due_at=now + timedelta(days=1),
            facts=facts,
            assignees=[TodoAssignee(role=role, status="open", created_at=now)],
        )
        session.add(todo)
        await session.commit()
        shipment.todos[kind] = todo.id
        return todo.id


async def snapshot(session_factory, shipment: Shipment) -> dict[str, Any]:
    """What a refused action must leave as it was."""
    async with session_factory() as session:
        order = await session.get(Order, shipment.order_id)
        todos = list(
            await session.execute(
                select(Todo.id, Todo.status, Todo.outcome).where(Todo.order_id == shipment.order_id)
            )
        )
        milestones = list(
            await session.execute(
                select(Milestone.code, Milestone.planned_on, Milestone.actual_on).where(
                    Milestone.order_id == shipment.order_id
                )
            )
        )

        async def count(table) -> int:
            return await session.scalar(
                select(func.count()).select_from(table).where(table.order_id == order.id)
            )

        return {
            "stage": order.stage,
            "shipment_status": order.shipment_status,
            "todos": sorted(todos),
            "milestones": sorted(milestones),
            "dispatches": await count(Dispatch),
            "exceptions": await count(ShipmentException),
        }


def planned(codes=DOMESTIC, start: date = TODAY + timedelta(days=3)) -> list[dict[str, str]]:
    return [
        {"code": code, "planned_date": (start + timedelta(days=i)).isoformat()}
        for i, code in enumerate(codes)
    ]


def domestic_plan(actual_picking: date | None = None) -> list[tuple[str, date, date | None]]:
    return [
        ("picking", TODAY + timedelta(days=1), actual_picking),
        ("dispatch", TODAY + timedelta(days=2), None),
        ("arrival", TODAY + timedelta(days=5), None),
    ]


async def refused(client, path: str, body: dict, status: int, detail: str) -> None:
    response = await client.post(path, json=body)
    assert response.status_code == status, response.text
    assert response.json()["detail"] == detail


# --- planning -------------------------------------------------------------------------------


async def test_warehouse_cannot_plan_the_shipment_dates(api, session_factory):
    shipment = await fulfilment_order(api, session_factory)
    todo_id = await open_todo(session_factory, shipment, "plan_shipment", "ops")
    before = await snapshot(session_factory, shipment)
    for intruder in ("warehouse", "director", "service"):
        await refused(
            await api(intruder),
            f"/api/v1/todos/{todo_id}/complete",
            {"outcome": "planned", "milestones": planned()},
            403,
            "This to-do is not assigned to you.",
        )
    assert await snapshot(session_factory, shipment) == before


async def test_a_plan_needs_a_date_for_every_milestone_of_the_shipping_mode(api, session_factory):
    shipment = await fulfilment_order(api, session_factory, mode="export")
    todo_id = await open_todo(session_factory, shipment, "plan_shipment", "ops")
    before = await snapshot(session_factory, shipment)
    ops = await api("ops")
    path = f"/api/v1/todos/{todo_id}/complete"
    without_date = planned(EXPORT)
    without_date[3] = {"code": "customs_declaration"}
    cases = [
        (
            {"outcome": "planned"},
            "Give a planned date for milestone picking.",
        ),
        (
            {"outcome": "planned", "milestones": without_date},
            "Give a planned date for milestone customs_declaration.",
        ),
        (
            {"outcome": "planned", "milestones": planned(EXPORT[:-1])},
            "Give a planned date for milestone arrival.",
        ),
        (
            {"outcome": "planned", "milestones": [*planned(EXPORT), planned(["teleport"])[0]]},
            "There is no milestone teleport.",
        ),
        (
            {"outcome": "planned", "milestones": planned(EXPORT) + planned(["picking"])},
            "Milestone picking is given twice.",
        ),
        (
            {"outcome": "scheduled", "milestones": planned(EXPORT)},
            "The outcome must be one of: planned.",
        ),
    ]
    for body, detail in cases:
        await refused(ops, path, body, 422, detail)
    bad_date = await ops.post(
        path,
        json={"outcome": "planned", "milestones": [{"code": "picking", "planned_date": "soon"}]},
    )
    assert bad_date.status_code == 422
    assert bad_date.json() == {
        "detail": "Milestone 1: the planned date must be a date (year-month-day).",
        "field": "milestones[0].planned_date",
    }
    assert await snapshot(session_factory, shipment) == before


async def test_a_domestic_plan_cannot_name_an_export_milestone(api, session_factory):
    shipment = await fulfilment_order(api, session_factory)
    todo_id = await open_todo(session_factory, shipment, "plan_shipment", "ops")
    await refused(
        await api("ops"),
        f"/api/v1/todos/{todo_id}/complete",
        {"outcome": "planned", "milestones": planned(("port_departure", *DOMESTIC))},
        422,
        f"Order {shipment.number} has no milestone port_departure.",
    )


async def test_a_valid_plan_goes_to_the_shipment_workflow(api, session_factory):
    """The web passes it on; with no shipment workflow running, the to-do cannot be done."""
    shipment = await fulfilment_order(api, session_factory)
    todo_id = await open_todo(session_factory, shipment, "plan_shipment", "ops")
    await refused(
        await api("ops"),
        f"/api/v1/todos/{todo_id}/complete",
        {"outcome": "planned", "milestones": planned()},
        409,
        "This to-do is no longer open.",
    )


# --- dispatch -------------------------------------------------------------------------------


async def test_a_sales_rep_cannot_confirm_dispatch(api, session_factory):
    shipment = await fulfilment_order(
        api, session_factory, status="awaiting_dispatch", milestones=domestic_plan()
    )
    todo_id = await open_todo(session_factory, shipment, "confirm_dispatch", "warehouse")
    before = await snapshot(session_factory, shipment)
    body = {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": "SF100"}
    for intruder in ("sales", "ops"):
        await refused(
            await api(intruder),
            f"/api/v1/todos/{todo_id}/complete",
            body,
            403,
            "This to-do is not assigned to you.",
        )
    # another rep does not even see the order's to-do
    outsider = await (await api("sales2")).post(f"/api/v1/todos/{todo_id}/complete", json=body)
    assert outsider.status_code == 404
    assert await snapshot(session_factory, shipment) == before


async def test_dispatch_needs_a_carrier_and_a_tracking_number(api, session_factory):
    shipment = await fulfilment_order(
        api, session_factory, status="awaiting_dispatch", milestones=domestic_plan()
    )
    todo_id = await open_todo(session_factory, shipment, "confirm_dispatch", "warehouse")
    before = await snapshot(session_factory, shipment)
    warehouse = await api("warehouse")
    path = f"/api/v1/todos/{todo_id}/complete"
    await refused(
        warehouse,
        path,
        {"outcome": "dispatched", "carrier": "SF Express"},
        422,
        "Give the tracking number.",
    )
    await refused(
        warehouse,
        path,
        {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": "   "},
        422,
        "Give the tracking number.",
    )
    await refused(
        warehouse,
        path,
        {"outcome": "dispatched", "tracking_number": "SF1"},
        422,
        "Name the carrier.",
    )
    assert await snapshot(session_factory, shipment) == before


# --- milestones -----------------------------------------------------------------------------


async def test_only_operations_confirm_or_replan_a_milestone(api, session_factory):
    shipment = await fulfilment_order(
        api, session_factory, status="awaiting_dispatch", milestones=domestic_plan()
    )
    before = await snapshot(session_factory, shipment)
    base = f"/api/v1/orders/{shipment.number}/milestones/picking"
    for intruder in ("sales", "warehouse", "service", "director", "finance"):
        client = await api(intruder)
        await refused(
            client,
            f"{base}/confirm",
            {"actual_date": TODAY.isoformat()},
            403,
            "Only business operations confirm milestones.",
        )
        await refused(
            client,
            f"{base}/replan",
            {"planned_date": TODAY.isoformat(), "reason": "Supplier late"},
            403,
            "Only business operations re-plan milestones.",
        )
    assert await snapshot(session_factory, shipment) == before
    # ops get through to the workflow (none runs here)
    for role in ("ops", "ops_manager"):
        await refused(
            await api(role),
            f"{base}/confirm",
            {"actual_date": TODAY.isoformat()},
            409,
            f"The shipment of order {shipment.number} is not running.",
        )


async def test_milestone_confirmation_and_replan_refuse_bad_input(api, session_factory):
    shipment = await fulfilment_order(
        api,
        session_factory,
        status="awaiting_dispatch",
        milestones=domestic_plan(actual_picking=TODAY),
    )
    before = await snapshot(session_factory, shipment)
    ops = await api("ops")
    orders = f"/api/v1/orders/{shipment.number}/milestones"
    today = {"actual_date": TODAY.isoformat()}
    await refused(ops, f"{orders}/teleport/confirm", today, 422, "There is no milestone teleport.")
    await refused(
        ops,
        f"{orders}/customs_declaration/confirm",
        today,
        422,
        f"Order {shipment.number} has no milestone customs_declaration.",
    )
    await refused(
        ops,
        f"{orders}/dispatch/confirm",
        today,
        422,
        "Dispatch is confirmed by the warehouse, with carrier and tracking.",
    )
    await refused(
        ops, f"{orders}/arrival/confirm", today, 422, "Arrival is confirmed by its to-do."
    )
    await refused(
        ops, f"{orders}/picking/confirm", {}, 422, "Give the date the milestone was done."
    )
    await refused(
        ops, f"{orders}/picking/confirm", today, 409, "Milestone picking is already done."
    )
    replan = {"planned_date": (TODAY + timedelta(days=9)).isoformat(), "reason": "Port strike"}
    await refused(
        ops,
        f"{orders}/arrival/replan",
        {**replan, "reason": " "},
        422,
        "Say why the date moves.",
    )
    await refused(
        ops,
        f"{orders}/arrival/replan",
        {"reason": "Port strike"},
        422,
        "Give the new planned date.",
    )
    await refused(ops, f"{orders}/teleport/replan", replan, 422, "There is no milestone teleport.")
    await refused(
        ops, f"{orders}/picking/replan", replan, 409, "Milestone picking is already done."
    )
    bad_date = await ops.post(f"{orders}/arrival/replan", json={**replan, "planned_date": "May"})
    assert bad_date.status_code == 422
    assert await snapshot(session_factory, shipment) == before


async def test_an_order_without_a_shipment_is_refused(api, session_factory):
    shipment = await fulfilment_order(api, session_factory, status=None)
    ops = await api("ops")
    no_shipment = f"Order {shipment.number} has no shipment yet."
    base = f"/api/v1/orders/{shipment.number}"
    await refused(
        ops,
        f"{base}/milestones/picking/confirm",
        {"actual_date": TODAY.isoformat()},
        409,
        no_shipment,
    )
    await refused(
        ops,
        f"{base}/milestones/picking/replan",
        {"planned_date": TODAY.isoformat(), "reason": "x"},
        409,
        no_shipment,
    )
    await refused(ops, f"{base}/release-hold", {"reason": "Paid by cheque"}, 409, no_shipment)
    await refused(
        ops,
        f"{base}/exceptions",
        {"kind": "damaged", "description": "Crushed box"},
        409,
        no_shipment,
    )


async def test_milestones_not_planned_yet_cannot_be_confirmed(api, session_factory):
    shipment = await fulfilment_order(api, session_factory, status="planning")
    await refused(
        await api("ops"),
        f"/api/v1/orders/{shipment.number}/milestones/picking/confirm",
        {"actual_date": TODAY.isoformat()},
        409,
        "The shipment is not planned yet.",
    )


async def test_a_late_milestone_todo_needs_the_milestone_and_its_date(api, session_factory):
    shipment = await fulfilment_order(
        api, session_factory, status="in_transit", milestones=domestic_plan()
    )
    todo_id = await open_todo(session_factory, shipment, "confirm_milestone", "ops")
    before = await snapshot(session_factory, shipment)
    ops = await api("ops")
    path = f"/api/v1/todos/{todo_id}/complete"
    await refused(
        ops,
        path,
        {"outcome": "done", "actual_date": TODAY.isoformat()},
        422,
        "Say which milestone is done.",
    )
    await refused(
        ops,
        path,
        {"outcome": "done", "code": "picking"},
        422,
        "Give the date the milestone was done.",
    )
    await refused(
        ops,
        path,
        {"outcome": "done", "code": "dispatch", "actual_date": TODAY.isoformat()},
        422,
        "Dispatch is confirmed by the warehouse, with carrier and tracking.",
    )
    await refused(
        await api("warehouse"),
        path,
        {"outcome": "done", "code": "picking", "actual_date": TODAY.isoformat()},
        403,
        "This to-do is not assigned to you.",
    )
    assert await snapshot(session_factory, shipment) == before


async def test_a_late_milestone_todo_knows_its_milestone(api, session_factory):
    """When the to-do names its milestone, the completion need not repeat it."""
    shipment = await fulfilment_order(
        api, session_factory, status="in_transit", milestones=domestic_plan()
    )
    todo_id = await open_todo(
        session_factory, shipment, "confirm_milestone", "ops", facts={"code": "picking"}
    )
    await refused(
        await api("ops"),
        f"/api/v1/todos/{todo_id}/complete",
        {"outcome": "done", "actual_date": TODAY.isoformat()},
        409,  # passed the web's checks; no workflow runs here
        "This to-do is no longer open.",
    )


# --- arrival, acceptance, exceptions, hold --------------------------------------------------


async def test_arrival_acceptance_and_exception_todos_need_their_fields(api, session_factory):
    shipment = await fulfilment_order(
        api, session_factory, status="in_transit", milestones=domestic_plan()
    )
    arrival = await open_todo(session_factory, shipment, "confirm_arrival", "ops")
    acceptance = await open_todo(session_factory, shipment, "confirm_acceptance", "service")
    exception = await open_todo(session_factory, shipment, "handle_exception", "ops")
    before = await snapshot(session_factory, shipment)
    ops, service = await api("ops"), await api("service")
    await refused(
        ops,
        f"/api/v1/todos/{arrival}/complete",
        {"outcome": "arrived"},
        422,
        "Give the date the goods arrived.",
    )
    await refused(
        service,
        f"/api/v1/todos/{acceptance}/complete",
        {"outcome": "accepted", "signed_by": "Xu Ming"},
        422,
        "Give the acceptance date and who signed for the customer.",
    )
    await refused(
        service,
        f"/api/v1/todos/{acceptance}/complete",
        {"outcome": "accepted", "accepted_on": TODAY.isoformat()},
        422,
        "Give the acceptance date and who signed for the customer.",
    )
    await refused(
        service,
        f"/api/v1/todos/{acceptance}/complete",
        {"outcome": "defect", "comment": ""},
        422,
        "Describe the defect.",
    )
    await refused(
        service,
        f"/api/v1/todos/{acceptance}/complete",
        {"outcome": "rejected"},
        422,
        "The outcome must be one of: accepted, defect.",
    )
    await refused(
        ops,
        f"/api/v1/todos/{acceptance}/complete",
        {"outcome": "accepted", "accepted_on": TODAY.isoformat(), "signed_by": "Xu Ming"},
        403,
        "This to-do is not assigned to you.",
    )
    await refused(
        ops,
        f"/api/v1/todos/{exception}/complete",
        {"outcome": "resolved", "reship": True},
        422,
        "Say how the exception was resolved.",
    )
    assert await snapshot(session_factory, shipment) == before


def export_in_transit(customs_done: bool = False) -> list[tuple[str, date, date | None]]:
    """An export order on its way: dispatched and out of port, customs (perhaps) and
    inspection not done."""
    day = TODAY - timedelta(days=2)
    return [
        ("picking", day, day),
        ("dispatch", day, day),
        ("port_departure", day, day),
        ("customs_declaration", TODAY, TODAY if customs_done else None),
        ("commodity_inspection", TODAY + timedelta(days=1), None),
        ("arrival", TODAY + timedelta(days=5), None),
    ]


def confirm_first(before: str, code: str) -> str:
    return f"Confirm {before} first: it comes before {code} and is not done yet."


async def test_arrival_and_later_milestones_are_refused_while_customs_is_not_done(
    api, session_factory
):
    shipment = await fulfilment_order(
        api, session_factory, mode="export", status="in_transit", milestones=export_in_transit()
    )
    arrival = await open_todo(session_factory, shipment, "confirm_arrival", "ops")
    late = await open_todo(
        session_factory,
        shipment,
        "confirm_milestone",
        "ops",
        facts={"code": "commodity_inspection"},
    )
    before = await snapshot(session_factory, shipment)
    ops = await api("ops")
    today = TODAY.isoformat()
    await refused(
        ops,
        f"/api/v1/todos/{arrival}/complete",
        {"outcome": "arrived", "actual_date": today},
        409,
        confirm_first("customs_declaration", "arrival"),
    )
    await refused(
        ops,
        f"/api/v1/todos/{late}/complete",
        {"outcome": "done", "actual_date": today},
        409,
        confirm_first("customs_declaration", "commodity_inspection"),
    )
    await refused(
        ops,
        f"/api/v1/orders/{shipment.number}/milestones/commodity_inspection/confirm",
        {"actual_date": today},
        409,
        confirm_first("customs_declaration", "commodity_inspection"),
    )
    assert await snapshot(session_factory, shipment) == before
    # customs itself is next in turn: the web lets it through to the workflow (none runs here)
    await refused(
        ops,
        f"/api/v1/orders/{shipment.number}/milestones/customs_declaration/confirm",
        {"actual_date": today},
        409,
        f"The shipment of order {shipment.number} is not running.",
    )


async def test_arrival_is_refused_naming_the_one_milestone_still_open(api, session_factory):
    shipment = await fulfilment_order(
        api,
        session_factory,
        mode="export",
        status="in_transit",
        milestones=export_in_transit(customs_done=True),
    )
    arrival = await open_todo(session_factory, shipment, "confirm_arrival", "ops")
    await refused(
        await api("ops"),
        f"/api/v1/todos/{arrival}/complete",
        {"outcome": "arrived", "actual_date": TODAY.isoformat()},
        409,
        confirm_first("commodity_inspection", "arrival"),
    )


async def test_exceptions_are_raised_by_ops_service_or_the_owner_only(api, session_factory):
    shipment = await fulfilment_order(
        api, session_factory, status="in_transit", milestones=domestic_plan()
    )
    before = await snapshot(session_factory, shipment)
    path = f"/api/v1/orders/{shipment.number}/exceptions"
    body = {"kind": "damaged", "description": "Two pumps arrived with cracked housings"}
    for intruder in ("warehouse", "finance", "pricing", "director", "follower"):
        await refused(
            await api(intruder),
            path,
            body,
            403,
            "Exceptions are raised by operations, service or the order's owner.",
        )
    assert await snapshot(session_factory, shipment) == before
    for allowed in ("sales", "ops", "service"):
        await refused(
            await api(allowed),
            path,
            body,
            409,
            f"The shipment of order {shipment.number} is not running.",
        )


async def test_an_exception_needs_a_known_kind_and_a_description(api, session_factory):
    shipment = await fulfilment_order(
        api, session_factory, status="arrived", milestones=domestic_plan()
    )
    before = await snapshot(session_factory, shipment)
    sales = await api("sales")
    path = f"/api/v1/orders/{shipment.number}/exceptions"
    await refused(
        sales,
        path,
        {"kind": "lost", "description": "Never came"},
        422,
        "The kind must be one of: damaged, missing_parts, replacement, reshipment.",
    )
    await refused(  # a defect comes from service's acceptance to-do, not by hand
        sales,
        path,
        {"kind": "defect", "description": "Wobbles"},
        422,
        "The kind must be one of: damaged, missing_parts, replacement, reshipment.",
    )
    await refused(
        sales, path, {"kind": "missing_parts", "description": " "}, 422, "Describe what went wrong."
    )
    assert await snapshot(session_factory, shipment) == before


async def test_an_exception_before_dispatch_or_after_acceptance_is_refused(api, session_factory):
    body = {"kind": "damaged", "description": "Crushed box"}
    ops = await api("ops")
    waiting = await fulfilment_order(
        api, session_factory, status="awaiting_dispatch", milestones=domestic_plan()
    )
    await refused(
        ops,
        f"/api/v1/orders/{waiting.number}/exceptions",
        body,
        409,
        "Nothing has been dispatched yet.",
    )
    accepted = await fulfilment_order(
        api, session_factory, status="accepted", milestones=domestic_plan()
    )
    await refused(
        ops,
        f"/api/v1/orders/{accepted.number}/exceptions",
        body,
        409,
        "The customer has accepted the order.",
    )
    # a reshipment waits for dispatch again, yet the first goods are out: exceptions go on
    reshipping = await fulfilment_order(
        api,
        session_factory,
        status="awaiting_dispatch",
        milestones=domestic_plan(),
        dispatched=True,
    )
    await refused(
        ops,
        f"/api/v1/orders/{reshipping.number}/exceptions",
        body,
        409,
        f"The shipment of order {reshipping.number} is not running.",
    )


async def test_only_operations_release_a_held_shipment_and_only_when_held(api, session_factory):
    held = await fulfilment_order(api, session_factory, status="held", milestones=domestic_plan())
    before = await snapshot(session_factory, held)
    path = f"/api/v1/orders/{held.number}/release-hold"
    for intruder in ("sales", "warehouse", "finance", "director"):
        await refused(
            await api(intruder),
            path,
            {"reason": "Customer is good for it"},
            403,
            "Only business operations release a hold.",
        )
    ops = await api("ops")
    await refused(ops, path, {"reason": ""}, 422, "Say why the hold is released.")
    assert await snapshot(session_factory, held) == before
    await refused(
        ops,
        path,
        {"reason": "Deposit seen on the bank statement"},
        409,
        f"The shipment of order {held.number} is not running.",
    )
    ready = await fulfilment_order(
        api, session_factory, status="awaiting_dispatch", milestones=domestic_plan()
    )
    await refused(
        ops,
        f"/api/v1/orders/{ready.number}/release-hold",
        {"reason": "x"},
        409,
        "This shipment is not held.",
    )


# --- the queue and the order ----------------------------------------------------------------


async def test_the_queue_lists_orders_awaiting_dispatch_and_held_ones(api, session_factory):
    ready = await fulfilment_order(
        api, session_factory, status="awaiting_dispatch", milestones=domestic_plan(), reserve=True
    )
    todo_id = await open_todo(session_factory, ready, "confirm_dispatch", "warehouse")
    held = await fulfilment_order(
        api,
        session_factory,
        status="held",
        milestones=[
            ("picking", TODAY, None),
            ("dispatch", TODAY + timedelta(days=1), None),
            ("arrival", TODAY + timedelta(days=4), None),
        ],
    )
    gone = await fulfilment_order(
        api, session_factory, status="in_transit", milestones=domestic_plan()
    )
    warehouse = await api("warehouse")
    queue = (await warehouse.get("/api/v1/shipments")).json()
    numbers = [item["number"] for item in queue]
    assert numbers == [held.number, ready.number]  # earliest planned dispatch first
    assert gone.number not in numbers
    first, second = queue
    assert first["held"] is True and first["waiting_for"] == "deposit"
    assert first["shipment_status"] == "held" and first["dispatch_todo_id"] is None
    assert second["held"] is False and second["dispatch_todo_id"] == todo_id
    assert second["planned_dispatch_date"] == (TODAY + timedelta(days=2)).isoformat()
    assert second["customer"] == "Shanghai Precision Machinery Co."
    assert second["shipping_mode"] == "domestic"
    pump = second["lines"][0]
    assert pump["product_code"] == "PUMP-10" and pump["quantity"] == "2.000"
    assert Decimal(pump["reserved"]) == 2 and Decimal(pump["on_hand"]) == 120
    assert Decimal(first["lines"][0]["reserved"]) == 0

    awaiting = (await warehouse.get("/api/v1/shipments?status=awaiting")).json()
    assert [i["number"] for i in awaiting] == [ready.number]
    only_held = (await warehouse.get("/api/v1/shipments?status=held")).json()
    assert [i["number"] for i in only_held] == [held.number]
    for role in ("ops", "ops_manager", "director"):
        response = await (await api(role)).get("/api/v1/shipments")
        assert response.status_code == 200, role
        assert {ready.number, held.number} <= {i["number"] for i in response.json()}
    assert (await warehouse.get("/api/v1/shipments?status=lost")).status_code == 422


async def test_the_queue_is_refused_to_sales_and_others(api, session_factory):
    await fulfilment_order(api, session_factory, status="awaiting_dispatch")
    for role in ("sales", "sales_manager", "finance", "service", "pricing", "admin"):
        response = await (await api(role)).get("/api/v1/shipments")
        assert response.status_code == 403, role
        assert response.json()["detail"] == (
            "The shipment queue is for the warehouse and business operations."
        )


async def test_the_order_shows_its_milestones_dispatches_exceptions_and_acceptance(
    api, session_factory
):
    shipment = await fulfilment_order(
        api,
        session_factory,
        mode="export",
        status="accepted",
        delayed=True,
        dispatched=False,
        milestones=[
            ("picking", TODAY - timedelta(days=9), TODAY - timedelta(days=9)),
            ("dispatch", TODAY - timedelta(days=8), TODAY - timedelta(days=6)),
            ("port_departure", TODAY - timedelta(days=2), None),
            ("customs_declaration", TODAY + timedelta(days=1), None),
            ("commodity_inspection", TODAY, None),
            ("arrival", TODAY + timedelta(days=10), None),
        ],
    )
    now = datetime.now(UTC)
    async with session_factory() as session:
        ops_id = await session.scalar(select(User.id).where(User.username == "ops"))
        order = await session.get(Order, shipment.order_id)
        order.accepted_on = TODAY
        order.accepted_signed_by = "Xu Ming"
        # the workflow's timer marked inspection late today, before the day is over
        inspection = await session.scalar(
            select(Milestone).where(
                Milestone.order_id == order.id, Milestone.code == "commodity_inspection"
            )
        )
        inspection.late_since = now
        session.add_all(
            [
                Dispatch(
                    order_id=order.id,
                    round=1,
                    carrier="COSCO",
                    tracking_number="COSU123",
                    dispatched_on=TODAY - timedelta(days=6),
                    created_at=now,
                ),
                ShipmentException(
                    order_id=order.id,
                    number=1,
                    kind="damaged",
                    description="One crate wet",
                    raised_by_id=ops_id,
                    raised_at=now,
                    resolution="Replacement shipped",
                    reship=True,
                    resolved_by_id=ops_id,
                    resolved_at=now,
                ),
            ]
        )
        await session.commit()
    for role in ("sales", "ops", "warehouse"):
        order = (await (await api(role)).get(f"/api/v1/orders/{shipment.number}")).json()
        assert order["shipment_status"] == "accepted"
        assert order["delayed"] is True and order["health"] == "red"
        assert [(m["code"], m["status"]) for m in order["milestones"]] == [
            ("picking", "done_on_time"),
            ("dispatch", "done_late"),
            ("port_departure", "late"),
            ("customs_declaration", "pending"),
            ("commodity_inspection", "late"),
            ("arrival", "pending"),
        ]
        assert order["milestones"][1]["planned_date"] == (TODAY - timedelta(days=8)).isoformat()
        assert order["milestones"][1]["actual_date"] == (TODAY - timedelta(days=6)).isoformat()
        assert order["dispatches"] == [
            {
                "round": 1,
                "carrier": "COSCO",
                "tracking_number": "COSU123",
                "dispatched_on": (TODAY - timedelta(days=6)).isoformat(),
            }
        ]
        [exception] = order["exceptions"]
        assert exception["number"] == 1 and exception["kind"] == "damaged"
        assert exception["raised_by"]["username"] == "ops"
        assert exception["resolution"] == "Replacement shipped" and exception["reship"] is True
        assert order["accepted_on"] == TODAY.isoformat()
        assert order["accepted_signed_by"] == "Xu Ming"


async def test_an_order_before_fulfilment_has_no_shipment(api, session_factory):
    shipment = await fulfilment_order(api, session_factory, status=None)
    order = (await (await api("sales")).get(f"/api/v1/orders/{shipment.number}")).json()
    assert order["shipment_status"] is None
    assert order["milestones"] == [] and order["dispatches"] == [] and order["exceptions"] == []
    assert order["delayed"] is False and order["accepted_on"] is None


# --- through the real shipment workflow -----------------------------------------------------


async def confirmed_order(api) -> str:
    """An order entered, estimated and approved through the API: its shipment has begun."""
    _, number = await submitted_order(api)
    await estimated(api, number)
    manager = await api("sales_manager")
    approve = await todo_of(manager, number, "approve")
    decided = await manager.post(
        f"/api/v1/todos/{approve['id']}/complete", json={"outcome": "approve"}
    )
    assert decided.status_code == 200, decided.text
    return number


async def workflow_today(env) -> date:
    """The shipment's today: the shared test server's clock runs ahead once a test skipped time."""
    return (await env.get_current_time()).astimezone(UTC).date()


async def complete(client, todo: dict, body: dict, status: int = 200) -> dict:
    response = await client.post(f"/api/v1/todos/{todo['id']}/complete", json=body)
    assert response.status_code == status, response.text
    return response.json()


async def test_a_shipment_is_planned_dispatched_repaired_and_arrives_through_the_api(
    api, worker, env
):
    number = await confirmed_order(api)
    ops, warehouse, sales = await api("ops"), await api("warehouse"), await api("sales")
    today = await workflow_today(env)

    plan = await todo_of(ops, number, "plan_shipment")
    past = await complete(
        ops,
        plan,
        {"outcome": "planned", "milestones": planned(start=today - timedelta(days=5))},
        422,  # the workflow's validator: dates in the past
    )
    assert "is in the past" in past["detail"]
    await refused(
        warehouse,
        f"/api/v1/todos/{plan['id']}/complete",
        {"outcome": "planned", "milestones": planned(start=today)},
        403,
        "This to-do is not assigned to you.",
    )
    done = await complete(
        ops, plan, {"outcome": "planned", "milestones": planned(start=today + timedelta(days=1))}
    )
    assert done["stage"] == "fulfilment"
    await complete(ops, plan, {"outcome": "planned", "milestones": planned()}, 409)

    dispatch = await todo_of(warehouse, number, "confirm_dispatch")
    [queued] = [
        item
        for item in (await warehouse.get("/api/v1/shipments?status=awaiting")).json()
        if item["number"] == number
    ]
    assert queued["dispatch_todo_id"] == dispatch["id"] and queued["held"] is False
    assert queued["planned_dispatch_date"] == (today + timedelta(days=2)).isoformat()
    assert [Decimal(line["reserved"]) for line in queued["lines"]] == [2, 10]
    await complete(warehouse, dispatch, {"outcome": "dispatched", "carrier": "SF Express"}, 422)
    await complete(
        sales,
        dispatch,
        {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": "SF77"},
        403,
    )
    await complete(
        warehouse,
        dispatch,
        {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": "SF77"},
    )
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert order["shipment_status"] == "in_transit"
    assert [(d["carrier"], d["tracking_number"]) for d in order["dispatches"]] == [
        ("SF Express", "SF77")
    ]
    assert [(m["code"], m["status"]) for m in order["milestones"]][:2] == [
        ("picking", "done_on_time"),
        ("dispatch", "done_on_time"),
    ]
    assert number not in {i["number"] for i in (await warehouse.get("/api/v1/shipments")).json()}

    raised = await sales.post(
        f"/api/v1/orders/{number}/exceptions",
        json={"kind": "missing_parts", "description": "One valve short"},
    )
    assert raised.status_code == 202, raised.text
    handle = await todo_of(ops, number, "handle_exception")
    await complete(ops, handle, {"outcome": "resolved", "resolution": " "}, 422)
    await complete(
        ops, handle, {"outcome": "resolved", "resolution": "Valve sent by courier", "reship": False}
    )
    arrival = await todo_of(ops, number, "confirm_arrival")
    future = await complete(
        ops,
        arrival,
        {"outcome": "arrived", "actual_date": (today + timedelta(days=5)).isoformat()},
        422,
    )
    assert future["detail"] == "The arrival date cannot be in the future."
    arrived = await complete(ops, arrival, {"outcome": "arrived", "actual_date": today.isoformat()})
    assert arrived["stage"] == "collection"  # no product needs installation

    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    [exception] = order["exceptions"]
    assert exception["kind"] == "missing_parts" and exception["raised_by"]["username"] == "sales"
    assert exception["resolution"] == "Valve sent by courier" and exception["reship"] is False
    assert order["milestones"][-1]["code"] == "arrival"
    assert order["milestones"][-1]["actual_date"] == today.isoformat()


async def test_ops_confirm_and_replan_milestones_through_the_api(api, worker, env):
    number = await confirmed_order(api)
    ops = await api("ops")
    today = await workflow_today(env)
    plan = await todo_of(ops, number, "plan_shipment")
    await complete(
        ops, plan, {"outcome": "planned", "milestones": planned(start=today + timedelta(days=1))}
    )
    await todo_of(await api("warehouse"), number, "confirm_dispatch")
    base = f"/api/v1/orders/{number}/milestones"
    moved = await ops.post(
        f"{base}/arrival/replan",
        json={"planned_date": (today + timedelta(days=9)).isoformat(), "reason": "Port strike"},
    )
    assert moved.status_code == 200, moved.text
    too_early = await ops.post(
        f"{base}/arrival/replan",
        json={"planned_date": today.isoformat(), "reason": "Faster truck"},
    )
    assert too_early.status_code == 422  # the workflow: before the dispatch date
    confirmed = await ops.post(f"{base}/picking/confirm", json={"actual_date": today.isoformat()})
    assert confirmed.status_code == 200, confirmed.text
    order = (await ops.get(f"/api/v1/orders/{number}")).json()
    milestones = {m["code"]: m for m in order["milestones"]}
    assert milestones["arrival"]["planned_date"] == (today + timedelta(days=9)).isoformat()
    assert milestones["picking"]["actual_date"] == today.isoformat()
    # The same confirmation sent again (its answer lost) gets the same answer; another date is
    # refused.
    again = await ops.post(f"{base}/picking/confirm", json={"actual_date": today.isoformat()})
    assert (again.status_code, again.json()) == (200, confirmed.json())
    await refused(
        ops,
        f"{base}/picking/confirm",
        {"actual_date": (today - timedelta(days=1)).isoformat()},
        409,
        "Milestone picking is already done.",
    )


async def test_a_shipment_held_for_its_deposit_waits_until_ops_release_it(
    api, env, session_factory, settings
):
    held_settings = settings.model_copy(update={"hold_dispatch_for_deposit": True})
    async with build_worker(env.client, session_factory, held_settings):
        number = await confirmed_order(api)
        ops, warehouse = await api("ops"), await api("warehouse")
        today = await workflow_today(env)
        plan = await todo_of(ops, number, "plan_shipment")
        await complete(
            ops,
            plan,
            {"outcome": "planned", "milestones": planned(start=today + timedelta(days=1))},
        )
        [held] = [
            i
            for i in (await warehouse.get("/api/v1/shipments?status=held")).json()
            if i["number"] == number
        ]
        assert held["held"] is True and held["dispatch_todo_id"] is None
        path = f"/api/v1/orders/{number}/release-hold"
        await refused(
            warehouse,
            path,
            {"reason": "x"},
            403,
            "Only business operations release a hold.",
        )
        released = await ops.post(path, json={"reason": "Deposit seen on the bank statement"})
        assert released.status_code == 200, released.text
        dispatch = await todo_of(warehouse, number, "confirm_dispatch")
        [ready] = [
            i
            for i in (await warehouse.get("/api/v1/shipments?status=awaiting")).json()
            if i["number"] == number
        ]
        assert ready["dispatch_todo_id"] == dispatch["id"]
        await refused(ops, path, {"reason": "again"}, 409, "This shipment is not held.")
