"""Order pages: the scoped list, entry and editing of drafts, submit, repeat, the order page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from i18n import N_, translations
from models.domain import ORDER_ENTRY_ROLES, RAISABLE_EXCEPTIONS, CostCategory, Role, Stage
from models.drafts import DraftError, DraftOrder, draft_of, first_error, is_editable, repeat_order
from models.policy import current_collection_policy
from models.queries import HELD, OrderFilter, get_order, list_orders, sees_costs
from models.tables import Customer, Order, Product, User
from settings import Settings
from web import collection, costs, operations
from web.deps import PageUser, SessionDep, SettingsDep, TemporalClient
from web.operations import (
    ACCEPTED,
    OWN_CONFIRMATION,
    ExceptionRequest,
    HoldReleaseRequest,
    MilestoneDone,
    MilestoneNewDate,
    Refused,
)
from web.pages.common import page_router
from web.pages.todos import (
    COST_ROWS,
    ITEM_FIELDS,
    FormFields,
    cost_items,
    cost_rows,
    is_ticked,
    shown_cost_rows,
)
from web.templating import flash, locale_of, render
from web.views import COST_EVENTS, order_detail, order_summaries

router = page_router()
EMPTY_LINE_ROWS = 3
M = TypeVar("M", bound=BaseModel)
# One of the order page's small forms: what it does with the order and the typed values.
OrderAct = Callable[[Order, dict[str, str]], Awaitable[object]]
# The actual-cost form's fields: the item rows and whether they are the last costs.
COST_FORM_FIELDS = (
    *(f"item-{n}-{name}" for n in range(1, COST_ROWS + 1) for name in ITEM_FIELDS),
    "final",
)


async def _scoped(session: AsyncSession, user: User, number: str) -> Order:
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
) -> HTMLResponse:
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


async def _form_context(session: AsyncSession) -> dict[str, Any]:
    customers = list(await session.scalars(select(Customer).order_by(Customer.name)))
    products = list(
        await session.scalars(
            select(Product).where(Product.active.is_(True)).order_by(Product.code)
        )
    )
    plans = (await current_collection_policy(session=session)).plans
    return {"customers": customers, "products": products, "plans": plans}


def _draft_values(draft: DraftOrder) -> dict[str, Any]:
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


def _rows(form: FormFields, prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    indexes = sorted(
        {
            int(k.split("-")[1])
            for k in form
            if k.startswith(f"{prefix}-") and k.count("-") == 2 and k.split("-")[1].isdigit()
        }
    )
    return [{f: str(form.get(f"{prefix}-{i}-{f}") or "").strip() for f in fields} for i in indexes]


def _form_values(form: FormFields) -> dict[str, Any]:
    return {
        "customer_id": str(form.get("customer_id") or ""),
        "shipping_mode": str(form.get("shipping_mode") or "domestic"),
        "requested_delivery_date": str(form.get("requested_delivery_date") or ""),
        "adjustment": str(form.get("adjustment") or "none"),
        "order_discount_percent": str(form.get("order_discount_percent") or "").strip(),
        "target_total": str(form.get("target_total") or "").strip(),
        "lines": _rows(form, "lines", ("product_id", "quantity", "unit_price", "discount_percent")),
        "plan": _rows(form, "plan", ("percent", "trigger", "offset_days", "fixed_date")),
        "plan_name": str(form.get("plan_name") or "").strip(),
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
    if values.get("plan_name"):  # a plan of the policy, chosen by name, instead of the rows
        body["payment_plan"] = []
        body["payment_plan_name"] = values["plan_name"]
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
async def new_order_form(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
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


async def _save(
    request: Request, user: User, session: AsyncSession, order: Order | None
) -> Response:
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
async def create_order(request: Request, user: PageUser, session: SessionDep) -> Response:
    return await _save(request, user, session, None)


async def _order_page(
    request: Request,
    user: User,
    session: AsyncSession,
    settings: Settings,
    order: Order,
    *,
    error: str | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    detail = await order_detail(session=session, user=user, order=order, settings=settings)
    steering = operations.may_steer_shipment(user) and order.shipment_status is not None
    # collection: confirmed orders have it; the owner registers money, owner or finance apply
    # for invoices (the operations check again when the form comes back)
    collecting = order.collection_status is not None
    payable = detail.outstanding - detail.pending_payments
    invoiceable = detail.not_invoiced - detail.invoice_pending
    customer = order.customer
    # actual costs: ops record them on the order page while the order's to-do for it is open
    record_todo = None
    if Role(user.role) in costs.RECORDING_ROLES:
        record_todo = await costs.record_todo_of(session=session, order=order)
    values = values or {}
    return render(
        request,
        "orders/detail.html",
        user=user,
        order=detail,
        sees_costs=sees_costs(user),
        may_edit=order.owner_id == user.id and is_editable(order),
        may_repeat=Role(user.role) in ORDER_ENTRY_ROLES,
        # fulfilment: which of the shipment's small forms this person gets
        may_raise_exception=operations.may_raise_exception(user, order)
        and bool(detail.dispatches)
        and order.shipment_status != ACCEPTED,
        may_steer=steering,
        may_release_hold=steering and order.shipment_status == HELD,
        confirmable_codes=[
            c.value for c in operations.milestone_codes(order) if c not in OWN_CONFIRMATION
        ],
        exception_kinds=[k.value for k in RAISABLE_EXCEPTIONS],
        collecting=collecting,
        payable=payable,
        invoiceable=invoiceable,
        may_register_payment=collecting and order.owner_id == user.id and detail.outstanding > 0,
        may_request_invoice=collecting
        and (order.owner_id == user.id or Role(user.role) in collection.INVOICE_ROLES)
        and invoiceable > 0,
        payment_methods=collection.METHODS,
        invoice_defaults={
            "amount": f"{max(invoiceable, Decimal(0)):f}",
            "title": customer.invoice_title or customer.name,
            "tax_number": customer.tax_number or "",
            "address": customer.address or "",
        },
        may_record_costs=record_todo is not None,
        costs_rejection=(record_todo.facts or {}).get("comment") if record_todo else None,
        cost_rows=shown_cost_rows(values if values.get("form") == "costs" else {}),
        cost_categories=[c.value for c in CostCategory],
        cost_events=COST_EVENTS,
        today=datetime.now(UTC).date().isoformat(),
        error=error,
        status_code=status_code,
        values=values,
    )


@router.get("/orders/{number}")
async def order_page(
    request: Request, number: str, user: PageUser, session: SessionDep, settings: SettingsDep
) -> Response:
    order = await _scoped(session, user, number)
    return await _order_page(request, user, session, settings, order)


def _form_body(model: type[M], values: dict[str, str], keep: tuple[str, ...] = ()) -> M:
    """An order action's body from its form (blank fields left out, but for those to keep:
    the operation says what is missing); 422 when a date is not a date or a number not a
    number."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v or k in keep})
    except ValidationError as error:
        raise Refused(422, first_error(error).replace("%", "%%")) from error


async def _order_action(
    request: Request,
    number: str,
    user: User,
    session: AsyncSession,
    settings: Settings,
    *,
    form_name: str,
    fields: tuple[str, ...],
    act: OrderAct,
    done_message: str,
) -> Response:
    """Run one of the order page's small forms (shipment, payment, invoice): back to the order
    page with a message (POST-redirect-GET), or the page again with the refusal, its status and
    what was typed."""
    order = await _scoped(session, user, number)
    form = await request.form()
    t = translations(locale_of(request, user))
    values = {name: str(form.get(name) or "").strip() for name in fields}
    try:
        await act(order, {**values, "action_key": str(form.get("action_key") or "")})
    except Refused as error:
        return await _order_page(
            request,
            user,
            session,
            settings,
            order,
            error=error.translated(t.gettext),
            status_code=error.status,
            values={**values, "form": form_name},
        )
    flash(request, t.gettext(done_message))
    return RedirectResponse(f"/orders/{number}", status_code=303)


def _amount(raw: str) -> str:
    amount = raw.replace(",", "").replace(" ", "")
    if not amount:
        raise Refused(422, "Give the amount.")
    return amount


def _payment_form(values: dict[str, str]) -> collection.PaymentForm:
    """The payment form's body; a blank reference or method is left to the operation, which
    says what is missing."""
    if not values["received_on"]:
        raise Refused(422, "Give the date the money was received.")
    return _form_body(
        collection.PaymentForm,
        {**values, "amount": _amount(values["amount"])},
        keep=("method", "reference"),
    )


def _invoice_form(values: dict[str, str]) -> collection.InvoiceForm:
    """The invoice form's body; blank title, tax number or address default to the customer's."""
    return _form_body(collection.InvoiceForm, {**values, "amount": _amount(values["amount"])})


@router.post("/orders/{number}/payments")
async def register_payment(
    request: Request,
    number: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await collection.register_payment(
            session=session,
            user=user,
            order=order,
            form=_payment_form(values),
            client=client,
            idempotency_key=values["action_key"] or None,
        )

    return await _order_action(
        request,
        number,
        user,
        session,
        settings,
        form_name="payment",
        fields=("amount", "received_on", "method", "reference"),
        act=act,
        done_message=N_("The payment is registered; finance will confirm it."),
    )


@router.post("/orders/{number}/invoice-requests")
async def request_invoice(
    request: Request,
    number: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await collection.request_invoice(
            session=session,
            user=user,
            order=order,
            form=_invoice_form(values),
            client=client,
            idempotency_key=values["action_key"] or None,
        )

    return await _order_action(
        request,
        number,
        user,
        session,
        settings,
        form_name="invoice",
        fields=("amount", "title", "tax_number", "address"),
        act=act,
        done_message=N_("The invoice is applied for; finance will issue it."),
    )


@router.post("/orders/{number}/actual-costs")
async def record_actual_costs(
    request: Request,
    number: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        form = costs.CostsForm(
            items=cost_items(cost_rows(values)), final=is_ticked(values, "final")
        )
        return await costs.record_costs(
            session=session,
            user=user,
            order=order,
            form=form,
            client=client,
            idempotency_key=values["action_key"] or None,
        )

    # no items, only the box ticked: ops say nothing more is to be recorded
    recorded = bool(cost_rows(await request.form()))
    return await _order_action(
        request,
        number,
        user,
        session,
        settings,
        form_name="costs",
        fields=COST_FORM_FIELDS,
        act=act,
        done_message=N_("The costs are recorded; finance will approve them.")
        if recorded
        else N_("Noted: every actual cost of the order is recorded."),
    )


@router.post("/orders/{number}/exceptions")
async def raise_exception(
    request: Request,
    number: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await operations.raise_exception(
            session=session,
            user=user,
            order=order,
            report=ExceptionRequest(**values),
            client=client,
            idempotency_key=values["action_key"] or None,
        )

    return await _order_action(
        request,
        number,
        user,
        session,
        settings,
        form_name="exception",
        fields=("kind", "description"),
        act=act,
        done_message=N_("The exception is raised; operations will handle it."),
    )


@router.post("/orders/{number}/milestones/{code}/confirm")
async def confirm_milestone(
    request: Request,
    number: str,
    code: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await operations.confirm_milestone(
            session=session,
            user=user,
            order=order,
            code=code,
            done=_form_body(MilestoneDone, values),
            client=client,
        )

    return await _order_action(
        request,
        number,
        user,
        session,
        settings,
        form_name=f"confirm-{code}",
        fields=("actual_date",),
        act=act,
        done_message=N_("The milestone is confirmed."),
    )


@router.post("/orders/{number}/milestones/{code}/replan")
async def replan_milestone(
    request: Request,
    number: str,
    code: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await operations.replan_milestone(
            session=session,
            user=user,
            order=order,
            code=code,
            replan=_form_body(MilestoneNewDate, values),
            client=client,
        )

    return await _order_action(
        request,
        number,
        user,
        session,
        settings,
        form_name=f"replan-{code}",
        fields=("planned_date", "reason"),
        act=act,
        done_message=N_("The milestone has its new planned date."),
    )


@router.post("/orders/{number}/release-hold")
async def release_hold(
    request: Request,
    number: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await operations.release_hold(
            session=session,
            user=user,
            order=order,
            release=HoldReleaseRequest(**values),
            client=client,
        )

    return await _order_action(
        request,
        number,
        user,
        session,
        settings,
        form_name="release-hold",
        fields=("reason",),
        act=act,
        done_message=N_("The hold is released; the warehouse can dispatch."),
    )


@router.get("/orders/{number}/edit")
async def edit_order_form(
    request: Request, number: str, user: PageUser, session: SessionDep
) -> HTMLResponse:
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
async def edit_order(
    request: Request, number: str, user: PageUser, session: SessionDep
) -> Response:
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
) -> RedirectResponse:
    order = await _scoped(session, user, number)
    t = translations(locale_of(request, user))
    try:
        await operations.submit_order(
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
    flash(request, t.gettext("Order %(number)s is submitted.") % {"number": number})
    return RedirectResponse(f"/orders/{number}", status_code=303)


@router.post("/orders/{number}/repeat")
async def repeat(
    request: Request, number: str, user: PageUser, session: SessionDep
) -> RedirectResponse:
    order = await _scoped(session, user, number)
    try:
        operations.require_order_entry(user)
    except Refused as error:
        raise HTTPException(
            error.status, error.translated(translations(locale_of(request, user)).gettext)
        ) from error
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
