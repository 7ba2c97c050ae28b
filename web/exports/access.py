"""Who may export, as route dependencies: 403 in the reader's language for the others (page and
API), before anything is read; the exporter the audit log names; and, for the pages' export
links, the roles that may export, read at most every few seconds per process."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from i18n import translations
from models.domain import Role
from models.exports import EXPORT_ROLES, ExportRefusal, check_may_export, export_roles
from models.tables import User
from web.api import refused
from web.commands.actions import Refused
from web.deps import PageUser, SessionDep
from web.exports import Exporter
from web.templating import locale_of

FRESH_SECONDS = 5.0


def exporter_of(request: Request, user: User) -> Exporter:
    return Exporter(user_id=user.id, session_factory=request.app.state.session_factory)


async def page_exporter(request: Request, user: PageUser, session: SessionDep) -> User:
    try:
        await check_may_export(session=session, user=user)
    except ExportRefusal as refusal:
        t = translations(locale_of(request, user))
        raise HTTPException(403, refusal.translated(t.gettext)) from refusal
    return user


async def check_api_export(*, session: AsyncSession, user: User) -> None:
    """For a list's API route given `format`: 403 in the caller's language without the
    permission."""
    try:
        await check_may_export(session=session, user=user)
    except ExportRefusal as refusal:
        raise refused(Refused.of(403, refusal)) from refusal


PageExporter = Annotated[User, Depends(page_exporter)]


class ExportRolesCache:
    """The roles that may export as last read, and when: the pages' links follow it (an
    administrator's change is seen at once by the process that saved it, by the others within
    a few seconds); the export itself always asks the database."""

    def __init__(self, session_factory: Any) -> None:
        self.session_factory = session_factory
        self.roles: frozenset[Role] = EXPORT_ROLES
        self.read_at = float("-inf")

    async def current(self) -> frozenset[Role]:
        if time.monotonic() - self.read_at > FRESH_SECONDS:
            async with self.session_factory() as session:
                self.roles = await export_roles(session=session)
            self.read_at = time.monotonic()
        return self.roles

    def saved(self, roles: frozenset[Role]) -> None:
        self.roles, self.read_at = roles, time.monotonic()


def export_roles_cache(app: Any) -> ExportRolesCache:
    """The app's cache of the export roles (made on first use)."""
    cache = getattr(app.state, "export_roles", None)
    if cache is None:
        cache = app.state.export_roles = ExportRolesCache(app.state.session_factory)
    return cache


class ExportRolesMiddleware:
    """Puts the roles that may export on every page request's state
    (`request.state.export_roles`), where the pages find whether to show the export links."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(("/api/", "/static/")):
            roles = await export_roles_cache(scope["app"]).current()
            scope.setdefault("state", {})["export_roles"] = roles
        await self.app(scope, receive, send)
