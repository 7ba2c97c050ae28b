"""Orders in the JSON API: drafts, submission, repeating an order, the list and one order."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from models.domain import Stage
from models.drafts import DraftError, repeat_order
from models.queries import OrderFilter, list_orders, sees_costs
from web.api import ApiRoute, IdempotencyKey, refused
from web.commands import orders as orders_commands
from web.commands.actions import Refused
from web.commands.orders import new_draft, parse_draft, patch_draft, require_order_entry
from web.deps import ApiUser, ScopedOrder, SessionDep, SettingsDep, TemporalClient
from web.exports import EXPORT_RESPONSES, ExportQuery, export_response
from web.exports.access import check_api_export, exporter_of
from web.exports.orders import orders_export
from web.schemas import (
    DraftOrderIn,
    DraftPatchIn,
    DraftSavedOut,
    Id,
    OrderDetail,
    OrderPageOut,
    PageNumber,
    SubmittedOut,
    errors,
)
from web.temporal import workflow_id
from web.views import order_detail, order_summaries

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)
FILTER_NAMES = ("stage", "customer_id", "owner_id", "overdue", "delayed", "q")


@router.post(
    "/orders",
    status_code=201,
    response_model=DraftSavedOut,
    responses=errors(403),
    tags=["orders"],
)
async def create_order(user: ApiUser, session: SessionDep, body: DraftOrderIn) -> DraftSavedOut:
    """A new draft: customer, shipping mode, delivery date, lines, an order discount or a
    target total, and the payment plan. 403 for roles that do not enter orders."""
    try:
        draft = parse_draft(body.model_dump(exclude_unset=True))
        order = await new_draft(session=session, user=user, draft=draft)
    except Refused as error:
        raise refused(error) from error
    return DraftSavedOut.model_validate(order)


@router.patch(
    "/orders/{number}",
    response_model=DraftSavedOut,
    responses=errors(403, 409),
    tags=["orders"],
)
async def edit_order(
    order: ScopedOrder, user: ApiUser, session: SessionDep, body: DraftPatchIn
) -> DraftSavedOut:
    """Change the given fields of a draft, or of an order sent back for revision; the others
    keep their values (`lines` and `payment_plan` replace the whole list, `null` clears an
    optional field, `{}` changes nothing). The order as merged is checked as a new one is: 422
    and nothing changed when it does not pass. Its owner only (403); 409 once submitted."""
    try:
        order = await patch_draft(session=session, user=user, order=order, changes=body.changes())
    except Refused as error:
        raise refused(error) from error
    return DraftSavedOut.model_validate(order)


@router.post(
    "/orders/{number}/submit",
    status_code=202,
    response_model=SubmittedOut,
    responses=errors(403, 409),
    tags=["orders"],
)
async def submit_order(
    order: ScopedOrder,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> SubmittedOut:
    """Start the order's workflow (or resume it after a revision). Sent again with the same
    `Idempotency-Key` after its answer was lost, it answers 202 again; otherwise a second
    submit is 409."""
    try:
        await orders_commands.submit_order(
            session=session,
            user=user,
            order=order,
            client=client,
            task_queue=settings.task_queue,
            idempotency_key=idempotency_key,
        )
    except Refused as error:
        raise refused(error) from error
    return SubmittedOut(number=order.number, workflow_id=workflow_id(order.number))


@router.post(
    "/orders/{number}/repeat",
    status_code=201,
    response_model=DraftSavedOut,
    responses=errors(403, 422),
    tags=["orders"],
)
async def repeat(order: ScopedOrder, user: ApiUser, session: SessionDep) -> DraftSavedOut:
    """A new draft copied from a past order."""
    try:
        require_order_entry(user)
        copy = await repeat_order(session=session, user=user, order=order)
    except Refused as error:
        raise refused(error) from error
    except DraftError as error:  # e.g. a product no longer sold
        raise refused(Refused.of(422, error)) from error
    return DraftSavedOut.model_validate(copy)


def api_order_filters(
    stage: Stage | None = None,
    customer_id: Id | None = None,
    owner_id: Id | None = None,
    overdue: bool | None = None,
    delayed: bool | None = None,
    q: str | None = None,
) -> OrderFilter:
    """The order list's filters (the list and its export take the same)."""
    return OrderFilter(
        stage=stage.value if stage else None,
        customer_id=customer_id,
        owner_id=owner_id,
        overdue=overdue,
        delayed=delayed,
        q=q,
    )


OrderFilters = Annotated[OrderFilter, Depends(api_order_filters)]


@router.get(
    "/orders",
    response_model=OrderPageOut,
    responses={**EXPORT_RESPONSES, **errors(403)},
    tags=["orders"],
)
async def orders(
    request: Request,
    user: ApiUser,
    session: SessionDep,
    settings: SettingsDep,
    filters: OrderFilters,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 25,
    file_format: ExportQuery = None,
) -> OrderPageOut | Response:
    """The orders in the user's scope, a page at a time. With `format` (`csv`, `xlsx`), every
    order of the list as filtered (all pages) as a file: cost and margin columns for the roles
    that see costs; 403 without the export permission; audited."""
    if file_format is not None:
        await check_api_export(session=session, user=user)
        shown = {k: v for k, v in asdict(filters).items() if k in FILTER_NAMES and v is not None}
        export = await orders_export(
            request=request, session=session, user=user, filters=filters, shown=shown
        )
        return await export_response(
            export, file_format=file_format, exporter=exporter_of(request, user)
        )
    result = await list_orders(
        session=session, user=user, filters=replace(filters, page=page, per_page=per_page)
    )
    return OrderPageOut(
        items=await order_summaries(
            session=session, orders=result.orders, currency=settings.currency
        ),
        total=result.total,
        page=result.page,
        per_page=result.per_page,
    )


@router.get("/orders/{number}", response_model=OrderDetail, tags=["orders"])
async def order(
    order: ScopedOrder, user: ApiUser, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    """The whole order; cost and margin figures only for the roles that may see them."""
    detail = await order_detail(session=session, user=user, order=order, settings=settings)
    return JSONResponse(detail.for_viewer(sees_costs(user)))
