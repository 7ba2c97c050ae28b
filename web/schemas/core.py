"""What every part of the API shares: bounded ids, the output base model, errors, references."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, field_serializer

# Every id the API or the pages take: the databases keep ids in signed 64-bit integers, so a
# larger number is bad input (422), never a query that overflows (500). The bound is 2^63 - 1024
# rather than 2^63 - 1: the largest integer below 2^63 that a double holds exactly, so that the
# OpenAPI document (whose bounds are doubles) states the very limit that is checked.
MAX_ID = 2**63 - 1024
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Pages of a list: far more than any list has, and small enough that the offset
# (page - 1) * per_page stays a 64-bit integer.
MAX_PAGE = 1_000_000
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]


class Model(BaseModel):
    # An output reads its table row (or query row) by attribute: `Out.model_validate(row)`. A
    # field named otherwise than the row's attribute names that attribute as its validation
    # alias (`AliasPath` for a related row's); a field by name still validates, and the JSON
    # and the OpenAPI document use the field's own name.
    model_config = ConfigDict(from_attributes=True, validate_by_name=True, validate_by_alias=True)

    # A wrap serializer, so that every other value keeps its own serialization, and with it
    # the exclusions of nested fields (for_viewer's cost fields of lines and to-do facts). It
    # has no return annotation on purpose: pydantic then documents each field by its own type
    # (a Decimal as a string) instead of as "any value". Datetimes are stored in UTC, but SQLite
    # hands them back without their zone; they go out with it, as RFC 3339 date-times.
    @field_serializer("*", mode="wrap", when_used="json")
    def _decimals_as_strings(  # type: ignore[no-untyped-def]  # unannotated on purpose, above
        self, value: Any, handler: SerializerFunctionWrapHandler
    ):
        if isinstance(value, Decimal):
            return f"{value:f}"
        if isinstance(value, datetime) and value.tzinfo is None:
            return handler(value.replace(tzinfo=UTC))
        return handler(value)


class RowWith:
    """A row as an output model reads it, with the figures computed for it beside its own
    attributes: `Out.model_validate(RowWith(row, health=...))`. A computed value wins over
    the row's attribute of the same name."""

    def __init__(self, row: object, **computed: object) -> None:
        self._row = row
        self._computed = computed

    def __getattr__(self, name: str) -> object:
        if name in self._computed:
            return self._computed[name]
        return getattr(self._row, name)


class ErrorOut(BaseModel):
    """Every error the API answers: one sentence a person can act on."""

    detail: str
    # A 422 about one field of the request: where it is ("lines[0].quantity"); absent otherwise.
    field: str | None = None


ERROR_MEANINGS = {
    400: "The body could not be parsed (not well-formed JSON or form data).",
    401: "Not signed in or the token has expired (at sign-in: wrong username or password).",
    403: "The user's role, or their relation to the order, does not allow this.",
    404: "There is no such order or to-do within the user's scope.",
    409: "The order or to-do is not (or no longer) in a state that allows this.",
    413: "The request body is larger than the service accepts.",
    422: "A parameter or the body is not valid; the detail says which and why.",
    429: "Too many failed sign-ins; try again after the Retry-After header's seconds.",
    503: "The workflow engine is not reachable; try again shortly.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each answered as ErrorOut."""
    return {
        status: {"model": ErrorOut, "description": ERROR_MEANINGS[status]} for status in statuses
    }


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class DepartmentRef(Model):
    id: int
    name: str


class UserRef(Model):
    id: int
    username: str
    full_name: str


class CustomerRef(Model):
    id: int
    name: str


class Me(Model):
    id: int
    username: str
    full_name: str
    email: str
    role: str
    department: DepartmentRef
    locale: str | None
    sees_costs: bool
