"""The warehouse's "awaiting shipment" queue: orders ready for dispatch, and those held for
their deposit, with a dispatch form per order."""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from i18n import translations
from models.domain import Role, TodoKind
from models.tables import User
from web.commands import fulfilment
from web.commands.actions import Refused
from web.commands.completion import TodoCompletion
from web.commands.todos import complete_todo, visible_todo
from web.deps import PageUser, SessionDep, TemporalClient
from web.pages.common import page_router
from web.templating import flash, locale_of, render

router = page_router()


async def _queue_page(
    request: Request,
    user: User,
    session: AsyncSession,
    status: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    t = translations(locale_of(request, user))
    chosen = status if status in fulfilment.QUEUE_STATUSES else ""
    try:
        items = await fulfilment.shipment_queue(session=session, user=user, status=chosen or None)
    except Refused as refusal:
        raise HTTPException(refusal.status, refusal.translated(t.gettext)) from refusal
    return render(
        request,
        "shipments/index.html",
        user=user,
        items=items,
        status=chosen,
        may_dispatch=Role(user.role) == Role.warehouse,
        error=error,
        status_code=status_code,
        values=values or {},
    )


@router.get("/shipments")
async def shipment_queue(
    request: Request, user: PageUser, session: SessionDep, status: str = ""
) -> HTMLResponse:
    return await _queue_page(request, user, session, status)


@router.post("/shipments/{todo_id}/dispatch")
async def confirm_dispatch(
    request: Request, todo_id: int, user: PageUser, session: SessionDep, client: TemporalClient
) -> Response:
    """Complete an order's confirm_dispatch to-do from the queue, then back to the queue."""
    form = await request.form()
    t = translations(locale_of(request, user))
    values = {
        "todo_id": str(todo_id),
        "carrier": str(form.get("carrier") or ""),
        "tracking_number": str(form.get("tracking_number") or ""),
    }
    try:
        todo = await visible_todo(session=session, user=user, todo_id=todo_id)
        if todo.kind != TodoKind.confirm_dispatch.value:
            raise Refused(404, "There is no such to-do.")
        await complete_todo(
            session=session,
            user=user,
            todo=todo,
            completion=TodoCompletion(
                outcome="dispatched",
                carrier=values["carrier"],
                tracking_number=values["tracking_number"],
            ),
            client=client,
        )
    except Refused as error:
        return await _queue_page(
            request,
            user,
            session,
            "",
            error=error.translated(t.gettext),
            status_code=error.status,
            values=values,
        )
    flash(request, t.gettext("Dispatch confirmed."))
    return RedirectResponse("/shipments", status_code=303)
