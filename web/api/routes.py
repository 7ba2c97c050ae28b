"""The JSON API under /api/v1 (DESIGN: the JSON API contract): one router of the area routers,
in the order their routes are matched and documented."""

from __future__ import annotations

from fastapi import APIRouter

from web.api import (
    admin,
    auth,
    cancellation,
    changes,
    collection,
    costs,
    fulfilment,
    home,
    master_data,
    orders,
    performance,
    returns,
    statistics,
    targets,
    todos,
    worklists,
)

router = APIRouter()
AREAS = (
    auth,
    master_data,
    orders,
    cancellation,
    changes,
    returns,
    todos,
    fulfilment,
    worklists,
    admin,
    collection,
    costs,
    targets,
    performance,
    statistics,
    home,
)
for area in AREAS:
    router.include_router(area.router)
