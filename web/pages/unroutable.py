"""The admin's list of orders that no one can approve, each with a button to route it again."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from i18n import translations
from models.queries import unroutable_orders
from web.commands import orders
from web.commands.actions import Refused
from web.deps import PageAdmin, PageOrder, SessionDep, TemporalClient
from web.pages.common import page_router
from web.templating import flash, locale_of, render
from web.views import unroutable_out

router = page_router()
LIST = "/admin/unroutable"


@router.get(LIST)
async def unroutable_list(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    orders = await unroutable_orders(session=session, user=me)
    return render(
        request, "admin/unroutable.html", user=me, rows=[unroutable_out(o) for o in orders]
    )


@router.post(LIST + "/{number}/route-again")
async def route_again(
    request: Request, me: PageAdmin, order: PageOrder, session: SessionDep, client: TemporalClient
) -> Response:
    number = order.number
    t = translations(locale_of(request, me))
    try:
        order = await orders.route_again(session=session, user=me, order=order, client=client)
    except Refused as error:
        flash(request, error.translated(t.gettext), "error")
        return RedirectResponse(LIST, status_code=303)
    if order.unroutable_reason:
        flash(
            request,
            t.gettext("Order %(number)s still cannot be routed: %(reason)s")
            % {"number": number, "reason": order.unroutable_reason},
            "error",
        )
    else:
        flash(request, t.gettext("Order %(number)s is routed again.") % {"number": number})
    return RedirectResponse(LIST, status_code=303)
