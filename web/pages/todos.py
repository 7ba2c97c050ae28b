"""The inbox (the home page) and a to-do's page with the form that completes it."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from i18n import translations
from models.domain import CostCategory, TodoKind, TodoStatus
from models.queries import COST_TODO_KINDS, list_todos, order_of_todo, sees_costs
from models.tables import Todo, User
from settings import Settings
from web.commands.actions import Refused
from web.commands.completion import CostItemIn, TodoCompletion
from web.commands.fulfilment import OWN_CONFIRMATION, milestone_codes
from web.commands.todos import complete_todo, visible_todo
from web.deps import PageUser, SessionDep, SettingsDep, TemporalClient
from web.forms.errors import first_error
from web.pages.common import page_router
from web.templating import flash, locale_of, render
from web.views import order_detail

router = page_router()
# The actual-cost forms (on the to-do page and the order page): this many item rows.
COST_ROWS = 5
ITEM_FIELDS = ("category", "amount", "reference")
# A submitted form's fields by name: the form itself, or the values typed into it.
FormFields = Mapping[str, str | UploadFile]


@router.get("/")
async def inbox(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    items = await list_todos(session=session, user=user, status=TodoStatus.open)
    return render(request, "inbox.html", user=user, items=items)


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
        cost_categories=[c.value for c in CostCategory],
        requested_by=await _requested_by(session, todo),
        today=datetime.now(UTC).date().isoformat(),
    )


async def _requested_by(session: AsyncSession, todo: Todo) -> str | None:
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


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except ArithmeticError:
        return None


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
    return shown


def cost_rows(form: FormFields) -> list[dict[str, str]]:
    """The actual-cost rows of a form (item-N-category, item-N-amount, item-N-reference) in
    their order, blank rows left out."""
    numbers = sorted(
        {
            int(parts[1])
            for key in form
            if len(parts := key.split("-")) == 3 and parts[0] == "item" and parts[1].isdigit()
        }
    )
    rows = [{f: str(form.get(f"item-{n}-{f}") or "").strip() for f in ITEM_FIELDS} for n in numbers]
    return [row for row in rows if any(row.values())]


def shown_cost_rows(form: FormFields) -> list[dict[str, str]]:
    """The rows to show: those typed first (so that a refusal's "Item 2" is the second row),
    then blank ones."""
    rows = cost_rows(form)
    return rows + [dict.fromkeys(ITEM_FIELDS, "") for _ in range(COST_ROWS - len(rows))]


def cost_items(rows: list[dict[str, str]]) -> list[CostItemIn]:
    """The items of the rows; 422 naming the item when an amount is not a number (the operation
    checks the rest)."""
    items = []
    for number, row in enumerate(rows, start=1):
        raw = row["amount"].replace(",", "").replace(" ", "")
        try:
            amount = Decimal(raw) if raw else None
            if amount is not None and not amount.is_finite():
                raise InvalidOperation(raw)
        except InvalidOperation as error:
            raise Refused(
                422,
                "Item %(number)s: “%(amount)s” is not an amount.",
                number=number,
                amount=row["amount"],
            ) from error
        try:
            items.append(
                CostItemIn(
                    category=row["category"],
                    amount=amount,
                    supplier_payment_reference=row["reference"],
                )
            )
        except ValidationError as error:
            raise Refused(422, f"Item {number}, {first_error(error)}".replace("%", "%%")) from error
    return items


def is_ticked(form: FormFields, name: str) -> bool:
    return _field(form, name) in ("1", "on", "true")


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


def _field(form: FormFields, name: str) -> str:
    return str(form.get(name) or "").strip()


def _kind_fields(kind: str, form: FormFields) -> dict[str, Any]:
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
            "reship": is_ticked(form, "reship"),
        }
    if kind == TodoKind.issue_invoice.value:
        return {"invoice_number": _field(form, "invoice_number")}
    if kind == TodoKind.record_actual_costs.value:
        return {"items": cost_items(cost_rows(form)), "final": is_ticked(form, "final")}
    if kind == TodoKind.review_variance.value:
        return {"explanation": _field(form, "explanation")}
    return {}


def _completion(kind: str, form: FormFields) -> TodoCompletion:
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
) -> Response:
    form = await request.form()
    t = translations(locale_of(request, user))
    try:
        todo = await visible_todo(session=session, user=user, todo_id=todo_id)
        completion = _completion(todo.kind, form)
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
            values=dict(form),
        )
    flash(request, t.gettext("Done. The to-do is closed."))
    return RedirectResponse("/", status_code=303)
