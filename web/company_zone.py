"""The company's time zone for each request: read from the database at most every few seconds
per process (an administrator's change is seen at once by the process that saved it) and put on
the request's state, where the pages' formatter finds it."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from i18n import DEFAULT_TIME_ZONE
from models.company import company_time_zone

FRESH_SECONDS = 5.0


class CompanyZone:
    """The zone last read, and when."""

    def __init__(self, session_factory: Any, default: str) -> None:
        self.session_factory = session_factory
        self.default = default  # O2C_TIME_ZONE, until an administrator saves one
        self.name = default
        self.read_at = float("-inf")

    async def current(self) -> str:
        if time.monotonic() - self.read_at > FRESH_SECONDS:
            async with self.session_factory() as session:
                self.name = await company_time_zone(session=session, default=self.default)
            self.read_at = time.monotonic()
        return self.name

    def saved(self, name: str) -> None:
        """An administrator saved a new zone in this process."""
        self.name, self.read_at = name, time.monotonic()


def company_zone(app: Any) -> CompanyZone:
    """The app's zone cache (made on first use)."""
    zone = getattr(app.state, "company_zone", None)
    if zone is None:
        state = app.state
        zone = state.company_zone = CompanyZone(state.session_factory, state.settings.time_zone)
    return zone


class CompanyZoneMiddleware:
    """Puts the company's time zone on every page request's state (`request.state.time_zone`);
    the JSON API and static files answer in UTC and need none."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(("/api/", "/static/")):
            zone = await company_zone(scope["app"]).current()
            scope.setdefault("state", {})["time_zone"] = zone
        await self.app(scope, receive, send)


def time_zone_of(request: Any) -> str:
    """The zone the middleware put on this request (the default outside a request)."""
    return str(getattr(request.state, "time_zone", DEFAULT_TIME_ZONE))
