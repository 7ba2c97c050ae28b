"""An order's returns as the API takes them (a request) and returns them (each return with its
lines)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AliasPath, BaseModel, Field

from web.schemas.core import Id, Model, UserRef


class ReturnLineIn(BaseModel):
    """A line of the order (by its id, as the order returns it) and how many of it come back."""

    line_id: Id
    quantity: Decimal = Field(max_digits=15, decimal_places=3)


class ReturnRequestIn(BaseModel):
    """The body of POST /api/v1/orders/{number}/returns: which lines come back, how many of
    each (at most what was dispatched less what came back or is asked for already), and why."""

    lines: list[ReturnLineIn] = Field(default_factory=list, max_length=500)
    reason: str = Field(default="", max_length=2000)


class ReturnLineOut(Model):
    """One order line of a return: how many were asked for, received (restocked back on hand
    plus scrapped), the line's net unit price when it was asked for, and the value of what
    came back (`amount`)."""

    line_id: int = Field(validation_alias="order_line_id")
    position: int = Field(validation_alias=AliasPath("order_line", "position"))
    product_code: str = Field(validation_alias=AliasPath("order_line", "product", "code"))
    product_name: str = Field(validation_alias=AliasPath("order_line", "product", "name"))
    unit: str = Field(validation_alias=AliasPath("order_line", "product", "unit"))
    quantity: Decimal
    received: Decimal
    restocked: Decimal
    scrapped: Decimal
    unit_net_price: Decimal
    amount: Decimal


class ReturnOut(Model):
    """A return: requested (waiting for approval), rejected, approved (waiting for the
    warehouse), receiving (part received), received (all back) or closed (the rest will not
    come back: `closed_reason`). `value` is what came back, at each line's net unit price."""

    id: int
    number: int
    status: str
    reason: str
    requested_by: UserRef | None
    requested_at: datetime
    decided_by: UserRef | None
    decided_at: datetime | None
    comment: str | None
    value: Decimal
    received_at: datetime | None
    closed_reason: str | None
    lines: list[ReturnLineOut]


class ReturnActionOut(BaseModel):
    """A return asked for: the order, the return's `return_number` (1, 2, ... within the
    order), its status (requested: an approve_return to-do waits for the owner's department
    manager) and the order's stage."""

    number: str
    return_number: int
    status: str
    stage: str
