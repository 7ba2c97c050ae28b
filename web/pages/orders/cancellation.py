"""The order page's cancel form: a reason code and the reason, posted back to the order page."""

from __future__ import annotations

from starlette.responses import Response

from i18n import N_
from web.commands import cancellation
from web.pages.common import page_router
from web.pages.orders.detail import OrderForm, form_body

router = page_router()


@router.post("/orders/{number}/cancel")
async def cancel_order(form: OrderForm) -> Response:
    async def act(values: dict[str, str]) -> object:
        return await cancellation.cancel_order(
            session=form.session,
            user=form.user,
            order=form.order,
            form=form_body(cancellation.CancelForm, values, keep=("reason_code", "reason")),
            client=form.client,
        )

    return await form.post_back(
        "cancel",
        ("reason_code", "reason"),
        act,
        N_("The order is cancelled, or its cancellation is asked for."),
    )
