"""An order's shipment (milestones, dispatches, exceptions) and the warehouse's queue as the API
returns them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from web.schemas.core import Model, UserRef


class MilestoneOut(Model):
    """A milestone planned vs actual. status: done_on_time (green), done_late, pending
    (yellow), late (red: not done and past its planned date)."""

    code: str
    planned_date: date = Field(validation_alias="planned_on")
    actual_date: date | None = Field(validation_alias="actual_on")
    status: str
    late_since: datetime | None = None


class DispatchOut(Model):
    round: int
    carrier: str
    tracking_number: str
    dispatched_on: date


class ShipmentExceptionOut(Model):
    number: int
    kind: str
    description: str
    raised_by: UserRef | None
    raised_at: datetime
    resolution: str | None
    reship: bool | None
    resolved_by: UserRef | None = None
    resolved_at: datetime | None


class QueueLineOut(Model):
    product_code: str
    product_name: str
    unit: str
    quantity: Decimal
    reserved: Decimal
    on_hand: Decimal
    line_id: int
    to_dispatch: Decimal  # what remains of it in the open dispatch to-do's round


class ContactOut(Model):
    name: str
    phone: str


class ShipmentQueueItemOut(Model):
    """An order in the warehouse's "awaiting shipment" queue. A held one waits for its
    deposit and has no dispatch to-do yet."""

    number: str
    customer: str
    shipping_mode: str
    shipment_status: str
    held: bool
    waiting_for: str | None  # "deposit" while held
    planned_dispatch_date: date | None = Field(validation_alias="planned_dispatch_on")
    dispatch_todo_id: int | None
    dispatch_round: int | None  # the open dispatch to-do's round (2, 3 ...: a partial's rest)
    lines: list[QueueLineOut]
    ship_to: str  # the customer's address
    contacts: list[ContactOut]  # the customer's contacts, for the carrier


class ShipmentActionOut(Model):
    """What an order-level shipment action answers: the order and the stage it is in now."""

    number: str
    stage: str
