"""Operations' "Milestones due": every planned milestone not yet confirmed across the orders
they see, late, today, this week or later (the company's calendar), each confirmed in place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.responses import Response

from i18n import N_, labels, translations
from models.queries.worklists import DUE_WINDOWS, DueMilestone
from models.tables import User
from settings import Settings
from web.commands import fulfilment, worklists
from web.commands.actions import Refused
from web.commands.fulfilment import MilestoneDone
from web.deps import PageOrder, PageUser, SessionDep, SettingsDep, TemporalClient
from web.pages.common import page_router
from web.pages.orders.detail import form_body
from web.pages.todo_forms import completion_from_form
from web.templating import flash, locale_of, render

router = page_router()
CONFIRMED = N_("Order %(number)s: %(milestone)s is confirmed.")
# A confirmation posted from the list: what it does with the form; the order's number.
Confirm = Callable[[FormData], Awaitable[str]]


def _confirm_default(today: date) -> str:
    """The actual date a confirmation form starts with: today in the company's calendar, but
    never after the workflow's own day (it refuses a date in the future on its UTC clock)."""
    return min(today, datetime.now(UTC).date()).isoformat()


def _groups(items: list[DueMilestone], chosen: str) -> list[tuple[str, list[DueMilestone]]]:
    """The milestones by due window, in DUE_WINDOWS' order; only the chosen one if any."""
    return [
        (window, rows)
        for window in DUE_WINDOWS
        if (rows := [i for i in items if i.due == window]) and chosen in ("", window)
    ]


async def _due_page(
    request: Request,
    user: User,
    session: AsyncSession,
    settings: Settings,
    due: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    t = translations(locale_of(request, user))
    today = await worklists.company_day(session, settings)
    try:
        items = await worklists.due_milestones(session=session, user=user, today=today)
    except Refused as refusal:
        raise HTTPException(refusal.status, refusal.translated(t.gettext)) from refusal
    chosen = due if due in DUE_WINDOWS else ""
    return render(
        request,
        "milestones/due.html",
        user=user,
        groups=_groups(items, chosen),
        counts={window: sum(1 for i in items if i.due == window) for window in DUE_WINDOWS},
        total=len(items),
        due=chosen,
        confirmed_with=worklists.confirmed_with,
        today=_confirm_default(today),
        error=error,
        status_code=status_code,
        values=values or {},
    )


@router.get("/milestones/due")
async def milestones_due(
    request: Request, user: PageUser, session: SessionDep, settings: SettingsDep, due: str = ""
) -> HTMLResponse:
    return await _due_page(request, user, session, settings, due)


async def _confirmed_in_place(
    request: Request,
    user: User,
    session: AsyncSession,
    settings: Settings,
    *,
    row: str,
    code: str,
    confirm: Confirm,
) -> Response:
    """A confirmation posted from the list: back to the list (its filter kept) saying what was
    confirmed, the row gone; or the list again with the refusal next to its row, the date
    typed kept."""
    form = await request.form()
    t = translations(locale_of(request, user))
    due = str(form.get("due") or "")
    try:
        worklists.require_worklist(user)
        number = await confirm(form)
    except Refused as error:
        if error.status in (403, 404):
            raise HTTPException(error.status, error.translated(t.gettext)) from error
        return await _due_page(
            request,
            user,
            session,
            settings,
            due,
            error=error.translated(t.gettext),
            status_code=error.status,
            values={"row": row, "actual_date": str(form.get("actual_date") or "").strip()},
        )
    milestone = t.gettext(labels.MILESTONES.get(code, code))
    flash(request, t.gettext(CONFIRMED) % {"number": number, "milestone": milestone})
    query = f"?due={due}" if due in DUE_WINDOWS else ""
    return RedirectResponse(f"/milestones/due{query}", status_code=303)


@router.post("/milestones/due/{number}/{code}/confirm")
async def confirm_milestone(
    request: Request,
    order: PageOrder,
    code: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    """A milestone ops confirm themselves, by the order page's command (and its update id:
    a second click is the same confirmation)."""

    async def confirm(form: FormData) -> str:
        values = {"actual_date": str(form.get("actual_date") or "").strip()}
        await fulfilment.confirm_milestone(
            session=session,
            user=user,
            order=order,
            code=code,
            done=form_body(MilestoneDone, values),
            client=client,
        )
        return order.number

    return await _confirmed_in_place(
        request, user, session, settings, row=f"{order.number}/{code}", code=code, confirm=confirm
    )


@router.post("/milestones/due/arrival/{todo_id}")
async def confirm_arrival(
    request: Request,
    todo_id: int,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    """The arrival, by completing its confirm_arrival to-do as the to-do's page does."""

    async def confirm(form: FormData) -> str:
        return await worklists.confirm_arrival(
            session=session,
            user=user,
            todo_id=todo_id,
            completion=completion_from_form("confirm_arrival", form),
            client=client,
        )

    return await _confirmed_in_place(
        request, user, session, settings, row=f"arrival/{todo_id}", code="arrival", confirm=confirm
    )
