"""The inbox (the home page) and a to-do's page with the form that completes it."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import translations
from models.domain import CostCategory, TodoStatus
from models.queries import COST_TODO_KINDS, list_todos, order_of_todo, sees_costs
from models.queries.customers import site_for_todo
from models.queries.sorting import SortOrder
from models.queries.todos import DUE_WINDOWS, InboxFilter
from models.tables import Todo, User
from settings import Settings
from web.api.home import HomeToday
from web.commands.actions import Refused
from web.commands.dispatch import packing_for_todo
from web.commands.fulfilment import OWN_CONFIRMATION, milestone_codes
from web.commands.todos import complete_todo, requested_by, visible_todo
from web.deps import PageUser, SessionDep, SettingsDep, TemporalClient
from web.exports import ExportFormat, export_response
from web.exports.access import PageExporter, exporter_of
from web.exports.todos import todos_export
from web.forms.errors import FormRefusal, form_refusal
from web.pages.common import page_router
from web.pages.home_figures import home_block
from web.pages.todo_forms import (
    COST_ITEM_REFUSALS,
    FormFields,
    completion_from_form,
    shown_cost_rows,
)
from web.sorting import SortColumn, SortDirection, SortLinks
from web.templating import flash, locale_of, render
from web.views import order_detail

router = page_router()


@router.get("/")
async def inbox(
    request: Request,
    user: PageUser,
    session: SessionDep,
    today: HomeToday,
    kind: str = "",
    order: str = "",
    customer: str = "",
    due: str = "",
    sort: SortColumn = "",
    direction: SortDirection = "",
) -> HTMLResponse:
    filters = InboxFilter.asked(
        kind=kind, order=order, customer=customer, due=due, sort=sort, direction=direction
    )
    items = await list_todos(session=session, user=user, status=TodoStatus.open, filters=filters)
    shown = {
        "kind": filters.kind or "",
        "order": filters.order or "",
        "customer": filters.customer or "",
        "due": filters.due or "",
    }
    return render(
        request,
        "inbox.html",
        user=user,
        items=items,
        filters=shown,
        due_windows=DUE_WINDOWS,
        sorting=SortLinks("/", filters.sort, shown, usual=SortOrder("since")),
        **await home_block(request, user, session, today),  # the figures above the inbox
    )


async def _todo_page(
    request: Request,
    user: User,
    session: AsyncSession,
    settings: Settings,
    todo_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
    values: FormFields | None = None,
    refused: FormRefusal | None = None,
) -> HTMLResponse:
    todo = await visible_todo(session=session, user=user, todo_id=todo_id)
    order = await order_of_todo(session=session, todo=todo)
    detail = await order_detail(session=session, user=user, order=order, settings=settings)
    codes = milestone_codes(order)
    return render(
        request,
        "todos/detail.html",
        user=user,
        todo=todo,
        order=detail,
        sees_costs=sees_costs(user),
        error=error,
        refused=refused,
        status_code=status_code,
        values=values or {},
        # plan_shipment: the shipping mode's milestones; confirm_milestone: those ops confirm
        plan_codes=[c.value for c in codes],
        confirmable_codes=[c.value for c in codes if c not in OWN_CONFIRMATION],
        todo_milestone=str((todo.facts or {}).get("code") or ""),
        # confirm_payment, issue_invoice, collect: what the to-do is about, dates as dates
        money_facts=_money_facts(todo.facts or {}),
        # the cost to-dos: their figures as numbers, the item rows as typed
        cost_kinds=COST_TODO_KINDS,
        cost_facts=_cost_facts(todo.facts or {}) if todo.kind in COST_TODO_KINDS else {},
        cost_rows=shown_cost_rows(values or {}),
        # estimate_cost for a change request: its number and the lines as it makes them
        change_estimate=_change_estimate(todo),
        cost_categories=[c.value for c in CostCategory],
        requested_by=await requested_by(session=session, todo=todo),
        # confirm_acceptance: the site's address and the customer's contacts
        site=await site_for_todo(session=session, kind=todo.kind, order=order),
        # confirm_dispatch: what remains of each line in the to-do's round
        packing=await packing_for_todo(session=session, todo=todo, order=order),
        today=datetime.now(UTC).date().isoformat(),
    )


def _money_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """A money to-do's facts for its page: the amount as a number, the dates as dates."""
    shown = dict(facts)
    for name in ("received_on", "due"):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            shown[name] = date.fromisoformat(shown[name])
    with contextlib.suppress(KeyError, ArithmeticError, TypeError, ValueError):
        shown["amount"] = Decimal(shown["amount"])
    return shown


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except ArithmeticError:
        return None


def _change_estimate(todo: Todo) -> dict[str, Any] | None:
    """A change request's estimate_cost to-do for its page: the change's number, its lines
    (a new one with its id -1, -2, ...) with amounts as numbers, the other costs as they
    stand; None for the order's own estimate."""
    facts = todo.facts or {}
    if todo.kind != "estimate_cost" or "change_request" not in facts:
        return None
    lines = [
        {
            **line,
            "id": line.get("line_id"),
            "quantity": _decimal(line.get("quantity")),
            "standard_cost": _decimal(line.get("standard_cost")),
            "unit_cost": _decimal(line.get("unit_cost")),
        }
        for line in facts.get("lines") or []
    ]
    others = {name: str(facts.get(name) or "0") for name in ("freight", "installation", "other")}
    return {"number": facts["change_request"], "lines": lines, **others}


REVENUE_FACTS = ("order_total", "returned", "credited_otherwise", "revenue", "actual_margin")


def _cost_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """A cost to-do's facts for its page, every amount and percent as a number."""
    figures = ("total", "expected", "actual", "difference", "percent", "threshold_amount")
    shown = {**facts, **{name: _decimal(facts.get(name)) for name in figures}}
    shown["items"] = [
        {**item, "amount": _decimal(item.get("amount"))} for item in facts.get("items") or []
    ]
    shown["categories"] = [
        {**row, **{name: _decimal(row.get(name)) for name in figures[1:]}}
        for row in facts.get("categories") or []
    ]
    for name in REVENUE_FACTS:  # the variance to-dos': the net revenue and the margin on it
        shown[name] = _decimal(facts.get(name))
    return shown


@router.get("/todos/export.{file_format}")
async def export_todos(
    request: Request,
    user: PageExporter,
    session: SessionDep,
    file_format: ExportFormat,
    kind: str = "",
    order: str = "",
    customer: str = "",
    due: str = "",
    sort: SortColumn = "",
    direction: SortDirection = "",
) -> Response:
    """The inbox as filtered and sorted, every to-do of it, as a file (before the to-do
    page's route, which would take `export.csv` for a to-do's number)."""
    filters = InboxFilter.asked(
        kind=kind, order=order, customer=customer, due=due, sort=sort, direction=direction
    )
    export = await todos_export(request=request, session=session, user=user, filters=filters)
    return await export_response(
        export, file_format=file_format, exporter=exporter_of(request, user)
    )


@router.get("/todos/{todo_id}")
async def todo_page(
    request: Request, todo_id: int, user: PageUser, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    try:
        return await _todo_page(request, user, session, settings, todo_id)
    except Refused as error:
        return render(
            request,
            "error.html",
            user=user,
            status_code=error.status,
            message=error.translated(translations(locale_of(request, user)).gettext),
            status=error.status,
        )


@router.post("/todos/{todo_id}/complete")
async def complete_todo_form(
    request: Request,
    todo_id: int,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    form = await request.form()
    t = translations(locale_of(request, user))
    try:
        todo = await visible_todo(session=session, user=user, todo_id=todo_id)
        completion = completion_from_form(todo.kind, form)
        await complete_todo(
            session=session, user=user, todo=todo, completion=completion, client=client
        )
    except Refused as error:
        if error.status == 404:
            return render(
                request,
                "error.html",
                user=user,
                status_code=404,
                message=error.translated(translations(locale_of(request, user)).gettext),
                status=404,
            )
        return await _todo_page(
            request,
            user,
            session,
            settings,
            todo_id,
            error=error.translated(t.gettext),
            status_code=error.status,
            # the refused line, for a form that says the refusal next to it
            values={**dict(form), "error_line": str(error.params.get("line", ""))},
            refused=form_refusal(error, t.gettext, located=COST_ITEM_REFUSALS),
        )
    flash(request, t.gettext("Done. The to-do is closed."))
    return RedirectResponse("/", status_code=303)
