"""Administration pages: users, departments, customers, products and the mail outbox.

Every route depends on PageAdmin (403 for anyone but an administrator); the rules and the SQL
are in models.admin and the forms' fields in web.forms.admin, so this module only turns forms
into fields and refusals into pages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from i18n import N_, translations
from models import admin
from models.admin import CUSTOMER_LEVELS, AdminRefusal, StockMoved
from models.domain import Role
from models.tables import Customer, Department, Product, User
from web.deps import PageAdmin, SessionDep
from web.forms.admin import (
    ContactFields,
    CustomerFields,
    DepartmentFields,
    ProductFields,
    UserFields,
)
from web.pages.common import page_router
from web.templating import flash, locale_of, render

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Fields = TypeVar("Fields", bound="DataclassInstance")

router = page_router()
BLANK_CONTACT_ROWS = 2


def _gettext(request: Request, user: User) -> Callable[[str], str]:
    return translations(locale_of(request, user)).gettext


def _not_found(request: Request, user: User, message: str) -> HTTPException:
    return HTTPException(404, _gettext(request, user)(message))


def _fields(form: FormData, kind: type[Fields]) -> Fields:
    """The dataclass `kind` filled from the form: text fields as typed, a checkbox true when
    it was ticked (an unticked box is not sent at all)."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(kind):
        if f.type in ("bool", bool):
            values[f.name] = f.name in form
        elif f.type in ("str", str):
            values[f.name] = str(form.get(f.name) or "")
    return kind(**values)


@router.get("/admin")
async def admin_home(_admin: PageAdmin) -> RedirectResponse:
    return RedirectResponse("/admin/users", status_code=303)


# Users ------------------------------------------------------------------------------------------


async def _user_list(
    request: Request, me: User, session: AsyncSession, **context: Any
) -> HTMLResponse:
    return render(
        request,
        "admin/users/index.html",
        user=me,
        rows=await admin.list_users(session=session),
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
        raise _not_found(request, me, N_("There is no such user."))
    return account


@router.get("/admin/users")
async def user_list(request: Request, me: PageAdmin, session: SessionDep) -> HTMLResponse:
    return await _user_list(request, me, session)


@router.get("/admin/users/new")
async def new_user_form(request: Request, me: PageAdmin, session: SessionDep) -> HTMLResponse:
    return await _user_form(request, me, session, None, UserFields(role=Role.sales.value))


@router.post("/admin/users/new")
async def create_user(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    values: UserFields = _fields(await request.form(), UserFields)
    t = _gettext(request, me)
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
    values: UserFields = _fields(await request.form(), UserFields)
    t = _gettext(request, me)
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
    t = _gettext(request, me)
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


# Departments ------------------------------------------------------------------------------------


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
        raise _not_found(request, me, N_("There is no such department."))
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
    values: DepartmentFields = _fields(await request.form(), DepartmentFields)
    t = _gettext(request, me)
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
    values: DepartmentFields = _fields(await request.form(), DepartmentFields)
    t = _gettext(request, me)
    try:
        await admin.save_department(session=session, department=department, change=values.change())
    except AdminRefusal as refusal:
        return await _department_form(
            request, me, session, department, values, refusal.translated(t)
        )
    flash(request, t("Department %(name)s is saved.") % {"name": department.name})
    return RedirectResponse("/admin/departments", status_code=303)


# Customers --------------------------------------------------------------------------------------


def _customer_fields(form: FormData) -> CustomerFields:
    values: CustomerFields = _fields(form, CustomerFields)
    indexes = sorted(
        {
            int(key.split("-")[1])
            for key in form
            if key.startswith("contacts-") and key.count("-") == 2 and key.split("-")[1].isdigit()
        }
    )
    values.contacts = [
        ContactFields(
            **{
                name: str(form.get(f"contacts-{i}-{name}") or "")
                for name in ("id", "name", "email", "phone")
            }
        )
        for i in indexes
    ]
    return values


def _with_blank_contacts(
    values: CustomerFields, blanks: int = BLANK_CONTACT_ROWS
) -> CustomerFields:
    values.contacts = [c for c in values.contacts if not c.is_blank()] + [
        ContactFields() for _ in range(blanks)
    ]
    return values


async def _customer_form(
    request: Request,
    me: User,
    customer: Customer | None,
    values: CustomerFields,
    error: str | None = None,
    blanks: int = BLANK_CONTACT_ROWS,
) -> HTMLResponse:
    return render(
        request,
        "admin/customers/form.html",
        user=me,
        customer=customer,
        values=_with_blank_contacts(values, blanks),
        levels=CUSTOMER_LEVELS,
        error=error,
        status_code=422 if error else 200,
    )


async def _customer(
    request: Request, me: User, session: AsyncSession, customer_id: int
) -> Customer:
    customer = await admin.get_customer(session=session, customer_id=customer_id)
    if customer is None:
        raise _not_found(request, me, N_("There is no such customer."))
    return customer


async def _save_customer(
    request: Request, me: User, session: AsyncSession, customer: Customer | None
) -> Response:
    form = await request.form()
    values = _customer_fields(form)
    if form.get("action") == "add_contact":
        return await _customer_form(request, me, customer, values, blanks=BLANK_CONTACT_ROWS + 2)
    t = _gettext(request, me)
    try:
        saved = await admin.save_customer(
            session=session, customer=customer, change=values.change()
        )
    except AdminRefusal as refusal:
        return await _customer_form(request, me, customer, values, refusal.translated(t))
    flash(request, t("Customer %(name)s is saved.") % {"name": saved.name})
    return RedirectResponse("/admin/customers", status_code=303)


@router.get("/admin/customers")
async def customer_list(request: Request, me: PageAdmin, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "admin/customers/index.html",
        user=me,
        customers=await admin.list_customers(session=session),
    )


@router.get("/admin/customers/new")
async def new_customer_form(request: Request, me: PageAdmin) -> HTMLResponse:
    return await _customer_form(request, me, None, CustomerFields(credit_limit="0"))


@router.post("/admin/customers/new")
async def create_customer(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    return await _save_customer(request, me, session, None)


@router.get("/admin/customers/{customer_id}")
async def edit_customer_form(
    request: Request, customer_id: int, me: PageAdmin, session: SessionDep
) -> HTMLResponse:
    customer = await _customer(request, me, session, customer_id)
    return await _customer_form(request, me, customer, CustomerFields.of(customer))


@router.post("/admin/customers/{customer_id}")
async def edit_customer(
    request: Request, customer_id: int, me: PageAdmin, session: SessionDep
) -> Response:
    customer = await _customer(request, me, session, customer_id)
    return await _save_customer(request, me, session, customer)


# Products ---------------------------------------------------------------------------------------


async def _product_form(
    request: Request,
    me: User,
    product: Product | None,
    values: ProductFields,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin/products/form.html",
        user=me,
        product=product,
        values=values,
        error=error,
        status_code=422 if error else 200,
    )


async def _product(request: Request, me: User, session: AsyncSession, product_id: int) -> Product:
    product = await admin.get_product(session=session, product_id=product_id)
    if product is None:
        raise _not_found(request, me, N_("There is no such product."))
    return product


async def _save_product(
    request: Request, me: User, session: AsyncSession, product: Product | None
) -> Response:
    values: ProductFields = _fields(await request.form(), ProductFields)
    t = _gettext(request, me)
    try:
        saved = await admin.save_product(session=session, product=product, change=values.change())
    except StockMoved as refusal:
        assert product is not None  # only an existing product's stock can have moved
        # Show the current figures; saving again then overwrites them knowingly.
        await session.refresh(product)
        values.stock_on_hand_was = ProductFields.of(product).stock_on_hand_was
        return await _product_form(request, me, product, values, refusal.translated(t))
    except AdminRefusal as refusal:
        return await _product_form(request, me, product, values, refusal.translated(t))
    flash(request, t("Product %(code)s is saved.") % {"code": saved.code})
    return RedirectResponse("/admin/products", status_code=303)


@router.get("/admin/products")
async def product_list(request: Request, me: PageAdmin, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "admin/products/index.html",
        user=me,
        products=await admin.list_products(session=session),
    )


@router.get("/admin/products/new")
async def new_product_form(request: Request, me: PageAdmin) -> HTMLResponse:
    return await _product_form(request, me, None, ProductFields())


@router.post("/admin/products/new")
async def create_product(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    return await _save_product(request, me, session, None)


@router.get("/admin/products/{product_id}")
async def edit_product_form(
    request: Request, product_id: int, me: PageAdmin, session: SessionDep
) -> HTMLResponse:
    product = await _product(request, me, session, product_id)
    return await _product_form(request, me, product, ProductFields.of(product))


@router.post("/admin/products/{product_id}")
async def edit_product(
    request: Request, product_id: int, me: PageAdmin, session: SessionDep
) -> Response:
    product = await _product(request, me, session, product_id)
    return await _save_product(request, me, session, product)


# The mail outbox --------------------------------------------------------------------------------


@router.get("/admin/mail")
async def mail_list(
    request: Request, me: PageAdmin, session: SessionDep, page: int = 1
) -> HTMLResponse:
    return render(
        request,
        "admin/mail/index.html",
        user=me,
        outbox=await admin.list_outbox(session=session, page=page),
    )


@router.get("/admin/mail/{mail_id}")
async def mail_detail(
    request: Request, mail_id: int, me: PageAdmin, session: SessionDep
) -> HTMLResponse:
    mail = await admin.get_mail(session=session, mail_id=mail_id)
    if mail is None:
        raise _not_found(request, me, N_("There is no such mail."))
    return render(request, "admin/mail/detail.html", user=me, mail=mail)
