"""The warehouse's "awaiting shipment" queue: orders ready for dispatch, and those held for
their deposit, with a dispatch form per order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from i18n import translations
from models.domain import Role, TodoKind
from models.queries import QueueItem
from models.queries.sorting import SortOrder, sorted_rows, text_key
from models.tables import User
from web.commands import fulfilment
from web.commands.actions import Refused
from web.commands.dispatch import packing_list_of
from web.commands.fulfilment import utc_today
from web.commands.todos import complete_todo, visible_todo
from web.deps import PageOrder, PageUser, SessionDep, TemporalClient
from web.pages.common import page_router
from web.pages.todo_forms import completion_from_form
from web.sorting import SortLinks
from web.templating import flash, locale_of, render

router = page_router()
# The queue's sort orders (a short list, sorted in Python; the usual: earliest dispatch first).
QUEUE_SORTS: dict[str, Callable[[QueueItem], Any]] = {
    "order": lambda item: item.number,
    "customer": lambda item: text_key(item.customer),
    "dispatch": lambda item: item.planned_dispatch_on,
}


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
    order = SortOrder.of(
        request.query_params.get("sort"), request.query_params.get("dir"), QUEUE_SORTS
    )
    return render(
        request,
        "shipments/index.html",
        user=user,
        items=sorted_rows(items, order, QUEUE_SORTS),
        sorting=SortLinks("/shipments", order, {"status": chosen}, usual=SortOrder("dispatch")),
        status=chosen,
        may_dispatch=Role(user.role) == Role.warehouse,
        today=utc_today().isoformat(),
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
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"} | {"todo_id": str(todo_id)}
    try:
        todo = await visible_todo(session=session, user=user, todo_id=todo_id)
        if todo.kind != TodoKind.confirm_dispatch.value:
            raise Refused(404, "There is no such to-do.")
        completion = completion_from_form(todo.kind, form)  # the lines and the date, if given
        await complete_todo(
            session=session, user=user, todo=todo, completion=completion, client=client
        )
    except Refused as error:
        values["error_line"] = str(error.params.get("line", ""))
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


@router.get("/shipments/{number}/packing-list")
async def packing_list(
    request: Request,
    order: PageOrder,
    user: PageUser,
    session: SessionDep,
    round: int | None = None,
) -> HTMLResponse:
    """A dispatch round's packing list, to print: the order, where it goes, whom the carrier
    calls, and what is packed (no prices)."""
    try:
        found = await packing_list_of(session=session, user=user, order=order, round_=round)
    except Refused as refusal:
        t = translations(locale_of(request, user))
        raise HTTPException(refusal.status, refusal.translated(t.gettext)) from refusal
    return render(request, "shipments/packing_list.html", user=user, packing=found)
