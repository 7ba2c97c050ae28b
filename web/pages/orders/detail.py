"""The order page, and how its small forms (shipment, payment, invoice, costs) post back to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from temporalio.client import Client

from i18n import translations
from models.domain import (
    INVOICE_ROLES,
    ORDER_ENTRY_ROLES,
    PAYMENT_METHODS,
    RAISABLE_EXCEPTIONS,
    REASON_CODES,
    CostCategory,
    Role,
)
from models.drafts import is_editable
from models.queries import HELD, sees_costs
from models.reports.net_revenue import net_revenue_of
from models.tables import Order, User
from settings import Settings
from web.commands import cancellation, costs, fulfilment
from web.commands.actions import Refused
from web.commands.fulfilment import ACCEPTED, OWN_CONFIRMATION
from web.deps import (
    PageOrder,
    PageUser,
    SessionDep,
    SettingsDep,
    ShownOrder,
    TemporalClient,
)
from web.forms.errors import FormRefusal, form_refusal, invalid_input
from web.pages.common import page_router
from web.pages.orders.change_form import change_form
from web.pages.orders.return_form import return_form
from web.pages.todo_forms import COST_ITEM_REFUSALS, shown_cost_rows
from web.schemas import OrderDetail
from web.templating import flash, locale_of, render
from web.views import COST_EVENTS, order_detail

router = page_router()
M = TypeVar("M", bound=BaseModel)
# What one of the order page's small forms does with the typed values.
OrderAct = Callable[[dict[str, str]], Awaitable[object]]
# The small forms' names for an action's fields (the API's supplier_payment_reference, ...).
FORM_NAMES = {"supplier_payment_reference": "reference"}


def _fulfilment_forms(user: User, order: Order, detail: OrderDetail) -> dict[str, Any]:
    """Which of the shipment's small forms this person gets."""
    steering = fulfilment.may_steer_shipment(user) and order.shipment_status is not None
    return {
        "may_raise_exception": fulfilment.may_raise_exception(user, order)
        and bool(detail.dispatches)
        and order.shipment_status != ACCEPTED,
        "may_steer": steering,
        "may_release_hold": steering and order.shipment_status == HELD,
        "confirmable_codes": [
            c.value for c in fulfilment.milestone_codes(order) if c not in OWN_CONFIRMATION
        ],
        "exception_kinds": [k.value for k in RAISABLE_EXCEPTIONS],
    }


def _collection_forms(user: User, order: Order, detail: OrderDetail) -> dict[str, Any]:
    """Collection: confirmed orders have it; the owner registers money, owner or finance apply
    for invoices (the operations check again when the form comes back)."""
    collecting = order.collection_status is not None
    invoiceable = detail.not_invoiced - detail.invoice_pending
    customer = order.customer
    return {
        "collecting": collecting,
        "payable": detail.outstanding - detail.pending_payments,
        "invoiceable": invoiceable,
        "may_register_payment": collecting and order.owner_id == user.id and detail.outstanding > 0,
        "may_request_invoice": collecting
        and (order.owner_id == user.id or Role(user.role) in INVOICE_ROLES)
        and invoiceable > 0,
        "payment_methods": PAYMENT_METHODS,
        "invoice_defaults": {
            "amount": f"{max(invoiceable, Decimal(0)):f}",
            "title": customer.invoice_title or customer.name,
            "tax_number": customer.tax_number or "",
            "address": customer.address or "",
        },
    }


async def _cost_forms(
    session: AsyncSession, user: User, order: Order, values: dict[str, Any]
) -> dict[str, Any]:
    """Actual costs: ops record them on the order page while the order's to-do for it is open;
    a closed order's net revenue, which its final figures are on."""
    record_todo = None
    if Role(user.role) in costs.RECORDING_ROLES:
        record_todo = await costs.record_todo_of(session=session, order=order)
    return {
        "may_record_costs": record_todo is not None,
        "costs_rejection": (record_todo.facts or {}).get("comment") if record_todo else None,
        "cost_rows": shown_cost_rows(values if values.get("form") == "costs" else {}),
        "cost_categories": [c.value for c in CostCategory],
        "cost_events": COST_EVENTS,
        "order_revenue": (
            await net_revenue_of(session=session, order=order) if order.closed_at else None
        ),
    }


async def _may_cancel(session: AsyncSession, user: User, order: Order) -> bool:
    """The cancel form, for the owner or a manager above them while the order can be cancelled
    (the command checks again when the form comes back)."""
    if not await cancellation.may_cancel(session=session, user=user, order=order):
        return False
    return await cancellation.cancellation_refusal(session=session, order=order) is None


async def show_order(
    request: Request,
    user: User,
    session: AsyncSession,
    settings: Settings,
    order: Order,
    *,
    error: str | None = None,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    refused: FormRefusal | None = None,
) -> Response:
    """The order page; with a refused form's message, status and typed values when given
    (and where the form says it, `refused`)."""
    detail = await order_detail(session=session, user=user, order=order, settings=settings)
    values = values or {}
    return render(
        request,
        "orders/detail.html",
        user=user,
        order=detail,
        sees_costs=sees_costs(user),
        may_edit=order.owner_id == user.id and is_editable(order),
        may_repeat=Role(user.role) in ORDER_ENTRY_ROLES,
        may_cancel=await _may_cancel(session, user, order),
        reason_codes=REASON_CODES,
        **_fulfilment_forms(user, order, detail),
        **_collection_forms(user, order, detail),
        **await _cost_forms(session, user, order, values),
        **await change_form(session=session, user=user, order=order, values=values),
        **await return_form(session=session, user=user, order=order),
        today=datetime.now(UTC).date().isoformat(),
        error=error,
        refused=refused,
        status_code=status_code,
        values=values,
    )


@router.get("/orders/{number}")
async def order_page(
    request: Request, order: ShownOrder, user: PageUser, session: SessionDep, settings: SettingsDep
) -> Response:
    return await show_order(request, user, session, settings, order)


def form_body(model: type[M], values: dict[str, str], keep: tuple[str, ...] = ()) -> M:
    """An order action's body from its form (blank fields left out, but for those to keep:
    the operation says what is missing); 422 when a date is not a date or a number not a
    number."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v or k in keep})
    except ValidationError as error:
        raise invalid_input(error) from error


@dataclass(frozen=True)
class OrderPageForm:
    """One of the order page's small forms (shipment, payment, invoice, costs) as it is posted,
    with what its action needs."""

    request: Request
    order: Order
    user: User
    session: AsyncSession
    settings: Settings
    client: Client

    async def post_back(
        self, form_name: str, fields: tuple[str, ...], act: OrderAct, done_message: str
    ) -> Response:
        """Act on the typed values (and the form's action_key): back to the order page with a
        message (POST-redirect-GET), or the page again with the refusal, its status and what
        was typed."""
        number = self.order.number
        form = await self.request.form()
        t = translations(locale_of(self.request, self.user))
        values = {name: str(form.get(name) or "").strip() for name in fields}
        try:
            await act({**values, "action_key": str(form.get("action_key") or "")})
        except Refused as error:
            return await show_order(
                self.request,
                self.user,
                self.session,
                self.settings,
                self.order,
                error=error.translated(t.gettext),
                status_code=error.status,
                values={**values, "form": form_name},
                refused=form_refusal(
                    error, t.gettext, form=form_name, renamed=FORM_NAMES, located=COST_ITEM_REFUSALS
                ),
            )
        flash(self.request, t.gettext(done_message))
        return RedirectResponse(f"/orders/{number}", status_code=303)


async def order_page_form(
    request: Request,
    order: PageOrder,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> OrderPageForm:
    return OrderPageForm(request, order, user, session, settings, client)


OrderForm = Annotated[OrderPageForm, Depends(order_page_form)]
