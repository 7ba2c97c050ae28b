"""Actual costs in the JSON API: ops record a batch against the order for finance to approve."""

from __future__ import annotations

from fastapi import APIRouter

from web.api import ApiRoute, IdempotencyKey, finance_todo
from web.commands.costs import CostsForm, record_costs
from web.deps import ApiUser, ScopedOrder, SessionDep, TemporalClient
from web.schemas import MoneyActionOut, errors

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


@router.post(
    "/orders/{number}/actual-costs",
    status_code=202,
    response_model=MoneyActionOut,
    responses=errors(403, 409),
    tags=["costs"],
)
async def record_actual_costs(
    order: ScopedOrder,
    form: CostsForm,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
    idempotency_key: IdempotencyKey = None,
) -> MoneyActionOut:
    """Ops record a batch of actual costs against the order (its open `record_actual_costs`
    to-do): `items` [`category` (goods, freight, installation, customs, other,
    return_freight: carrying goods a customer sent back), `amount`,
    `supplier_payment_reference`], and `final` when no more costs follow (an empty batch with
    `final` says every cost is recorded). Finance get an `approve_actual_costs` to-do. 409
    before the first payment is confirmed or once the cost comparison has begun; 403 for
    anyone but operations."""
    action = record_costs(
        session=session,
        user=user,
        order=order,
        form=form,
        client=client,
        idempotency_key=idempotency_key,
    )
    return await finance_todo(order, action)
