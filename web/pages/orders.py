"""Order pages: the scoped list, entry and editing of drafts, submit, repeat, the order page."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from i18n import translations
from models.domain import ORDER_ENTRY_ROLES, Role, Stage
from models.drafts import draft_of, is_editable, repeat_order
from models.queries import OrderFilter, get_order, list_orders, sees_costs
from models.tables import Customer, Order, Product
from web import operations
from web.deps import PageUser, SessionDep, SettingsDep, TemporalClient
from web.operations import Refused
from web.pages.common import page_router
from web.templating import flash, locale_of, render
from web.views import order_detail, order_summaries

router = page_router()
EMPTY_LINE_ROWS = 3


async def _scoped(session, user, number: str) -> Order:  # noqa: ANN001
    order = await get_order(session=session, user=user, number=number)
    if order is None:
        raise HTTPException(
            404, translations(user.locale or "en").gettext("There is no such order.")
        )
    return order


@router.get("/orders")
async def order_list(
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    stage: str = "",
    q: str = "",
    overdue: str = "",
    delayed: str = "",
    page: int = 1,
):  # noqa: ANN201
    filters = OrderFilter(
        stage=stage if stage in Stage.__members__ else None,
        q=q or None,
        overdue=True if overdue == "1" else None,
        delayed=True if delayed == "1" else None,
        page=max(1, page),
    )
    result = await list_orders(session=session, user=user, filters=filters)
    rows = await order_summaries(session=session, orders=result.orders, currency=settings.currency)
    return render(
        request,
        "orders/index.html",
        user=user,
        result=result,
        rows=rows,
        filters={"stage": stage, "q": q, "overdue": overdue, "delayed": delayed},
        stages=list(Stage),
        may_enter=Role(user.role) in ORDER_ENTRY_ROLES,
    )


async def _form_context(session) -> dict[str, Any]:  # noqa: ANN001
    customers = list(await session.scalars(select(Customer).order_by(Customer.name)))
    products = list(
        await session.scalars(
            select(Product).where(Product.active.is_(True)).order_by(Product.code)
        )
    )
    return {"customers": customers, "products": products}


def _draft_values(draft) -> dict[str, Any]:  # noqa: ANN001
    """Form values from a saved draft."""
    values: dict[str, Any] = {
        "customer_id": str(draft.customer_id),
        "shipping_mode": draft.shipping_mode.value,
        "requested_delivery_date": str(draft.requested_delivery_date or ""),
        "adjustment": "discount"
        if draft.order_discount_percent is not None
        else "target"
        if draft.target_total is not None
        else "none",
        "order_discount_percent": f"{draft.order_discount_percent.normalize():f}"
        if draft.order_discount_percent is not None
        else "",
        "target_total": str(draft.target_total or ""),
        "lines": [
            {
                "product_id": str(ln.product_id),
                "quantity": f"{ln.quantity.normalize():f}",
                "unit_price": f"{ln.unit_price:f}" if ln.unit_price else "",
                "discount_percent": f"{ln.discount_percent.normalize():f}",
            }
            for ln in draft.lines
        ],
        "plan": [
            {
                "percent": f"{p.percent.normalize():f}",
                "trigger": p.trigger.value,
                "offset_days": str(p.offset_days),
                "fixed_date": str(p.fixed_date or ""),
            }
            for p in draft.payment_plan
        ],
    }
    return values


def _rows(form, prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]]:  # noqa: ANN001
    indexes = sorted(
        {
            int(k.split("-")[1])
            for k in form
            if k.startswith(f"{prefix}-") and k.count("-") == 2 and k.split("-")[1].isdigit()
        }
    )
    return [{f: str(form.get(f"{prefix}-{i}-{f}") or "").strip() for f in fields} for i in indexes]


def _form_values(form) -> dict[str, Any]:  # noqa: ANN001
    return {
        "customer_id": str(form.get("customer_id") or ""),
        "shipping_mode": str(form.get("shipping_mode") or "domestic"),
        "requested_delivery_date": str(form.get("requested_delivery_date") or ""),
        "adjustment": str(form.get("adjustment") or "none"),
        "order_discount_percent": str(form.get("order_discount_percent") or "").strip(),
        "target_total": str(form.get("target_total") or "").strip(),
        "lines": _rows(form, "lines", ("product_id", "quantity", "unit_price", "discount_percent")),
        "plan": _rows(form, "plan", ("percent", "trigger", "offset_days", "fixed_date")),
    }


def _body(values: dict[str, Any]) -> dict[str, Any]:
    """The API body for the form's values (blank rows left out, blank fields defaulted)."""
    lines = [
        {
            k: v
            for k, v in {
                "product_id": ln["product_id"],
                "quantity": ln["quantity"].replace(",", ""),
                "unit_price": ln["unit_price"].replace(",", "") or None,
                "discount_percent": ln["discount_percent"] or "0",
            }.items()
            if v is not None
        }
        for ln in values["lines"]
        if ln["product_id"]
    ]
    plan = [
        {
            "percent": p["percent"],
            "trigger": p["trigger"] or "confirmation",
            "offset_days": p["offset_days"] or "0",
            "fixed_date": p["fixed_date"] or None,
        }
        for p in values["plan"]
        if p["percent"]
    ]
    body: dict[str, Any] = {
        "customer_id": values["customer_id"] or None,
        "shipping_mode": values["shipping_mode"],
        "requested_delivery_date": values["requested_delivery_date"] or None,
        "lines": lines,
        "payment_plan": plan,
    }
    if values["adjustment"] == "discount" and values["order_discount_percent"]:
        body["order_discount_percent"] = values["order_discount_percent"]
    if values["adjustment"] == "target" and values["target_total"]:
        body["target_total"] = values["target_total"].replace(",", "")
    return body


def _padded(values: dict[str, Any], extra_lines: int = EMPTY_LINE_ROWS) -> dict[str, Any]:
    blank_line = {"product_id": "", "quantity": "", "unit_price": "", "discount_percent": ""}
    blank_plan = {"percent": "", "trigger": "confirmation", "offset_days": "0", "fixed_date": ""}
    values["lines"] = [ln for ln in values["lines"] if ln["product_id"]] + [
        dict(blank_line) for _ in range(extra_lines)
    ]
    plan = [p for p in values["plan"] if p["percent"]] or [{**blank_plan, "percent": "100"}]
    values["plan"] = plan + [dict(blank_plan) for _ in range(max(0, 3 - len(plan)))]
    return values


def _new_values() -> dict[str, Any]:
    return _padded(
        {
            "customer_id": "",
            "shipping_mode": "domestic",
            "requested_delivery_date": "",
            "adjustment": "none",
            "order_discount_percent": "",
            "target_total": "",
            "lines": [],
            "plan": [],
        }
    )


@router.get("/orders/new")
async def new_order_form(request: Request, user: PageUser, session: SessionDep):  # noqa: ANN201
    try:
        operations.require_order_entry(user)
    except Refused as error:
        raise HTTPException(
            error.status, error.translated(translations(locale_of(request, user)).gettext)
        ) from error
    return render(
        request,
        "orders/form.html",
        user=user,
        values=_new_values(),
        order=None,
        **await _form_context(session),
    )


async def _save(request, user, session, order: Order | None):  # noqa: ANN001, ANN202
    form = await request.form()
    values = _form_values(form)
    t = translations(locale_of(request, user))
    if form.get("action") == "add_line":
        return render(
            request,
            "orders/form.html",
            user=user,
            order=order,
            values=_padded(values, EMPTY_LINE_ROWS + 2),
            **await _form_context(session),
        )
    try:
        draft = operations.parse_draft(_body(values))
        if order is None:
            saved = await operations.new_draft(session=session, user=user, draft=draft)
        else:
            saved = await operations.edit_draft(
                session=session, user=user, order=order, draft=draft
            )
    except Refused as error:
        if error.status in (403, 409):
            raise HTTPException(error.status, error.translated(t.gettext)) from error
        return render(
            request,
            "orders/form.html",
            user=user,
            order=order,
            status_code=422,
            values=_padded(values),
            error=error.translated(t.gettext),
            **await _form_context(session),
        )
    flash(request, t.gettext("Order %(number)s is saved.") % {"number": saved.number})
    return RedirectResponse(f"/orders/{saved.number}", status_code=303)


@router.post("/orders/new")
async def create_order(request: Request, user: PageUser, session: SessionDep):  # noqa: ANN201
    return await _save(request, user, session, None)


@router.get("/orders/{number}")
async def order_page(
    request: Request, number: str, user: PageUser, session: SessionDep, settings: SettingsDep
):  # noqa: ANN201
    order = await _scoped(session, user, number)
    detail = await order_detail(session=session, user=user, order=order, settings=settings)
    return render(
        request,
        "orders/detail.html",
        user=user,
        order=detail,
        sees_costs=sees_costs(user),
        may_edit=order.owner_id == user.id and is_editable(order),
        may_repeat=Role(user.role) in ORDER_ENTRY_ROLES,
    )


@router.get("/orders/{number}/edit")
async def edit_order_form(request: Request, number: str, user: PageUser, session: SessionDep):  # noqa: ANN201
    order = await _scoped(session, user, number)
    if order.owner_id != user.id or not is_editable(order):
        raise HTTPException(
            409,
            translations(locale_of(request, user)).gettext("This order can no longer be edited."),
        )
    values = _padded(_draft_values(await draft_of(session=session, order=order)))
    return render(
        request,
        "orders/form.html",
        user=user,
        order=order,
        values=values,
        **await _form_context(session),
    )


@router.post("/orders/{number}/edit")
async def edit_order(request: Request, number: str, user: PageUser, session: SessionDep):  # noqa: ANN201
    order = await _scoped(session, user, number)
    return await _save(request, user, session, order)


@router.post("/orders/{number}/submit")
async def submit_order(
    request: Request,
    number: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
):  # noqa: ANN201
    order = await _scoped(session, user, number)
    t = translations(locale_of(request, user))
    try:
        await operations.submit_order(
            session=session, user=user, order=order, client=client, task_queue=settings.task_queue
        )
    except Refused as error:
        flash(request, error.translated(t.gettext), "error")
        return RedirectResponse(f"/orders/{number}", status_code=303)
    flash(request, t.gettext("Order %(number)s is submitted.") % {"number": number})
    return RedirectResponse(f"/orders/{number}", status_code=303)


@router.post("/orders/{number}/repeat")
async def repeat(request: Request, number: str, user: PageUser, session: SessionDep):  # noqa: ANN201
    order = await _scoped(session, user, number)
    try:
        operations.require_order_entry(user)
    except Refused as error:
        raise HTTPException(
            error.status, error.translated(translations(locale_of(request, user)).gettext)
        ) from error
    copy = await repeat_order(session=session, user=user, order=order)
    t = translations(locale_of(request, user))
    flash(
        request,
        t.gettext("Draft %(number)s copied from %(source)s.")
        % {"number": copy.number, "source": number},
    )
    return RedirectResponse(f"/orders/{copy.number}/edit", status_code=303)
