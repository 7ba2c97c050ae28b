"""The JSON API under /api/v1 (DESIGN: the JSON API contract): one router of the area routers,
in the order their routes are matched and documented."""

from __future__ import annotations

from fastapi import APIRouter

from web.api import (
    admin,
    auth,
    cancellation,
    collection,
    costs,
    fulfilment,
    master_data,
    orders,
    todos,
)

router = APIRouter()
for area in (auth, master_data, orders, cancellation, todos, fulfilment, admin, collection, costs):
    router.include_router(area.router)
