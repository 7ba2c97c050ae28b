"""The order page's shipment forms: raise an exception, confirm or re-plan a milestone, release
a hold."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from i18n import N_
from models.tables import Order
from web import operations
from web.deps import PageOrder, PageUser, SessionDep, SettingsDep, TemporalClient
from web.operations import ExceptionRequest, HoldReleaseRequest, MilestoneDone, MilestoneNewDate
from web.pages.common import page_router
from web.pages.orders.detail import form_body, order_action

router = page_router()


@router.post("/orders/{number}/exceptions")
async def raise_exception(
    request: Request,
    order: PageOrder,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await operations.raise_exception(
            session=session,
            user=user,
            order=order,
            report=ExceptionRequest(**values),
            client=client,
            idempotency_key=values["action_key"] or None,
        )

    return await order_action(
        request,
        order,
        user,
        session,
        settings,
        form_name="exception",
        fields=("kind", "description"),
        act=act,
        done_message=N_("The exception is raised; operations will handle it."),
    )


@router.post("/orders/{number}/milestones/{code}/confirm")
async def confirm_milestone(
    request: Request,
    order: PageOrder,
    code: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await operations.confirm_milestone(
            session=session,
            user=user,
            order=order,
            code=code,
            done=form_body(MilestoneDone, values),
            client=client,
        )

    return await order_action(
        request,
        order,
        user,
        session,
        settings,
        form_name=f"confirm-{code}",
        fields=("actual_date",),
        act=act,
        done_message=N_("The milestone is confirmed."),
    )


@router.post("/orders/{number}/milestones/{code}/replan")
async def replan_milestone(
    request: Request,
    order: PageOrder,
    code: str,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await operations.replan_milestone(
            session=session,
            user=user,
            order=order,
            code=code,
            replan=form_body(MilestoneNewDate, values),
            client=client,
        )

    return await order_action(
        request,
        order,
        user,
        session,
        settings,
        form_name=f"replan-{code}",
        fields=("planned_date", "reason"),
        act=act,
        done_message=N_("The milestone has its new planned date."),
    )


@router.post("/orders/{number}/release-hold")
async def release_hold(
    request: Request,
    order: PageOrder,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> Response:
    async def act(order: Order, values: dict[str, str]) -> object:
        return await operations.release_hold(
            session=session,
            user=user,
            order=order,
            release=HoldReleaseRequest(**values),
            client=client,
        )

    return await order_action(
        request,
        order,
        user,
        session,
        settings,
        form_name="release-hold",
        fields=("reason",),
        act=act,
        done_message=N_("The hold is released; the warehouse can dispatch."),
    )
