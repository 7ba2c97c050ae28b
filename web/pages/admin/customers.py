"""Administration of customers and their contacts: the list, a new or edited customer."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from i18n import N_
from models import admin
from models.admin import CONTACT_LANGUAGES, CUSTOMER_LEVELS, AdminRefusal, ContactRefusal
from models.admin.customers import CUSTOMER_SORTS
from models.queries.sorting import SortOrder
from models.tables import Customer, User
from web.deps import PageAdmin, SessionDep
from web.forms.admin import ContactFields, CustomerFields
from web.pages.admin.common import fields_of, gettext_for, not_found
from web.pages.common import page_router
from web.sorting import SortColumn, SortDirection, SortLinks
from web.templating import flash, render

router = page_router()
BLANK_CONTACT_ROWS = 2


def _customer_fields(form: FormData) -> CustomerFields:
    values: CustomerFields = fields_of(form, CustomerFields)
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
                for name in ("id", "name", "email", "phone", "language")
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
    error_field: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin/customers/form.html",
        user=me,
        customer=customer,
        values=_with_blank_contacts(values, blanks),
        levels=CUSTOMER_LEVELS,
        contact_languages=CONTACT_LANGUAGES,
        error=error,
        error_field=error_field,
        status_code=422 if error else 200,
    )


async def _customer(
    request: Request, me: User, session: AsyncSession, customer_id: int
) -> Customer:
    customer = await admin.get_customer(session=session, customer_id=customer_id)
    if customer is None:
        raise not_found(request, me, N_("There is no such customer."))
    return customer


async def _save_customer(
    request: Request, me: User, session: AsyncSession, customer: Customer | None
) -> Response:
    form = await request.form()
    values = _customer_fields(form)
    if form.get("action") == "add_contact":
        return await _customer_form(request, me, customer, values, blanks=BLANK_CONTACT_ROWS + 2)
    t = gettext_for(request, me)
    try:
        saved = await admin.save_customer(
            session=session, customer=customer, change=values.change()
        )
    except AdminRefusal as refusal:
        # A contact's field is named so the form shows the message next to it (the rows the
        # form shows again are the contacts entered, in order, then blank ones).
        field = (
            f"contacts-{refusal.row}-{refusal.field}"
            if isinstance(refusal, ContactRefusal)
            else None
        )
        return await _customer_form(
            request, me, customer, values, refusal.translated(t), error_field=field
        )
    flash(request, t("Customer %(name)s is saved.") % {"name": saved.name})
    return RedirectResponse("/admin/customers", status_code=303)


@router.get("/admin/customers")
async def customer_list(
    request: Request,
    me: PageAdmin,
    session: SessionDep,
    sort: SortColumn = "",
    direction: SortDirection = "",
) -> HTMLResponse:
    order = SortOrder.of(sort, direction, CUSTOMER_SORTS)
    return render(
        request,
        "admin/customers/index.html",
        user=me,
        customers=await admin.list_customers(session=session, sort=order),
        sorting=SortLinks("/admin/customers", order, usual=SortOrder("name")),
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
