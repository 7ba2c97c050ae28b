"""The order page's actual-cost form: ops record what the order really cost."""

from __future__ import annotations

from starlette.responses import Response

from i18n import N_
from web.commands import costs
from web.pages.common import page_router
from web.pages.orders.detail import OrderForm
from web.pages.todo_forms import COST_ROWS, ITEM_FIELDS, cost_items_of, cost_rows, is_ticked

router = page_router()
# The actual-cost form's fields: the item rows and whether they are the last costs.
COST_FORM_FIELDS = (
    *(f"item-{n}-{name}" for n in range(1, COST_ROWS + 1) for name in ITEM_FIELDS),
    "final",
)


@router.post("/orders/{number}/actual-costs")
async def record_actual_costs(form: OrderForm) -> Response:
    async def act(values: dict[str, str]) -> object:
        costs_form = costs.CostsForm(
            items=cost_items_of(cost_rows(values)), final=is_ticked(values, "final")
        )
        return await costs.record_costs(
            session=form.session,
            user=form.user,
            order=form.order,
            form=costs_form,
            client=form.client,
            idempotency_key=values["action_key"] or None,
        )

    # no items, only the box ticked: ops say nothing more is to be recorded
    recorded = bool(cost_rows(await form.request.form()))
    return await form.post_back(
        "costs",
        COST_FORM_FIELDS,
        act,
        N_("The costs are recorded; finance will approve them.")
        if recorded
        else N_("Noted: every actual cost of the order is recorded."),
    )
