"""Administration of departments: the list, a new or edited department."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models import admin
from models.admin import AdminRefusal
from models.tables import Department, User
from web.deps import PageAdmin, SessionDep
from web.forms.admin import DepartmentFields
from web.pages.admin.common import fields_of, gettext_for, not_found
from web.pages.common import page_router
from web.templating import flash, render

router = page_router()


async def _department_form(
    request: Request,
    me: User,
    session: AsyncSession,
    department: Department | None,
    values: DepartmentFields,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin/departments/form.html",
        user=me,
        department=department,
        values=values,
        departments=await admin.all_departments(session=session),
        managers=await admin.all_users(session=session),
        error=error,
        status_code=422 if error else 200,
    )


async def _department(
    request: Request, me: User, session: AsyncSession, department_id: int
) -> Department:
    department = await admin.get_department(session=session, department_id=department_id)
    if department is None:
        raise not_found(request, me, N_("There is no such department."))
    return department


@router.get("/admin/departments")
async def department_list(request: Request, me: PageAdmin, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "admin/departments/index.html",
        user=me,
        rows=await admin.list_departments(session=session),
    )


@router.get("/admin/departments/new")
async def new_department_form(request: Request, me: PageAdmin, session: SessionDep) -> HTMLResponse:
    return await _department_form(request, me, session, None, DepartmentFields())


@router.post("/admin/departments/new")
async def create_department(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    values: DepartmentFields = fields_of(await request.form(), DepartmentFields)
    t = gettext_for(request, me)
    try:
        department = await admin.save_department(
            session=session, department=None, change=values.change()
        )
    except AdminRefusal as refusal:
        return await _department_form(request, me, session, None, values, refusal.translated(t))
    flash(request, t("Department %(name)s is created.") % {"name": department.name})
    return RedirectResponse("/admin/departments", status_code=303)


@router.get("/admin/departments/{department_id}")
async def edit_department_form(
    request: Request, department_id: int, me: PageAdmin, session: SessionDep
) -> HTMLResponse:
    department = await _department(request, me, session, department_id)
    return await _department_form(request, me, session, department, DepartmentFields.of(department))


@router.post("/admin/departments/{department_id}")
async def edit_department(
    request: Request, department_id: int, me: PageAdmin, session: SessionDep
) -> Response:
    department = await _department(request, me, session, department_id)
    values: DepartmentFields = fields_of(await request.form(), DepartmentFields)
    t = gettext_for(request, me)
    try:
        await admin.save_department(session=session, department=department, change=values.change())
    except AdminRefusal as refusal:
        return await _department_form(
            request, me, session, department, values, refusal.translated(t)
        )
    flash(request, t("Department %(name)s is saved.") % {"name": department.name})
    return RedirectResponse("/admin/departments", status_code=303)
