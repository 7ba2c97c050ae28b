"""The order pages, one module per area, under one router (entry's /orders/new before the
order page's /orders/{number})."""

from __future__ import annotations

from fastapi import APIRouter

from web.pages.orders import (
    actual_costs,
    cancellation,
    changes,
    detail,
    entry,
    export,
    fulfilment,
    payments,
    returns,
)

router = APIRouter()
for area in (
    entry,
    export,
    detail,
    fulfilment,
    payments,
    actual_costs,
    cancellation,
    changes,
    returns,
):
    router.include_router(area.router)
