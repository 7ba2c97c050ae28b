"""The audit log of exports for administrators: who exported which list, when, with which
filters and how many rows, the newest first."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from i18n import N_
from models.exports import export_audits
from web.deps import PageAdmin, SessionDep
from web.pages.common import page_router
from web.templating import render

router = page_router()
# The lists' names in the log, as the reader's language calls the lists.
LIST_NAMES = {
    "orders": N_("Orders"),
    "todos": N_("My to-dos"),
    "receivables": N_("Receivables"),
    "aging": N_("Receivables aging"),
    "cost_variance": N_("Cost variance"),
}


@router.get("/admin/exports")
async def export_log(
    request: Request, me: PageAdmin, session: SessionDep, page: int = 1
) -> HTMLResponse:
    return render(
        request,
        "admin/exports.html",
        user=me,
        log=await export_audits(session=session, page=max(1, page)),
        list_names=LIST_NAMES,
    )
