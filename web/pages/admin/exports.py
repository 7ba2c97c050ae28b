"""The exports page for administrators: which roles may export (a function permission they
edit), and the audit log of exports: who exported which list, when, with which filters and how
many rows, the newest first."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models.admin.checks import AdminRefusal
from models.exports import GRANTABLE_ROLES, export_audits, export_roles, save_export_roles
from models.tables import User
from web.deps import PageAdmin, SessionDep
from web.exports.access import export_roles_cache
from web.pages.admin.common import gettext_for
from web.pages.common import page_router
from web.templating import flash, render

router = page_router()
# The lists' names in the log, as the reader's language calls the lists.
LIST_NAMES = {
    "orders": N_("Orders"),
    "todos": N_("My to-dos"),
    "receivables": N_("Receivables"),
    "aging": N_("Receivables aging"),
    "cost_variance": N_("Cost variance"),
    "performance": N_("Performance"),
    "customer_statistics": N_("Customer statistics"),
    "order_statistics": N_("Order statistics"),
    "waits": N_("Where orders wait"),
}


async def _page(
    request: Request,
    me: User,
    session: AsyncSession,
    *,
    page: int = 1,
    ticked: set[str] | None = None,
    error: str | None = None,
) -> HTMLResponse:
    if ticked is None:
        ticked = {role.value for role in await export_roles(session=session)}
    return render(
        request,
        "admin/exports.html",
        user=me,
        log=await export_audits(session=session, page=max(1, page)),
        list_names=LIST_NAMES,
        grantable=[role.value for role in GRANTABLE_ROLES],
        ticked=ticked,
        error=error,
        status_code=422 if error else 200,
    )


@router.get("/admin/exports")
async def export_log(
    request: Request, me: PageAdmin, session: SessionDep, page: int = 1
) -> HTMLResponse:
    return await _page(request, me, session, page=page)


@router.post("/admin/exports/roles")
async def save_roles(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    """Which roles may export: each ticked role may, every other may not; a role that cannot
    be given the export (the administrator, or a name no role has) is refused, nothing saved."""
    given = [str(value) for value in (await request.form()).getlist("roles")]
    gettext = gettext_for(request, me)
    try:
        saved = await save_export_roles(session=session, user=me, roles=given)
    except AdminRefusal as refusal:
        return await _page(
            request, me, session, ticked=set(given), error=refusal.translated(gettext)
        )
    export_roles_cache(request.app).saved(saved)
    flash(request, gettext(N_("Saved: who may export lists.")))
    return RedirectResponse("/admin/exports", status_code=303)
