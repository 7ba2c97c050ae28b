"""What the admin pages share: their language, their 404, and a form read into its fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import HTTPException, Request
from starlette.datastructures import FormData

from i18n import translations
from models.tables import User
from web.templating import locale_of

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Fields = TypeVar("Fields", bound="DataclassInstance")


def gettext_for(request: Request, user: User) -> Callable[[str], str]:
    return translations(locale_of(request, user)).gettext


def not_found(request: Request, user: User, message: str) -> HTTPException:
    return HTTPException(404, gettext_for(request, user)(message))


def fields_of(form: FormData, kind: type[Fields]) -> Fields:
    """The dataclass `kind` filled from the form: text fields as typed, a checkbox true when
    it was ticked (an unticked box is not sent at all)."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(kind):
        if f.type in ("bool", bool):
            values[f.name] = f.name in form
        elif f.type in ("str", str):
            values[f.name] = str(form.get(f.name) or "")
    return kind(**values)
