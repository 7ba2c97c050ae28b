"""Order entry pages: the scoped list, new and edited drafts, submit and repeat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from i18n import Formatter, translations
from models.domain import ORDER_ENTRY_ROLES, Role, Stage
from models.drafts import DraftError, draft_of, is_editable, repeat_order
from models.policy import current_collection_policy
from models.queries import OrderFilter, list_orders
from models.queries.orders import ORDER_SORTS
from models.queries.sorting import SortOrder
from models.tables import Customer, Order, Product, User
from web.commands import orders
from web.commands.actions import Refused
from web.deps import PageOrder, PageUser, SessionDep, SettingsDep, TemporalClient
from web.forms.errors import Located, form_refusal
from web.pages.common import page_router
from web.pages.orders.draft_form import (
    EMPTY_LINE_ROWS,
    draft_body,
    new_values,
    padded,
    values_of_draft,
    values_of_form,
)
from web.pages.orders.entry_figures import form_figures
from web.sorting import SortColumn, SortDirection, SortLinks
from web.templating import flash, locale_of, render
from web.views import order_summaries

router = page_router()
# The order form's names for the draft's fields, and the fields of the order's own refusals.
FORM_NAMES = {"payment_plan": "plan", "payment_plan_name": "plan_name"}
LOCATED: Located = {
    "Line %(n)s: the quantity must be greater than zero.": lambda p: f"lines-{p['n'] - 1}-quantity",
    "Line %(n)s: the unit price must be greater than zero.": lambda p: (
        f"lines-{p['n'] - 1}-unit_price"
    ),
    "Line %(n)s: the discount must be between 0 and 100 %%.": lambda p: (
        f"lines-{p['n'] - 1}-discount_percent"
    ),
    "Line %(n)s: there is no product %(product)s.": lambda p: f"lines-{p['n'] - 1}-product_id",
    "The whole-order discount must be between 0 and 100 %%.": lambda p: "order_discount_percent",
    "The target total must be greater than zero.": lambda p: "target_total",
    "The target total can have at most two decimals.": lambda p: "target_total",
    "The requested delivery date %(date)s is not between %(earliest)s and %(latest)s.": lambda p: (
        "requested_delivery_date"
    ),
    "There is no payment plan named %(name)s; choose one of: %(names)s.": lambda p: "plan_name",
    "Installment %(n)s: the fixed date %(date)s is not between %(earliest)s and %(latest)s.": (
        lambda p: f"plan-{p['n'] - 1}-fixed_date"
    ),
}


@dataclass(frozen=True)
class OrderListQuery:
    """The order list's filters from the query string, and as the page shows them back."""

    filters: OrderFilter
    shown: dict[str, str]


def order_list_query(
    stage: str = "",
    q: str = "",
    overdue: str = "",
    delayed: str = "",
    page: int = 1,
    sort: SortColumn = "",
    direction: SortDirection = "",
) -> OrderListQuery:
    filters = OrderFilter(
        stage=stage if stage in Stage.__members__ else None,
        q=q or None,
        overdue=True if overdue == "1" else None,
        delayed=True if delayed == "1" else None,
        page=max(1, page),
        sort=SortOrder.of(sort, direction, ORDER_SORTS),
    )
    return OrderListQuery(filters, {"stage": stage, "q": q, "overdue": overdue, "delayed": delayed})


OrderListParams = Annotated[OrderListQuery, Depends(order_list_query)]


@router.get("/orders")
async def order_list(
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    query: OrderListParams,
) -> HTMLResponse:
    filters, shown = query.filters, query.shown
    result = await list_orders(session=session, user=user, filters=filters)
    rows = await order_summaries(session=session, orders=result.orders, currency=settings.currency)
    return render(
        request,
        "orders/index.html",
        user=user,
        result=result,
        rows=rows,
        filters=shown,
        sorting=SortLinks("/orders", filters.sort, shown, usual=SortOrder("created", True)),
        stages=list(Stage),
        may_enter=Role(user.role) in ORDER_ENTRY_ROLES,
    )


def _require_order_entry(request: Request, user: User) -> None:
    """The page's refusal (403) for a role that does not enter orders."""
    try:
        orders.require_order_entry(user)
    except Refused as error:
        raise HTTPException(
            error.status, error.translated(translations(locale_of(request, user)).gettext)
        ) from error


async def _form_page(
    request: Request,
    user: User,
    session: AsyncSession,
    order: Order | None,
    values: dict[str, Any],
    **context: Any,
) -> HTMLResponse:
    """The order form, for a new order or a draft, with the customers, products and payment
    plans to choose from, and the figures its running total works from."""
    customers = list(await session.scalars(select(Customer).order_by(Customer.name)))
    products = list(
        await session.scalars(
            select(Product).where(Product.active.is_(True)).order_by(Product.code)
        )
    )
    plans = (await current_collection_policy(session=session)).plans
    locale = locale_of(request, user)
    figures = await form_figures(
        session=session,
        user=user,
        fmt=Formatter(locale, request.app.state.settings.currency),
        gettext=translations(locale).gettext,
        customers=customers,
        products=products,
        order=order,
    )
    return render(
        request,
        "orders/form.html",
        user=user,
        order=order,
        values=values,
        customers=customers,
        products=products,
        figures=figures,
        plans=plans,
        **context,
    )


@router.get("/orders/new")
async def new_order_form(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    _require_order_entry(request, user)
    return await _form_page(request, user, session, None, new_values())


async def _save(
    request: Request, user: User, session: AsyncSession, order: Order | None
) -> Response:
    form = await request.form()
    values = values_of_form(form)
    t = translations(locale_of(request, user))
    if form.get("action") == "add_line":
        return await _form_page(request, user, session, order, padded(values, EMPTY_LINE_ROWS + 2))
    try:
        draft = orders.parse_draft(draft_body(values))
        if order is None:
            saved = await orders.new_draft(session=session, user=user, draft=draft)
        else:
            saved = await orders.edit_draft(session=session, user=user, order=order, draft=draft)
    except Refused as error:
        if error.status in (403, 409):
            raise HTTPException(error.status, error.translated(t.gettext)) from error
        return await _form_page(
            request,
            user,
            session,
            order,
            padded(values),
            status_code=422,
            error=error.translated(t.gettext),
            refused=form_refusal(error, t.gettext, renamed=FORM_NAMES, located=LOCATED),
        )
    flash(request, t.gettext("Order %(number)s is saved.") % {"number": saved.number})
    return RedirectResponse(f"/orders/{saved.number}", status_code=303)


@router.post("/orders/new")
async def create_order(request: Request, user: PageUser, session: SessionDep) -> Response:
    return await _save(request, user, session, None)


@router.get("/orders/{number}/edit")
async def edit_order_form(
    request: Request, order: PageOrder, user: PageUser, session: SessionDep
) -> HTMLResponse:
    if order.owner_id != user.id or not is_editable(order):
        raise HTTPException(
            409,
            translations(locale_of(request, user)).gettext("This order can no longer be edited."),
        )
    values = padded(values_of_draft(await draft_of(session=session, order=order)))
    return await _form_page(request, user, session, order, values)


@router.post("/orders/{number}/edit")
async def edit_order(
    request: Request, order: PageOrder, user: PageUser, session: SessionDep
) -> Response:
    return await _save(request, user, session, order)


@router.post("/orders/{number}/submit")
async def submit_order(
    request: Request,
    order: PageOrder,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> RedirectResponse:
    number = order.number
    first_submit = order.stage == Stage.draft.value
    t = translations(locale_of(request, user))
    try:
        await orders.submit_order(
            session=session,
            user=user,
            order=order,
            client=client,
            task_queue=settings.task_queue,
            idempotency_key=str((await request.form()).get("action_key") or "") or None,
        )
    except Refused as error:
        flash(request, error.translated(t.gettext), "error")
        return RedirectResponse(f"/orders/{number}", status_code=303)
    if first_submit:  # the page it redirects to shows the order in its new stage
        await orders.await_first_step(client, number)
    flash(request, t.gettext("Order %(number)s is submitted.") % {"number": number})
    return RedirectResponse(f"/orders/{number}", status_code=303)


@router.post("/orders/{number}/repeat")
async def repeat(
    request: Request, order: PageOrder, user: PageUser, session: SessionDep
) -> RedirectResponse:
    number = order.number
    _require_order_entry(request, user)
    t = translations(locale_of(request, user))
    try:
        copy = await repeat_order(session=session, user=user, order=order)
    except DraftError as error:  # e.g. a product no longer sold
        flash(request, error.translated(t.gettext), "error")
        return RedirectResponse(f"/orders/{number}", status_code=303)
    flash(
        request,
        t.gettext("Draft %(number)s copied from %(source)s.")
        % {"number": copy.number, "source": number},
    )
    return RedirectResponse(f"/orders/{copy.number}/edit", status_code=303)
