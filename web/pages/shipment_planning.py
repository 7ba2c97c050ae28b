"""Many shipments planned from one list: ops' open plan_shipment to-dos, each with the planned
dates its own form asks for; the ticked ones are planned each through its to-do's completion,
and one refused is said next to its row without stopping the others."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.responses import Response

from i18n import N_, translations
from models.queries.worklists import PlanningTodo
from models.tables import User
from web.commands import worklists
from web.commands.actions import Refused
from web.commands.fulfilment import milestone_codes
from web.deps import PageUser, SessionDep, TemporalClient
from web.pages.common import page_router
from web.pages.todo_forms import completion_from_form
from web.templating import flash, locale_of, render

router = page_router()
PLANNED = N_("Planned: %(orders)s.")


def _defaults(planning: PlanningTodo) -> dict[str, str]:
    """A row's dates as its own to-do's form starts them: the milestones as planned so far."""
    return {code: on.isoformat() for code, on in planning.planned.items()}


async def _planning_page(
    request: Request,
    user: User,
    session: AsyncSession,
    *,
    typed: FormData | None = None,
    refused: dict[int, str] | None = None,
    planned: list[str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    t = translations(locale_of(request, user))
    try:
        rows = await worklists.planning_list(session=session, user=user)
    except Refused as refusal:
        raise HTTPException(refusal.status, refusal.translated(t.gettext)) from refusal
    refused = refused or {}
    shown = {r.todo.id for r in rows}
    return render(
        request,
        "shipments/plan_many.html",
        user=user,
        rows=[
            {
                "todo": r.todo,
                "order": r.order,
                "codes": [c.value for c in milestone_codes(r.order)],
                "defaults": _defaults(r),
            }
            for r in rows
        ],
        typed=typed,
        ticked={str(v) for v in typed.getlist("plan")} if typed else set(),
        refused=refused,
        # refusals of to-dos no longer listed (planned meanwhile by someone else): at the top
        elsewhere=[
            (typed.get(f"order-{i}") if typed else "", message)
            for i, message in refused.items()
            if i not in shown
        ],
        planned_now=planned or [],
        error=error,
        status_code=status_code,
    )


@router.get("/plan-shipments")
async def planning(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    return await _planning_page(request, user, session)


def _ticked(form: FormData) -> list[int]:
    """The to-dos ticked, each once, in the page's order."""
    ids = [int(v) for v in form.getlist("plan") if isinstance(v, str) and v.isdigit()]
    return list(dict.fromkeys(ids))


def _row_fields(form: FormData, todo_id: int) -> dict[str, Any]:
    """A row's planned dates as its own to-do's form names them (planned-<code>)."""
    prefix = f"planned-{todo_id}-"
    return {f"planned-{k.removeprefix(prefix)}": form.get(k) for k in form if k.startswith(prefix)}


@router.post("/plan-shipments")
async def plan_many(
    request: Request, user: PageUser, session: SessionDep, client: TemporalClient
) -> Response:
    form = await request.form()
    t = translations(locale_of(request, user))
    try:
        worklists.require_worklist(user)
    except Refused as error:
        raise HTTPException(error.status, error.translated(t.gettext)) from error
    chosen = _ticked(form)
    if not chosen:
        return await _planning_page(
            request, user, session, typed=form, error=t.gettext(worklists.NOTHING_TICKED),
            status_code=422,
        )  # fmt: skip
    planned: list[str] = []
    refused: dict[int, Refused] = {}
    for todo_id in chosen:
        try:
            completion = completion_from_form("plan_shipment", _row_fields(form, todo_id))
            number = await worklists.plan_one(
                session=session, user=user, todo_id=todo_id, completion=completion, client=client
            )
        except Refused as error:
            refused[todo_id] = error
            continue
        planned.append(number)
    if not refused:
        flash(request, t.gettext(PLANNED) % {"orders": ", ".join(planned)})
        return RedirectResponse("/plan-shipments", status_code=303)
    return await _planning_page(
        request,
        user,
        session,
        typed=form,
        refused={i: e.translated(t.gettext) for i, e in refused.items()},
        planned=planned,
        status_code=next(iter(refused.values())).status,
    )
