"""Operations' worklists in the JSON API: the milestones due across the orders they see."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum

from fastapi import APIRouter

from web.api import ApiRoute, refused
from web.commands import worklists
from web.commands.actions import Refused
from web.deps import ApiUser, SessionDep, SettingsDep
from web.schemas import errors
from web.schemas.worklists import MilestoneDueOut

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


class DueWindow(StrEnum):
    late = "late"
    today = "today"
    this_week = "this_week"
    later = "later"


@router.get(
    "/milestones/due",
    response_model=list[MilestoneDueOut],
    responses=errors(403),
    tags=["fulfilment"],
)
async def milestones_due(
    user: ApiUser, session: SessionDep, settings: SettingsDep, due: DueWindow | None = None
) -> list[MilestoneDueOut]:
    """Every planned milestone not yet confirmed of the running shipments the user sees, the
    earliest planned first, each with its `due` window (late, today, this_week, later: by the
    company's calendar) and how it is confirmed; only one window with `due`. For ops and
    operations managers."""
    try:
        today = await worklists.company_day(session, settings)
        items = await worklists.due_milestones(
            session=session, user=user, today=today, due=due.value if due else None
        )
    except Refused as error:
        raise refused(error) from error
    return [
        MilestoneDueOut.model_validate(
            {**asdict(item), "confirmed_with": worklists.confirmed_with(item)}
        )
        for item in items
    ]
