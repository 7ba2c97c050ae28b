"""A confirmed order with its stock reserved and its installment open, and the change steps
the tests run on it (tests/activities/test_changes.py, test_change_applied.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select, update

from activities.changes import ChangeActivities
from activities.collection import CollectionActivities
from activities.shipments import ShipmentActivities
from activities.store import StepStore
from models.db import SessionFactory
from models.domain import Actor, CollectionStep, StartShipment
from models.domain.changes import (
    ApplyChange,
    ChangeRequest,
    CloseChange,
    LineChange,
    RecordChange,
)
from models.tables import (
    Order,
    OrderLine,
    OutboxMail,
    Product,
    StockReservation,
    TimelineEvent,
)
from tests import helpers

BASE_URL = "http://testserver"
PUMP, VALVE = 3, 4  # seeded: PUMP-10 at 8,500.00, VALVE-3 at 1,200.00
CONTACT = "xu.ming@shpm.example.com"  # the seeded customer 1's contact


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@dataclass
class Placed:
    """A confirmed order (2 × PUMP-10, 17,000.00, estimated at 5,000.00 a pump), its stock
    reserved and its one installment (all on confirmation) open; and its change steps."""

    order: Order
    line_id: int
    owner: Actor
    changes: ChangeActivities
    session_factory: SessionFactory
    setup_mails: int  # the outbox's last mail before any change step

    @property
    def wid(self) -> str:
        return f"order-{self.order.number}"

    def request(self, number: int = 1, **change: object) -> RecordChange:
        return RecordChange(
            order_id=self.order.id,
            workflow_id=self.wid,
            step_key=f"{self.wid}/change/{number}",
            number=number,
            change=ChangeRequest(actor=self.owner, reason="Customer needs more", **change),
        )

    def apply(self, number: int = 1, **fields: object) -> ApplyChange:
        return ApplyChange(
            order_id=self.order.id,
            workflow_id=self.wid,
            step_key=f"{self.wid}/change/{number}/applied",
            number=number,
            **fields,
        )

    def close(self, number: int, actor_id: int, comment: str = "") -> CloseChange:
        return CloseChange(
            order_id=self.order.id,
            workflow_id=self.wid,
            step_key=f"{self.wid}/change/{number}/closed",
            number=number,
            actor_id=actor_id,
            comment=comment,
        )


@pytest.fixture
async def placed(session_factory) -> Placed:
    order = await helpers.draft(session_factory, quantity="2")
    async with session_factory() as session:
        await session.execute(
            update(OrderLine).where(OrderLine.order_id == order.id).values(unit_cost=D("5000"))
        )
        await session.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(
                stage="confirmed",
                submitted_at=datetime(2026, 3, 1, tzinfo=UTC),
                confirmed_at=datetime(2026, 3, 1, tzinfo=UTC),
                approval_round=1,
                freight_cost=D("0"),
                installation_cost=D("0"),
                other_cost=D("0"),
                expected_cost=D("10000"),
                expected_margin=D("7000"),
            )
        )
        await session.commit()
        line_id = await session.scalar(select(OrderLine.id).where(OrderLine.order_id == order.id))
    store = StepStore(session_factory, base_url=BASE_URL, clock=Clock())
    wid = f"order-{order.number}"
    await ShipmentActivities(store).start_shipment(
        StartShipment(
            order_id=order.id,
            workflow_id=f"{wid}/shipment",
            step_key=f"{wid}/shipment/start",
            todo_key=f"{wid}/shipment/plan",
        )
    )
    await CollectionActivities(store).start_collection(
        CollectionStep(
            order_id=order.id, workflow_id=f"{wid}/collection", step_key=f"{wid}/collection/start"
        )
    )
    async with session_factory() as session:
        setup_mails = await session.scalar(select(func.coalesce(func.max(OutboxMail.id), 0)))
    return Placed(
        order=order,
        line_id=line_id,
        owner=await helpers.actor(session_factory, "sales"),
        changes=ChangeActivities(store),
        session_factory=session_factory,
        setup_mails=setup_mails,
    )


async def saved(session_factory, order) -> Order:
    async with session_factory() as session:
        return await session.get(Order, order.id)


async def count(session_factory, model, *conditions) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*conditions))


async def reserved(session_factory, product_id: int) -> D:
    async with session_factory() as session:
        return await session.scalar(select(Product.reserved).where(Product.id == product_id))


async def change_mails(placed: Placed) -> Counter[str]:
    """Who was mailed since the order was placed, and how often."""
    async with placed.session_factory() as session:
        return Counter(
            await session.scalars(
                select(OutboxMail.to_address).where(OutboxMail.id > placed.setup_mails)
            )
        )


async def events(session_factory, order, kind: str) -> int:
    return await count(
        session_factory,
        TimelineEvent,
        TimelineEvent.order_id == order.id,
        TimelineEvent.kind == kind,
    )


def more_pumps_and_a_valve(placed: Placed) -> list[LineChange]:
    return [
        LineChange(line_id=placed.line_id, quantity=D("3")),
        LineChange(product_id=VALVE, quantity=D("1")),
    ]


async def dispatch_all(placed: Placed) -> None:
    """The warehouse took the reserved pumps (as the dispatch step does)."""
    async with placed.session_factory() as session:
        await session.execute(
            update(StockReservation).values(taken_at=datetime(2026, 3, 3, tzinfo=UTC))
        )
        await session.execute(
            update(Product)
            .where(Product.id == PUMP)
            .values(stock_on_hand=Product.stock_on_hand - 2, reserved=Product.reserved - 2)
        )
        await session.commit()
