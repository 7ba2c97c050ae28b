"""An order's change requests and revisions as the API returns them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from web.schemas.core import Model, UserRef


class FieldChangeOut(Model):
    """One line of a revision's diff, as text: `lines[PUMP-10].quantity` from 2 to 3."""

    field: str
    before: str
    after: str


class RevisionOut(Model):
    """The order's revision `number` (2, 3, ...): when it was applied, who asked for the
    change, and what changed."""

    number: int
    at: datetime = Field(validation_alias="created_at")
    by: UserRef | None = Field(validation_alias="created_by")
    changes: list[FieldChangeOut]


class ChangeRequestOut(Model):
    """A change request: open, approved (applied as a revision), rejected or withdrawn."""

    id: int
    number: int
    status: str
    reason: str
    requested_by: UserRef | None
    requested_at: datetime
    decided_at: datetime | None
    comment: str | None


class ChangeRequestActionOut(BaseModel):
    """A change request asked for (status open: its approve_change round runs) or withdrawn:
    the order, the request's `id` and `number`, and the order's stage."""

    number: str
    change_request_id: int
    change_request_number: int
    status: str
    stage: str
