"""The admin page that edits the approval policy; each save is a new version."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from i18n import N_, translations
from models import admin, policy
from models.domain import Role
from models.policy import PolicyChanged, PolicyRefusal
from models.tables import User
from web.deps import PageAdmin, SessionDep
from web.forms.policy import PolicyDraft, PolicyFields, RequirementRow, draft_of_fields
from web.pages.common import page_router
from web.templating import flash, locale_of, render
from workflows import rules
from workflows.rules.approval import CANCELLATION_DIRECTOR_ABOVE, RETURN_DIRECTOR_ABOVE

router = page_router()
BLANK_ROWS = 3
_ROW_FIELD = re.compile(r"^rows\[(\d+)\]\.(\w+)$")
_STAGE_FIELD = re.compile(r"^stages\[(\d+)\](?:\.requirements\[(\d+)\](?:\.(.+))?|\.\w+)?$")
_CONDITION_FIELD = re.compile(r"^when\[(\d+)\]")
# The form's columns, in the words of the error message that points at one.
COLUMNS = {
    "stage": N_("stage"),
    "code": N_("requirement"),
    "decider": N_("decided by"),
    "role": N_("role"),
    "user_id": N_("person"),
    "total_at_least": N_("total ≥"),
    "discount_at_least": N_("any discount ≥"),
    "margin_below": N_("expected margin below"),
    "sla_days": N_("SLA"),
}
_TEXT = [f.name for f in dataclasses.fields(RequirementRow) if f.type in ("str", str)]
_TICKED = [f.name for f in dataclasses.fields(RequirementRow) if f.type in ("bool", bool)]


def _gettext(request: Request, user: User) -> Callable[[str], str]:
    return translations(locale_of(request, user)).gettext


def _fields(form: FormData) -> PolicyFields:
    """The form as typed: row i's fields are named rows-<i>-<field>; an unticked box is not
    sent at all."""
    indexes = sorted(
        {
            int(key.split("-")[1])
            for key in form
            if key.startswith("rows-") and key.count("-") == 2 and key.split("-")[1].isdecimal()
        }
    )
    rows = [_row(form, i) for i in indexes]
    return PolicyFields(
        rows=rows,
        notify_department_manager="notify_department_manager" in form,
        notify_roles=[str(v) for v in form.getlist("notify_roles")],
        notify_users=[str(v) for v in form.getlist("notify_users") if v],
        cancellation_director_above=str(form.get("cancellation_director_above") or ""),
        return_director_above=str(form.get("return_director_above") or ""),
        based_on=str(form.get("based_on") or ""),
    )


def _row(form: FormData, i: int) -> RequirementRow:
    values: dict[str, Any] = {name: str(form.get(f"rows-{i}-{name}") or "") for name in _TEXT}
    values.update({name: f"rows-{i}-{name}" in form for name in _TICKED})
    return RequirementRow(**values)


def _where(field: str, draft: PolicyDraft | None, t: Callable[[str], str]) -> str:
    """Where in the form a refused field is: "Row 3 (director), total ≥"."""
    if match := _ROW_FIELD.match(field):
        column = COLUMNS.get(match[2], match[2])
        return t(N_("Row %(row)s, %(column)s")) % {"row": int(match[1]) + 1, "column": t(column)}
    if draft is not None and (match := _STAGE_FIELD.match(field)):
        stage = draft.body.stages[int(match[1])]
        if match[2] is None:
            return t(N_("Stage %(n)s")) % {"n": stage.position}
        j = int(match[2])
        requirement = stage.requirements[j]
        rest = match[3] or ""
        column = rest.rsplit(".", 1)[-1]
        if condition := _CONDITION_FIELD.match(rest):
            column = requirement.when[int(condition[1])].kind.value
        return t(N_("Row %(row)s (%(code)s), %(column)s")) % {
            "row": draft.rows[(int(match[1]), j)] + 1,
            "code": requirement.code,
            "column": t(COLUMNS.get(column, column)),
        }
    if field.startswith("notify"):
        return t(N_("Notified on final approval"))
    if field == CANCELLATION_DIRECTOR_ABOVE:
        return t(N_("Cancellations"))
    if field == RETURN_DIRECTOR_ABOVE:
        return t(N_("Returns"))
    return ""


def _with_blank_rows(values: PolicyFields) -> PolicyFields:
    values.rows = [r for r in values.rows if not r.is_blank()] + [
        RequirementRow(sla_days="1") for _ in range(BLANK_ROWS)
    ]
    return values


async def _policy_page(
    request: Request,
    me: User,
    session: AsyncSession,
    values: PolicyFields | None = None,
    error: str | None = None,
    error_field: str = "",
) -> HTMLResponse:
    saved = await policy.policy_versions(session=session)
    current = policy.policy_of(saved[0]) if saved else rules.DEFAULT_APPROVAL_POLICY
    if values is None:
        values = PolicyFields.of(current)
    everyone = await admin.all_users(session=session)
    chosen = {r.user_id for r in values.rows if r.decider == "user"} | set(values.notify_users)
    return render(
        request,
        "admin/policy/index.html",
        user=me,
        current=current,
        current_row=saved[0] if saved else None,
        earlier=[(row, policy.policy_of(row)) for row in saved[1:]],
        values=_with_blank_rows(values),
        roles=[r.value for r in Role if r != Role.admin],
        # People are picked from the active ones who take part in business (not administrators);
        # one already named stays visible, so a refusal about them makes sense.
        choosable=[
            u for u in everyone if (u.active and u.role != Role.admin.value) or str(u.id) in chosen
        ],
        people={u.id: u for u in everyone},
        error=error,
        # A refused cancellation amount is also said next to its field.
        error_field=error_field,
        status_code=422 if error else 200,
    )


@router.get("/admin/policy")
async def policy_page(request: Request, me: PageAdmin, session: SessionDep) -> HTMLResponse:
    return await _policy_page(request, me, session)


@router.post("/admin/policy")
async def save_policy(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    values = _fields(await request.form())
    t = _gettext(request, me)
    draft: PolicyDraft | None = None
    try:
        draft = draft_of_fields(values)
        based_on = int(values.based_on) if values.based_on.isdecimal() else None
        saved = await policy.save_policy(
            session=session, user=me, body=draft.body, based_on=based_on
        )
    except PolicyChanged as refusal:
        # The entered rows stay; saving again replaces the newer version knowingly.
        values.based_on = str(refusal.version)
        return await _policy_page(request, me, session, values, refusal.translated(t))
    except PolicyRefusal as refusal:
        where = _where(refusal.field, draft, t)
        reason = refusal.reason(t)
        error = f"{where}: {reason}" if where else reason
        return await _policy_page(request, me, session, values, error, refusal.field)
    flash(request, t("Approval policy version %(version)s saved.") % {"version": saved.version})
    return RedirectResponse("/admin/policy", status_code=303)
