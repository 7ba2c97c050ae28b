"""The targets page: a month's targets of one's department tree, a field per person and per
department and measure, saved all or nothing; and importing them from a CSV or XLSX file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from i18n import N_, translations
from models.tables import User
from models.targets.importer import ImportRefused, import_targets, read_rows
from models.targets.rules import MEASURES, TargetRefusal, parse_amount, parse_month
from models.targets.store import (
    TargetEntry,
    TargetsRefused,
    check_may_set_targets,
    month_targets,
    save_targets,
    target_tree,
)
from web.api.targets import targets_out
from web.deps import PageUser, SessionDep
from web.pages.common import MAX_FORM_FIELDS, page_router
from web.templating import flash, locale_of, render

router = page_router()
SAVED = N_("The targets of %(month)s are saved.")
IMPORTED = N_("%(count)s targets imported.")
NOTHING_SAVED = N_("Nothing was saved: correct the fields marked below.")
NOTHING_IMPORTED = N_("Nothing was imported: correct these rows and import the file again.")


def _field(measure: str, kind: str, id_: int) -> str:
    """The form field of a person's (`u`) or a department's (`d`) target of a measure."""
    return f"{measure}-{kind}-{id_}"


def _allowed(request: Request, user: User) -> None:
    try:
        check_may_set_targets(user)
    except TargetRefusal as refusal:
        raise HTTPException(403, refusal.translated(_gettext(request, user))) from refusal


def _gettext(request: Request, user: User) -> Callable[[str], str]:
    return translations(locale_of(request, user)).gettext


def _month(request: Request, user: User, value: str) -> str:
    if not value.strip():
        return datetime.now(UTC).strftime("%Y-%m")
    try:
        return parse_month(value)
    except TargetRefusal as refusal:
        raise HTTPException(422, refusal.translated(_gettext(request, user))) from refusal


async def _page(
    request: Request,
    user: User,
    session: AsyncSession,
    month: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    import_problems: list[tuple[int | None, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    tree = await target_tree(session=session, user=user)
    targets = await month_targets(session=session, month=month, departments=tree.all_departments)
    return render(
        request,
        "targets/index.html",
        user=user,
        month=month,
        report=targets_out(tree, targets),
        values=values,
        errors=errors or {},
        general=general or [],
        import_problems=import_problems or [],
        field=_field,
        status_code=status_code,
    )


@router.get("/targets")
async def targets_page(
    request: Request, user: PageUser, session: SessionDep, month: str = ""
) -> HTMLResponse:
    _allowed(request, user)
    return await _page(request, user, session, _month(request, user, month))


@router.post("/targets")
async def save_targets_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    _allowed(request, user)
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    month = _month(request, user, str(form.get("month") or ""))
    gettext = _gettext(request, user)
    tree = await target_tree(session=session, user=user)
    fields = [(_field(m, "d", d.id), m, None, d.id) for d in tree.departments for m in MEASURES] + [
        (_field(m, "u", p.id), m, p.id, None)
        for d in tree.departments
        for p in tree.people[d.id]
        for m in MEASURES
    ]
    values = {name: str(form.get(name) or "") for name, *_ in fields}
    entries: list[TargetEntry] = []
    names: list[str] = []
    errors: dict[str, str] = {}
    for name, measure, user_id, department_id in fields:
        try:
            amount = parse_amount(values[name])
        except TargetRefusal as refusal:
            errors[name] = refusal.translated(gettext)
            continue
        entries.append(TargetEntry(month, measure, amount, user_id, department_id))
        names.append(name)
    if not errors:
        try:
            await save_targets(session=session, user=user, entries=entries, now=datetime.now(UTC))
        except TargetsRefused as refused:
            await session.refresh(user)
            general = []
            for index, said in refused.refusals:
                if index is None:
                    general.append(said.translated(gettext))
                else:
                    errors[names[index]] = said.translated(gettext)
            return await _refused(request, user, session, month, values, errors, general)
        flash(request, gettext(SAVED) % {"month": month})
        return RedirectResponse(f"/targets?month={month}", status_code=303)
    return await _refused(request, user, session, month, values, errors, [])


async def _refused(
    request: Request,
    user: User,
    session: AsyncSession,
    month: str,
    values: dict[str, str],
    errors: dict[str, str],
    general: list[str],
) -> HTMLResponse:
    gettext = _gettext(request, user)
    return await _page(
        request,
        user,
        session,
        month,
        values=values,
        errors=errors,
        general=[gettext(NOTHING_SAVED), *general],
        status_code=422,
    )


@router.post("/targets/import")
async def import_targets_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    _allowed(request, user)
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    month = _month(request, user, str(form.get("month") or ""))
    gettext = _gettext(request, user)
    upload = form.get("file")
    filename, content = "", b""
    if isinstance(upload, UploadFile):
        filename, content = upload.filename or "", await upload.read()
        await upload.close()
    try:
        rows = read_rows(filename, content)
        count = await import_targets(session=session, user=user, rows=rows, now=datetime.now(UTC))
    except ImportRefused as refused:
        await session.refresh(user)
        problems = [(row, refusal.translated(gettext)) for row, refusal in refused.refusals]
        return await _page(request, user, session, month, import_problems=problems, status_code=422)
    flash(request, gettext(IMPORTED) % {"count": count})
    return RedirectResponse(f"/targets?month={month}", status_code=303)
