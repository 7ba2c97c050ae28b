"""Targets in the JSON API: a month's targets of one's department tree, saving a list of them,
importing them from a CSV or XLSX file (sales managers for their tree, directors for all)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from i18n import translations
from models.tables import User
from models.targets.importer import ROW_SAYS, ImportRefused, import_targets, read_rows
from models.targets.rules import (
    NEITHER,
    TargetRefusal,
    parse_amount,
    parse_measure,
    parse_month,
)
from models.targets.store import (
    MonthTargets,
    TargetEntry,
    TargetsRefused,
    TargetTree,
    check_may_set_targets,
    month_targets,
    save_targets,
    target_tree,
)
from web.api import ApiRoute, refused
from web.commands.actions import Refused
from web.deps import ApiUser, SessionDep
from web.schemas import Model, errors
from web.templating import locale_of

router = APIRouter(prefix="/api/v1", tags=["targets"], route_class=ApiRoute, responses=errors(403))


async def target_setter(user: ApiUser) -> User:
    """The user, if they set targets (sales managers, directors); 403 before the body is read."""
    try:
        check_may_set_targets(user)
    except TargetRefusal as refusal:
        raise refused(Refused.of(403, refusal)) from refusal
    return user


TargetSetter = Annotated[User, Depends(target_setter)]


class MeasureTargetOut(Model):
    """A department's target of one measure: its own (`own`, None when not set), the sum of its
    people's and sub-departments' (`default`) and the one in force (`target`)."""

    own: Decimal | None
    default: Decimal
    target: Decimal


class PersonTargetOut(Model):
    id: int
    username: str
    full_name: str
    confirmed: Decimal | None
    collected: Decimal | None


class DepartmentTargetOut(Model):
    id: int
    name: str
    parent_id: int | None
    depth: int
    confirmed: MeasureTargetOut
    collected: MeasureTargetOut
    people: list[PersonTargetOut]


class MonthTargetsOut(Model):
    month: str
    departments: list[DepartmentTargetOut]


class TargetIn(BaseModel):
    """One target: a person's (`user_id`) or a department's (`department_id`), for the month
    (2026-11) and the measure (`confirmed`: order amount confirmed, `collected`: money in). An
    amount of null removes it (a department then has the sum of its people's again)."""

    month: str
    measure: str
    user_id: int | None = None
    department_id: int | None = None
    amount: Decimal | str | None


class SavedOut(Model):
    saved: int


def targets_out(tree: TargetTree, targets: MonthTargets) -> MonthTargetsOut:
    """The month's targets of the user's tree, as the API and the page show them."""
    departments = []
    for department in tree.departments:
        measures = {
            m: MeasureTargetOut(
                own=targets.explicit.get((m, department.id)),
                default=targets.defaults[m].get(department.id, Decimal("0.00")),
                target=targets.department(m, department.id),
            )
            for m in ("confirmed", "collected")
        }
        people = [
            PersonTargetOut(
                id=p.id,
                username=p.username,
                full_name=p.full_name,
                confirmed=targets.people.get(("confirmed", p.id)),
                collected=targets.people.get(("collected", p.id)),
            )
            for p in tree.people[department.id]
        ]
        departments.append(
            DepartmentTargetOut(
                id=department.id,
                name=department.name,
                parent_id=department.parent_id,
                depth=tree.depth[department.id],
                confirmed=measures["confirmed"],
                collected=measures["collected"],
                people=people,
            )
        )
    return MonthTargetsOut(month=targets.month, departments=departments)


def entry_of(body: TargetIn) -> TargetEntry:
    """A target to save from the API's body; a refusal for a bad month, measure or amount."""
    if (body.user_id is None) == (body.department_id is None):
        raise TargetRefusal(NEITHER)
    return TargetEntry(
        month=parse_month(body.month),
        measure=parse_measure(body.measure),
        amount=parse_amount(body.amount),
        user_id=body.user_id,
        department_id=body.department_id,
    )


@router.get("/targets", responses=errors(422))
async def get_targets(
    user: TargetSetter,
    session: SessionDep,
    month: Annotated[str, Query(description="The month, e.g. 2026-11")],
) -> MonthTargetsOut:
    """The month's targets of each department of the user's tree and of its people."""
    try:
        chosen = parse_month(month)
    except TargetRefusal as refusal:
        raise refused(Refused.of(422, refusal)) from refusal
    tree = await target_tree(session=session, user=user)
    targets = await month_targets(session=session, month=chosen, departments=tree.all_departments)
    return targets_out(tree, targets)


@router.put("/targets", responses=errors(422))
async def put_targets(user: TargetSetter, session: SessionDep, body: list[TargetIn]) -> SavedOut:
    """Save the targets, all or none: a bad month (2026-13), measure or amount (negative, not a
    number) answers 422, a person or department outside the user's tree 403, a department's
    own target below the sum of its people's and sub-departments' 422."""
    try:
        entries = [entry_of(item) for item in body]
        await save_targets(session=session, user=user, entries=entries, now=datetime.now(UTC))
    except TargetRefusal as refusal:
        raise refused(Refused.of(refusal.status, refusal)) from refusal
    except TargetsRefused as refusals:
        first = refusals.refusals[0][1]
        raise refused(Refused.of(refusals.status, first)) from refusals
    return SavedOut(saved=len(entries))


@router.post("/targets/import", response_model=SavedOut, responses=errors(422))
async def import_targets_file(
    request: Request, user: TargetSetter, session: SessionDep, file: UploadFile
) -> SavedOut | JSONResponse:
    """Targets from a CSV or XLSX file with the columns month, username or department, measure
    and amount: all saved, or none and 422 with each bad row's number and what is wrong
    (`rows`)."""
    try:
        content = await file.read()
        await file.close()
        rows = read_rows(file.filename or "", content)
        saved = await import_targets(session=session, user=user, rows=rows, now=datetime.now(UTC))
    except ImportRefused as refusal:
        return import_refused(request, refusal)
    return SavedOut(saved=saved)


def import_refused(request: Request, refusal: ImportRefused) -> JSONResponse:
    gettext = translations(locale_of(request)).gettext
    rows = [{"row": row, "detail": r.translated(gettext)} for row, r in refusal.refusals]
    first = rows[0]
    detail = first["detail"]
    if first["row"] is not None:
        detail = gettext(ROW_SAYS) % {"row": first["row"], "problem": detail}
    return JSONResponse({"detail": detail, "rows": rows}, status_code=refusal.status)
