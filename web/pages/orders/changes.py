"""The order page's change requests: the form previewed as its diff (before → after), then
sent (or taken back to the form); an open request withdrawn by whoever asked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.responses import RedirectResponse
from starlette.responses import Response

from i18n import N_, translations
from models.domain.changes import ONLY_OWNER_OR_MANAGER_CHANGES
from web.commands import changes
from web.commands.actions import Refused
from web.pages.common import page_router
from web.pages.orders.change_form import change_of, error_field, values_of_form
from web.pages.orders.change_plan import PlanStart, installments_after, plan_start, plan_was
from web.pages.orders.detail import OrderForm, OrderPageForm, show_order
from web.templating import flash, locale_of, render

router = page_router()
SENT = N_("The change request is sent; it waits for approval.")
WITHDRAWN = N_("The change request is withdrawn; the order stays as it was.")


async def _refused(form: OrderPageForm, error: Refused, values: dict[str, Any]) -> Response:
    """The order page again, the form open with what was typed and the refusal beside the
    field it is about."""
    t = translations(locale_of(form.request, form.user))
    return await show_order(
        form.request,
        form.user,
        form.session,
        form.settings,
        form.order,
        error=error.translated(t.gettext),
        status_code=error.status,
        values={**values, "error_field": error_field(error)},
    )


async def _may_ask(form: OrderPageForm) -> None:
    """Only the owner or a manager above them: said before anything the form holds."""
    if not await changes.may_request_change(session=form.session, user=form.user, order=form.order):
        raise Refused(403, ONLY_OWNER_OR_MANAGER_CHANGES)


def _started(values: dict[str, Any], start: PlanStart) -> str:
    """The plan the form started from, for the preview to carry on to sending."""
    return plan_was(start.rows) if values["plan_was"] is None else values["plan_was"]


@router.post("/orders/{number}/change-requests/preview")
async def preview_change(form: OrderForm) -> Response:
    """What the change would change, to check before sending it; with the installments it
    would leave when it changes the total or the plan."""
    values = values_of_form(await form.request.form())
    try:
        await _may_ask(form)
        start = await plan_start(session=form.session, order=form.order)
        request = change_of(values, form.order, start)
        diff = await changes.preview_change(
            session=form.session, user=form.user, order=form.order, form=request
        )
    except Refused as error:
        return await _refused(form, error, values)
    total = next((Decimal(c.after) for c in diff if c.field == "total"), form.order.total)
    shown = any(c.field in ("total", "payment_plan") for c in diff)
    after = await installments_after(
        session=form.session, order=form.order, total=total, plan=request.payment_plan
    )
    return render(
        form.request,
        "orders/change_preview.html",
        user=form.user,
        order=form.order,
        changes=diff,
        installments=after if shown else [],
        collecting=form.order.collection_status is not None,
        values={**values, "plan_was": _started(values, start)},
    )


@router.post("/orders/{number}/change-requests")
async def send_change(form: OrderForm) -> Response:
    """Send the previewed change (its approval runs on in approve_change to-dos), or go back
    to the form with it as typed."""
    posted = await form.request.form()
    values = values_of_form(posted)
    if posted.get("action") == "back":
        return await show_order(
            form.request, form.user, form.session, form.settings, form.order, values=values
        )
    try:
        await _may_ask(form)
        start = await plan_start(session=form.session, order=form.order)
        await changes.request_change(
            session=form.session,
            user=form.user,
            order=form.order,
            form=change_of(values, form.order, start),
            client=form.client,
        )
    except Refused as error:
        return await _refused(form, error, values)
    t = translations(locale_of(form.request, form.user))
    flash(form.request, t.gettext(SENT))
    return RedirectResponse(f"/orders/{form.order.number}#revisions", status_code=303)


@router.post("/orders/{number}/change-requests/{change_request_id}/withdraw")
async def withdraw_change(form: OrderForm, change_request_id: int) -> Response:
    async def act(_: dict[str, str]) -> object:
        return await changes.withdraw_change(
            session=form.session,
            user=form.user,
            order=form.order,
            request_id=change_request_id,
            client=form.client,
        )

    return await form.post_back("withdraw-change", (), act, WITHDRAWN)
