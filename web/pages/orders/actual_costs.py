"""The order page's actual-cost form: ops record what the order really cost."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from i18n import N_
from models.tables import Order
from web import costs
from web.deps import PageOrder, PageUser, SessionDep, SettingsDep, TemporalClient
from web.pages.common import page_router
from web.pages.orders.detail import order_action
from web.pages.todos import COST_ROWS, ITEM_FIELDS, cost_items, cost_rows, is_ticked

router = page_router()
# The actual-cost form's fields: the item rows and whether they are the last costs.
COST_FORM_FIELDS = (
    *(f"item-{n}-{name}" for n in range(1, COST_ROWS + 1) for name in ITEM_FIELDS),
    "final",
)


@router.post("/orders/{number}/actual-costs")
async def record_actual_costs(
    request: Request,
    order: PageOrder,
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
    return await order_action(
        request,
        order,
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
