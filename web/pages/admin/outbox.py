"""The mail outbox for administrators: every mail the app sent or will send, and one mail."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from i18n import N_
from models import admin
from models.queries.sorting import SortOrder
from web.deps import PageAdmin, SessionDep
from web.pages.admin.common import not_found
from web.pages.common import page_router
from web.sorting import SortColumn, SortDirection, SortLinks
from web.templating import render

router = page_router()


@router.get("/admin/mail")
async def mail_list(
    request: Request,
    me: PageAdmin,
    session: SessionDep,
    page: int = 1,
    to: str = "",
    order: str = "",
    sort: SortColumn = "",
    direction: SortDirection = "",
) -> HTMLResponse:
    """Every mail, newest first or sorted by a column; `to` finds a recipient's mail, `order`
    the mail about an order."""
    search = admin.OutboxSearch(
        recipient=to[:200], order=order[:40], sort=SortOrder.of(sort, direction, admin.OUTBOX_SORTS)
    )
    shown = {"to": search.recipient, "order": search.order}
    return render(
        request,
        "admin/mail/index.html",
        user=me,
        outbox=await admin.list_outbox(session=session, page=page, search=search),
        search=shown,
        sorting=SortLinks("/admin/mail", search.sort, shown, usual=SortOrder("created", True)),
    )


@router.get("/admin/mail/{mail_id}")
async def mail_detail(
    request: Request, mail_id: int, me: PageAdmin, session: SessionDep
) -> HTMLResponse:
    mail = await admin.get_mail(session=session, mail_id=mail_id)
    if mail is None:
        raise not_found(request, me, N_("There is no such mail."))
    return render(request, "admin/mail/detail.html", user=me, mail=mail)
