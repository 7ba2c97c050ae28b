"""Administration of users: the list, a new or edited account, deactivate and activate."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models import admin
from models.admin import AdminRefusal
from models.admin.users import USER_SORTS
from models.domain import Role
from models.queries.sorting import SortOrder
from models.tables import User
from web.deps import PageAdmin, SessionDep
from web.forms.admin import UserFields
from web.pages.admin.common import fields_of, gettext_for, not_found
from web.pages.common import page_router
from web.sorting import SortLinks
from web.templating import flash, render

router = page_router()


@router.get("/admin")
async def admin_home(_admin: PageAdmin) -> RedirectResponse:
    return RedirectResponse("/admin/users", status_code=303)


async def _user_list(
    request: Request, me: User, session: AsyncSession, **context: Any
) -> HTMLResponse:
    order = SortOrder.of(
        request.query_params.get("sort"), request.query_params.get("dir"), USER_SORTS
    )
    return render(
        request,
        "admin/users/index.html",
        user=me,
        rows=await admin.list_users(session=session, sort=order),
        sorting=SortLinks("/admin/users", order, usual=SortOrder("username")),
        **context,
    )


async def _user_form(
    request: Request,
    me: User,
    session: AsyncSession,
    account: User | None,
    values: UserFields,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin/users/form.html",
        user=me,
        account=account,
        values=values,
        roles=[r.value for r in Role],
        departments=await admin.all_departments(session=session),
        managers=[
            u
            for u in await admin.all_users(session=session)
            if account is None or u.id != account.id
        ],
        error=error,
        status_code=422 if error else 200,
    )


async def _account(request: Request, me: User, session: AsyncSession, user_id: int) -> User:
    account = await admin.get_user(session=session, user_id=user_id)
    if account is None:
        raise not_found(request, me, N_("There is no such user."))
    return account


@router.get("/admin/users")
async def user_list(request: Request, me: PageAdmin, session: SessionDep) -> HTMLResponse:
    return await _user_list(request, me, session)


@router.get("/admin/users/new")
async def new_user_form(request: Request, me: PageAdmin, session: SessionDep) -> HTMLResponse:
    return await _user_form(request, me, session, None, UserFields(role=Role.sales.value))


@router.post("/admin/users/new")
async def create_user(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    values: UserFields = fields_of(await request.form(), UserFields)
    t = gettext_for(request, me)
    try:
        account = await admin.save_user(
            session=session, actor=me, user=None, change=values.change()
        )
    except AdminRefusal as refusal:
        values.password = ""
        return await _user_form(request, me, session, None, values, refusal.translated(t))
    flash(request, t("User %(username)s is created.") % {"username": account.username})
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users/{user_id}")
async def edit_user_form(
    request: Request, user_id: int, me: PageAdmin, session: SessionDep
) -> HTMLResponse:
    account = await _account(request, me, session, user_id)
    return await _user_form(request, me, session, account, UserFields.of(account))


@router.post("/admin/users/{user_id}")
async def edit_user(request: Request, user_id: int, me: PageAdmin, session: SessionDep) -> Response:
    account = await _account(request, me, session, user_id)
    values: UserFields = fields_of(await request.form(), UserFields)
    t = gettext_for(request, me)
    try:
        await admin.save_user(session=session, actor=me, user=account, change=values.change())
    except AdminRefusal as refusal:
        values.password = ""
        return await _user_form(request, me, session, account, values, refusal.translated(t))
    flash(request, t("User %(username)s is saved.") % {"username": account.username})
    return RedirectResponse("/admin/users", status_code=303)


async def _set_active(
    request: Request, me: User, session: AsyncSession, user_id: int, active: bool
) -> Response:
    account = await _account(request, me, session, user_id)
    t = gettext_for(request, me)
    try:
        await admin.set_user_active(session=session, actor=me, user=account, active=active)
    except AdminRefusal as refusal:
        return await _user_list(request, me, session, error=refusal.translated(t), status_code=422)
    message = (
        N_("User %(username)s is active again.")
        if active
        else N_("User %(username)s is deactivated.")
    )
    flash(request, t(message) % {"username": account.username})
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/deactivate")
async def deactivate_user(
    request: Request, user_id: int, me: PageAdmin, session: SessionDep
) -> Response:
    return await _set_active(request, me, session, user_id, False)


@router.post("/admin/users/{user_id}/activate")
async def activate_user(
    request: Request, user_id: int, me: PageAdmin, session: SessionDep
) -> Response:
    return await _set_active(request, me, session, user_id, True)
