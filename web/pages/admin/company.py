"""The company settings page: the time zone every time is shown in (administrators only)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from i18n import N_
from models.admin.checks import AdminRefusal
from models.company import company_time_zone, save_time_zone, zone_names
from web.company_zone import company_zone
from web.deps import PageAdmin, SessionDep
from web.pages.admin.common import gettext_for
from web.pages.common import page_router
from web.templating import flash, render

router = page_router()

# Zones people pick most, offered first in the list; any other tz name is accepted too.
COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)


def _page(
    request: Request, me: PageAdmin, time_zone: str, error: str | None = None
) -> HTMLResponse:
    return render(
        request,
        "admin/company.html",
        user=me,
        time_zone=time_zone,
        now=datetime.now(UTC),
        common_zones=COMMON_ZONES,
        zones=sorted(zone_names()),
        error=error,
        status_code=422 if error else 200,
    )


@router.get("/admin/company")
async def company_page(request: Request, me: PageAdmin, session: SessionDep) -> HTMLResponse:
    default = request.app.state.settings.time_zone
    return _page(request, me, await company_time_zone(session=session, default=default))


@router.post("/admin/company")
async def save_company(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    typed = str((await request.form()).get("time_zone") or "")
    gettext = gettext_for(request, me)
    try:
        saved = await save_time_zone(session=session, user=me, time_zone=typed)
    except AdminRefusal as refusal:
        return _page(request, me, typed, refusal.translated(gettext))
    company_zone(request.app).saved(saved)
    flash(request, gettext(N_("Times are now shown in %(zone)s.")) % {"zone": saved})
    return RedirectResponse("/admin/company", status_code=303)
