"""The order page's "Request a return" form posted back: sent through web/commands/returns.py
like the API's request; refused, the page again with the refusal next to the line or the field
it is about and what was typed."""

from __future__ import annotations

from typing import Any

from fastapi.responses import RedirectResponse
from starlette.responses import Response

from i18n import N_, translations
from web.commands import returns
from web.commands.actions import Refused
from web.pages.common import page_router
from web.pages.orders.detail import OrderForm, OrderPageForm, show_order
from web.pages.orders.return_form import error_field, request_of, values_of_form
from web.templating import flash, locale_of

router = page_router()
SENT = N_("The return is asked for; it waits for approval.")


async def _refused(form: OrderPageForm, error: Refused, values: dict[str, Any]) -> Response:
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


@router.post("/orders/{number}/returns")
async def request_return(form: OrderForm) -> Response:
    """Send the return request (its approval runs on in an approve_return to-do), or the page
    again with the refusal next to what it is about and what was typed."""
    posted = await form.request.form()
    values = values_of_form(posted)
    try:
        await returns.request_return(
            session=form.session,
            user=form.user,
            order=form.order,
            form=request_of(values, form.order),
            client=form.client,
            idempotency_key=str(posted.get("action_key") or "") or None,
        )
    except Refused as error:
        return await _refused(form, error, values)
    t = translations(locale_of(form.request, form.user))
    flash(form.request, t.gettext(SENT))
    return RedirectResponse(f"/orders/{form.order.number}#returns", status_code=303)
