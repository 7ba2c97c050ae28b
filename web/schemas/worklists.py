"""Operations' worklists as the API returns them: the milestones due."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from web.schemas.core import Model


class MilestoneDueOut(Model):
    """A planned milestone not yet confirmed. `due`: late (its day is over in the company's
    calendar, or its timer fired), today, this_week (later this week, to Sunday) or later.
    `confirmed_with` says how it is confirmed: milestone (POST
    /api/v1/orders/{number}/milestones/{code}/confirm), todo (complete the arrival's to-do
    `todo_id`), warehouse (the dispatch, by the warehouse's confirm_dispatch to-do) or
    dispatch_first (an arrival before the goods left)."""

    number: str = Field(validation_alias="order_number")
    customer: str
    shipping_mode: str
    code: str
    planned_date: date = Field(validation_alias="planned_on")
    due: Literal["late", "today", "this_week", "later"]
    confirmed_with: Literal["milestone", "todo", "warehouse", "dispatch_first"]
    todo_id: int | None = Field(validation_alias="arrival_todo_id")
