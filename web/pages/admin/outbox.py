"""The mail outbox for administrators: every mail the app sent or will send, and one mail."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from i18n import N_
from models import admin
from web.deps import PageAdmin, SessionDep
from web.pages.admin.common import not_found
from web.pages.common import page_router
from web.templating import render

router = page_router()


@router.get("/admin/mail")
async def mail_list(
    request: Request, me: PageAdmin, session: SessionDep, page: int = 1
) -> HTMLResponse:
    return render(
        request,
        "admin/mail/index.html",
        user=me,
        outbox=await admin.list_outbox(session=session, page=page),
    )


@router.get("/admin/mail/{mail_id}")
async def mail_detail(
    request: Request, mail_id: int, me: PageAdmin, session: SessionDep
) -> HTMLResponse:
    mail = await admin.get_mail(session=session, mail_id=mail_id)
    if mail is None:
        raise not_found(request, me, N_("There is no such mail."))
    return render(request, "admin/mail/detail.html", user=me, mail=mail)
