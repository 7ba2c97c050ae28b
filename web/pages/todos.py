"""The inbox (the home page) and a to-do's page with the form that completes it."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from i18n import translations
from models.domain import TodoKind, TodoStatus
from models.drafts import first_error
from models.queries import list_todos, order_of_todo, sees_costs
from models.tables import User
from web import operations
from web.deps import PageUser, SessionDep, SettingsDep, TemporalClient
from web.operations import Refused, TodoCompletion
from web.pages.common import page_router
from web.templating import flash, locale_of, render
from web.views import order_detail

router = page_router()


@router.get("/")
async def inbox(request: Request, user: PageUser, session: SessionDep):  # noqa: ANN201
    items = await list_todos(session=session, user=user, status=TodoStatus.open)
    return render(request, "inbox.html", user=user, items=items)


async def _todo_page(
    request, user, session, settings, todo_id, *, error=None, status_code=200, values=None
):  # noqa: ANN001, ANN202
    todo = await operations.visible_todo(session=session, user=user, todo_id=todo_id)
    order = await order_of_todo(session=session, todo=todo)
    detail = await order_detail(session=session, user=user, order=order, settings=settings)
    codes = operations.milestone_codes(order)
    return render(
        request,
        "todos/detail.html",
        user=user,
        todo=todo,
        order=detail,
        sees_costs=sees_costs(user),
        error=error,
        status_code=status_code,
        values=values or {},
        # plan_shipment: the shipping mode's milestones; confirm_milestone: those ops confirm
        plan_codes=[c.value for c in codes],
        confirmable_codes=[c.value for c in codes if c not in operations.OWN_CONFIRMATION],
        todo_milestone=str((todo.facts or {}).get("code") or ""),
        # confirm_payment, issue_invoice, collect: what the to-do is about, dates as dates
        money_facts=_money_facts(todo.facts or {}),
        requested_by=await _requested_by(session, todo),
        today=datetime.now(UTC).date().isoformat(),
    )


async def _requested_by(session, todo) -> str | None:  # noqa: ANN001
    """Who asked for the to-do (the owner who registered a payment, whoever applied for an
    invoice)."""
    if todo.requested_by_id is None:
        return None
    asker = await session.get(User, todo.requested_by_id)
    return asker.full_name if asker else None


def _money_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """A money to-do's facts for its page: the amount as a number, the dates as dates."""
    shown = dict(facts)
    for name in ("received_on", "due"):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            shown[name] = date.fromisoformat(shown[name])
    with contextlib.suppress(KeyError, ArithmeticError, TypeError, ValueError):
        shown["amount"] = Decimal(shown["amount"])
    return shown


@router.get("/todos/{todo_id}")
async def todo_page(
    request: Request, todo_id: int, user: PageUser, session: SessionDep, settings: SettingsDep
):  # noqa: ANN201
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


def _field(form, name: str) -> str:  # noqa: ANN001
    return str(form.get(name) or "").strip()


def _kind_fields(kind: str, form) -> dict[str, Any]:  # noqa: ANN001
    """A fulfilment or money to-do's fields from its form (blank dates left out: the operation
    says which one is missing)."""
    if kind == TodoKind.plan_shipment.value:
        return {
            "milestones": [
                {"code": key.removeprefix("planned-"), "planned_date": _field(form, key) or None}
                for key in form
                if key.startswith("planned-")
            ]
        }
    if kind == TodoKind.confirm_dispatch.value:
        return {
            "carrier": _field(form, "carrier"),
            "tracking_number": _field(form, "tracking_number"),
        }
    if kind in (TodoKind.confirm_milestone.value, TodoKind.confirm_arrival.value):
        return {"code": _field(form, "code"), "actual_date": _field(form, "actual_date") or None}
    if kind == TodoKind.confirm_acceptance.value:
        return {
            "accepted_on": _field(form, "accepted_on") or None,
            "signed_by": _field(form, "signed_by"),
        }
    if kind == TodoKind.handle_exception.value:
        return {
            "resolution": _field(form, "resolution"),
            "reship": _field(form, "reship") in ("1", "on", "true"),
        }
    if kind == TodoKind.issue_invoice.value:
        return {"invoice_number": _field(form, "invoice_number")}
    return {}


def _completion(kind: str, form) -> TodoCompletion:  # noqa: ANN001
    """The completion from the to-do's form fields; 422 with a message when a number or a
    date is bad."""
    outcome = str(form.get("outcome") or "")
    comment = str(form.get("comment") or "")
    if kind in (TodoKind.approve.value, TodoKind.revise.value):
        return TodoCompletion(outcome=outcome, comment=comment)
    if kind != TodoKind.estimate_cost.value:
        try:
            return TodoCompletion.model_validate(
                {"outcome": outcome, "comment": comment, **_kind_fields(kind, form)}
            )
        except ValidationError as error:
            raise Refused(422, first_error(error).replace("%", "%%")) from error

    def amount(name: str) -> Decimal:
        raw = str(form.get(name) or "0").replace(",", "").strip() or "0"
        try:
            value = Decimal(raw)
        except InvalidOperation as error:
            raise Refused(422, f"{name}: '{raw}' is not a number.") from error
        if value < 0 or not value.is_finite():
            raise Refused(422, f"{name}: the amount cannot be negative.")
        return value

    lines = [
        {"line_id": int(key.removeprefix("unit_cost-")), "unit_cost": amount(key)}
        for key in form
        if key.startswith("unit_cost-") and key.removeprefix("unit_cost-").isdigit()
    ]
    return TodoCompletion(
        outcome=outcome or "estimated",
        lines=lines,
        freight=amount("freight"),
        installation=amount("installation"),
        other=amount("other"),
    )


@router.post("/todos/{todo_id}/complete")
async def complete_todo_form(
    request: Request,
    todo_id: int,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
):  # noqa: ANN201
    form = await request.form()
    t = translations(locale_of(request, user))
    try:
        todo = await operations.visible_todo(session=session, user=user, todo_id=todo_id)
        completion = _completion(todo.kind, form)
        await operations.complete_todo(
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
            values=dict(form),
        )
    flash(request, t.gettext("Done. The to-do is closed."))
    return RedirectResponse("/", status_code=303)
