"""Who may export, as route dependencies: 403 in the reader's language for the others (page and
API), before anything is read; and the exporter the audit log names."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from i18n import translations
from models.exports import ExportRefusal, check_may_export
from models.tables import User
from web.api import refused
from web.commands.actions import Refused
from web.deps import PageUser
from web.exports import Exporter
from web.templating import locale_of


def exporter_of(request: Request, user: User) -> Exporter:
    return Exporter(user_id=user.id, session_factory=request.app.state.session_factory)


async def page_exporter(request: Request, user: PageUser) -> User:
    try:
        check_may_export(user)
    except ExportRefusal as refusal:
        t = translations(locale_of(request, user))
        raise HTTPException(403, refusal.translated(t.gettext)) from refusal
    return user


def check_api_export(user: User) -> None:
    """For a list's API route given `format`: 403 in the caller's language without the
    permission."""
    try:
        check_may_export(user)
    except ExportRefusal as refusal:
        raise refused(Refused.of(403, refusal)) from refusal


PageExporter = Annotated[User, Depends(page_exporter)]
