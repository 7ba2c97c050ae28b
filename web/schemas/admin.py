"""What the administrator's API returns: orders whose approval no one can decide."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from web.schemas.core import CustomerRef, DepartmentRef, Model, UserRef


class UnroutableOrderOut(Model):
    """An order whose approval no one can decide, and why (the admin's list)."""

    number: str
    customer: CustomerRef
    owner: UserRef
    department: DepartmentRef
    stage: str
    since: datetime | None = Field(validation_alias="unroutable_at")
    reason: str


class RoutedAgainOut(Model):
    number: str
    stage: str
    unroutable_reason: str | None
