"""The order page's shipment forms: raise an exception, confirm or re-plan a milestone, release
a hold."""

from __future__ import annotations

from starlette.responses import Response

from i18n import N_
from web.commands import fulfilment
from web.commands.fulfilment import (
    ExceptionRequest,
    HoldReleaseRequest,
    MilestoneDone,
    MilestoneNewDate,
)
from web.pages.common import page_router
from web.pages.orders.detail import OrderForm, form_body

router = page_router()


@router.post("/orders/{number}/exceptions")
async def raise_exception(form: OrderForm) -> Response:
    async def act(values: dict[str, str]) -> object:
        return await fulfilment.raise_exception(
            session=form.session,
            user=form.user,
            order=form.order,
            report=ExceptionRequest(**values),
            client=form.client,
            idempotency_key=values["action_key"] or None,
        )

    return await form.post_back(
        "exception",
        ("kind", "description"),
        act,
        N_("The exception is raised; operations will handle it."),
    )


@router.post("/orders/{number}/milestones/{code}/confirm")
async def confirm_milestone(form: OrderForm, code: str) -> Response:
    async def act(values: dict[str, str]) -> object:
        return await fulfilment.confirm_milestone(
            session=form.session,
            user=form.user,
            order=form.order,
            code=code,
            done=form_body(MilestoneDone, values),
            client=form.client,
        )

    return await form.post_back(
        f"confirm-{code}", ("actual_date",), act, N_("The milestone is confirmed.")
    )


@router.post("/orders/{number}/milestones/{code}/replan")
async def replan_milestone(form: OrderForm, code: str) -> Response:
    async def act(values: dict[str, str]) -> object:
        return await fulfilment.replan_milestone(
            session=form.session,
            user=form.user,
            order=form.order,
            code=code,
            replan=form_body(MilestoneNewDate, values),
            client=form.client,
        )

    return await form.post_back(
        f"replan-{code}",
        ("planned_date", "reason"),
        act,
        N_("The milestone has its new planned date."),
    )


@router.post("/orders/{number}/release-hold")
async def release_hold(form: OrderForm) -> Response:
    async def act(values: dict[str, str]) -> object:
        return await fulfilment.release_hold(
            session=form.session,
            user=form.user,
            order=form.order,
            release=HoldReleaseRequest(**values),
            client=form.client,
        )

    return await form.post_back(
        "release-hold",
        ("reason",),
        act,
        N_("The hold is released; the warehouse can dispatch."),
    )
