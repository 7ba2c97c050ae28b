"""The JSON API under /api/v1 (DESIGN: the JSON API contract)."""

from __future__ import annotations

from collections.abc import Awaitable
from enum import StrEnum
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models.domain import Role, Stage, TodoDone, TodoStatus
from models.drafts import DraftError, first_error, repeat_order
from models.queries import (
    OrderFilter,
    list_orders,
    list_todos,
    sees_costs,
    unroutable_orders,
)
from models.tables import Customer, Order, Product, Todo, User
from web import collection, costs, operations
from web.api import ApiRoute
from web.collection import InvoiceForm, PaymentForm
from web.costs import CostsForm
from web.deps import (
    ApiUser,
    ScopedOrder,
    SessionDep,
    SettingsDep,
    TemporalClient,
    TooManySignIns,
    sign_in,
    stamp_of,
)
from web.operations import (
    ExceptionRequest,
    HoldReleaseRequest,
    MilestoneDone,
    MilestoneNewDate,
    Refused,
    TodoCompletion,
)
from web.schemas import (
    COMPLETIONS,
    CompletionBody,
    CustomerOut,
    DraftOrderIn,
    DraftSavedOut,
    Id,
    Me,
    OrderDetail,
    OrderPageOut,
    PageNumber,
    ProductOut,
    RoutedAgainOut,
    ShipmentActionOut,
    ShipmentQueueItemOut,
    SubmittedOut,
    TodoCompletedOut,
    TodoOut,
    Token,
    UnroutableOrderOut,
    errors,
)
from web.templating import locale_of
from web.temporal import workflow_id
from web.views import (
    customer_out,
    order_detail,
    order_summaries,
    product_out,
    queue_item_out,
    todo_out,
    unroutable_out,
)

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)

# An action sent again after its answer was lost (503, a timeout, a dropped connection) is the
# same action and gets the same answer; two identical payments, invoice applications, cost
# batches or exception reports meant as two carry different keys.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Makes this request one action however often it is sent; identical "
        "requests without a key are one action too.",
    ),
]


def refused(error: Refused) -> HTTPException:
    return HTTPException(error.status, error.message)


async def api_admin(user: ApiUser) -> User:
    if user.role != Role.admin.value:
        raise HTTPException(403, "This is for administrators.")
    return user


ApiAdmin = Annotated[User, Depends(api_admin)]


@router.post("/auth/token", response_model=Token, tags=["auth"])
async def issue_token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep
) -> Token:
    """A bearer token for the username and password (OAuth2 password form); 429 with
    Retry-After after too many failed attempts. Signing out on the pages revokes it."""
    try:
        user = await sign_in(request, session, form.username, form.password)
    except TooManySignIns as refusal:
        raise HTTPException(
            429, refusal.message(locale_of(request)), headers=refusal.headers
        ) from None
    if user is None:
        raise HTTPException(401, "Wrong username or password.")
    return Token(
        access_token=request.app.state.token_signer.issue(user.id, stamp_of(request, user))
    )


@router.get("/me", response_model=Me, tags=["auth"])
async def me(user: ApiUser) -> Me:
    return Me(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        role=user.role,
        department={"id": user.department.id, "name": user.department.name},
        locale=user.locale,
        sees_costs=sees_costs(user),
    )


@router.get("/customers", response_model=list[CustomerOut], tags=["master data"])
async def customers(user: ApiUser, session: SessionDep) -> list[CustomerOut]:
    rows = await session.scalars(
        select(Customer).options(selectinload(Customer.contacts)).order_by(Customer.name)
    )
    return [customer_out(c) for c in rows]


@router.get("/products", response_model=list[ProductOut], tags=["master data"])
async def products(user: ApiUser, session: SessionDep) -> JSONResponse:
    """Active products; `standard_cost` only for the roles that may see costs."""
    costs = sees_costs(user)
    rows = await session.scalars(
        select(Product).where(Product.active.is_(True)).order_by(Product.code)
    )
    return JSONResponse(
        [
            product_out(p, sees_costs=costs).model_dump(
                mode="json", exclude=None if costs else {"standard_cost"}
            )
            for p in rows
        ]
    )


def draft_saved(order: Order) -> DraftSavedOut:
    return DraftSavedOut(number=order.number, stage=order.stage, total=order.total)


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
        draft = operations.parse_draft(body.model_dump(exclude_unset=True))
        order = await operations.new_draft(session=session, user=user, draft=draft)
    except Refused as error:
        raise refused(error) from error
    return draft_saved(order)


@router.patch(
    "/orders/{number}",
    response_model=DraftSavedOut,
    responses=errors(403, 409),
    tags=["orders"],
)
async def edit_order(
    order: ScopedOrder, user: ApiUser, session: SessionDep, body: DraftOrderIn
) -> DraftSavedOut:
    """Edit a draft, or an order sent back for revision (its owner only; 409 once
    submitted)."""
    try:
        draft = operations.parse_draft(body.model_dump(exclude_unset=True))
        order = await operations.edit_draft(session=session, user=user, order=order, draft=draft)
    except Refused as error:
        raise refused(error) from error
    return draft_saved(order)


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
        await operations.submit_order(
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
        operations.require_order_entry(user)
        copy = await repeat_order(session=session, user=user, order=order)
    except Refused as error:
        raise refused(error) from error
    except DraftError as error:  # e.g. a product no longer sold
        raise refused(Refused.of(422, error)) from error
    return draft_saved(copy)


@router.get("/orders", response_model=OrderPageOut, tags=["orders"])
async def orders(
    user: ApiUser,
    session: SessionDep,
    settings: SettingsDep,
    stage: Stage | None = None,
    customer_id: Id | None = None,
    owner_id: Id | None = None,
    overdue: bool | None = None,
    delayed: bool | None = None,
    q: str | None = None,
    page: PageNumber = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 25,
) -> OrderPageOut:
    result = await list_orders(
        session=session,
        user=user,
        filters=OrderFilter(
            stage=stage.value if stage else None,
            customer_id=customer_id,
            owner_id=owner_id,
            overdue=overdue,
            delayed=delayed,
            q=q,
            page=page,
            per_page=per_page,
        ),
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


@router.get("/todos", response_model=list[TodoOut], tags=["to-dos"])
async def todos(
    user: ApiUser, session: SessionDep, status: TodoStatus = TodoStatus.open
) -> JSONResponse:
    """The user's to-dos, oldest first; an approval's `facts` say what decides it (its margin
    only for the roles that may see costs)."""
    items = await list_todos(session=session, user=user, status=status)
    costs = sees_costs(user)
    return JSONResponse([todo_out(item).for_viewer(costs) for item in items])


def completion_of(todo: Todo, body: dict[str, Any]) -> TodoCompletion:
    """What the body says for this to-do, checked by its kind's model: `kind` may be left out
    (it is then the to-do's own, as before kinds were named in the body) but not contradict
    the to-do."""
    kind = body.get("kind", todo.kind)
    if kind != todo.kind:
        raise HTTPException(422, f"This to-do is of kind {todo.kind}; the body's kind is {kind}.")
    model = COMPLETIONS[todo.kind]
    try:
        given = model.model_validate({**body, "kind": kind})
    except ValidationError as error:
        problem = error.errors()[0]
        if problem["loc"] == ("outcome",) and problem["type"] == "literal_error":
            allowed = ", ".join(sorted(get_args(model.model_fields["outcome"].annotation)))
            raise HTTPException(422, f"The outcome must be one of: {allowed}.") from error
        raise HTTPException(422, first_error(error)) from error
    return TodoCompletion.model_validate(given.model_dump(exclude={"kind"}))


@router.post(
    "/todos/{todo_id}/complete",
    response_model=TodoCompletedOut,
    responses=errors(403, 404, 409),
    tags=["to-dos"],
)
async def complete(
    todo_id: Id,
    completion: Annotated[
        CompletionBody,
        Body(
            description="`outcome` plus the to-do kind's fields, by `kind` (which may be left "
            "out: it is then the to-do's own)."
        ),
    ],
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> TodoCompletedOut:
    """Complete a to-do with its outcome: 403 not yours, 404 not in your scope, 409 no longer
    open, 422 bad fields or a `kind` that is not the to-do's."""
    try:
        todo = await operations.visible_todo(session=session, user=user, todo_id=todo_id)
        done = await operations.complete_todo(
            session=session,
            user=user,
            todo=todo,
            completion=completion_of(todo, completion),
            client=client,
        )
    except Refused as error:
        raise refused(error) from error
    return TodoCompletedOut(id=todo_id, status="done", stage=done.stage.value)


@router.post(
    "/orders/{number}/exceptions",
    status_code=202,
    response_model=ShipmentActionOut,
    responses=errors(403, 409),
    tags=["fulfilment"],
)
async def raise_exception(
    order: ScopedOrder,
    report: ExceptionRequest,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
    idempotency_key: IdempotencyKey = None,
) -> ShipmentActionOut:
    """Report something wrong after dispatch: `kind` (damaged, missing_parts, replacement,
    reshipment) and `description`; ops get a to-do to handle it. For ops, service and the
    order's owner; 409 before dispatch."""
    try:
        done = await operations.raise_exception(
            session=session,
            user=user,
            order=order,
            report=report,
            client=client,
            idempotency_key=idempotency_key,
        )
    except Refused as error:
        raise refused(error) from error
    return ShipmentActionOut(number=order.number, stage=done.stage.value)


@router.post(
    "/orders/{number}/milestones/{code}/confirm",
    response_model=ShipmentActionOut,
    responses=errors(403, 409),
    tags=["fulfilment"],
)
async def confirm_milestone(
    order: ScopedOrder,
    code: str,
    done: MilestoneDone,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> ShipmentActionOut:
    """Ops confirm a milestone with its `actual_date` (dispatch and arrival are confirmed
    with their own to-dos)."""
    try:
        result = await operations.confirm_milestone(
            session=session, user=user, order=order, code=code, done=done, client=client
        )
    except Refused as error:
        raise refused(error) from error
    return ShipmentActionOut(number=order.number, stage=result.stage.value)


@router.post(
    "/orders/{number}/milestones/{code}/replan",
    response_model=ShipmentActionOut,
    responses=errors(403, 409),
    tags=["fulfilment"],
)
async def replan_milestone(
    order: ScopedOrder,
    code: str,
    replan: MilestoneNewDate,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> ShipmentActionOut:
    """Ops move a milestone not yet done to a new `planned_date`, with a `reason`."""
    try:
        result = await operations.replan_milestone(
            session=session, user=user, order=order, code=code, replan=replan, client=client
        )
    except Refused as error:
        raise refused(error) from error
    return ShipmentActionOut(number=order.number, stage=result.stage.value)


@router.post(
    "/orders/{number}/release-hold",
    response_model=ShipmentActionOut,
    responses=errors(403, 409),
    tags=["fulfilment"],
)
async def release_hold(
    order: ScopedOrder,
    release: HoldReleaseRequest,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> ShipmentActionOut:
    """Ops let a shipment held for its deposit go to the warehouse, with a `reason`."""
    try:
        result = await operations.release_hold(
            session=session, user=user, order=order, release=release, client=client
        )
    except Refused as error:
        raise refused(error) from error
    return ShipmentActionOut(number=order.number, stage=result.stage.value)


class QueueStatus(StrEnum):
    awaiting = "awaiting"
    held = "held"


@router.get(
    "/shipments",
    response_model=list[ShipmentQueueItemOut],
    responses=errors(403),
    tags=["fulfilment"],
)
async def shipments(
    user: ApiUser, session: SessionDep, status: QueueStatus | None = None
) -> list[ShipmentQueueItemOut]:
    """The "awaiting shipment" queue: orders ready for dispatch (`awaiting`, each with its
    `confirm_dispatch` to-do) and those held for their deposit (`held`); both without a
    status. For the warehouse, ops, ops_manager and director."""
    try:
        items = await operations.shipment_queue(
            session=session, user=user, status=status.value if status else None
        )
    except Refused as error:
        raise refused(error) from error
    return [queue_item_out(item) for item in items]


@router.get(
    "/admin/unroutable",
    response_model=list[UnroutableOrderOut],
    responses=errors(403),
    tags=["admin"],
)
async def unroutable(user: ApiAdmin, session: SessionDep) -> list[UnroutableOrderOut]:
    """Orders whose approval no one can decide, and why, longest waiting first (admin only)."""
    return [unroutable_out(o) for o in await unroutable_orders(session=session, user=user)]


@router.post(
    "/orders/{number}/route-again",
    response_model=RoutedAgainOut,
    responses=errors(403, 409),
    tags=["admin"],
)
async def route_again(
    user: ApiAdmin, order: ScopedOrder, session: SessionDep, client: TemporalClient
) -> RoutedAgainOut:
    """Route an unroutable order's approval again, after fixing the policy or the people
    (admin only; 409 when the order is not unroutable). `unroutable_reason` in the answer is
    set when it still cannot be routed."""
    try:
        order = await operations.route_again(session=session, user=user, order=order, client=client)
    except Refused as error:
        raise refused(error) from error
    return RoutedAgainOut(
        number=order.number, stage=order.stage, unroutable_reason=order.unroutable_reason
    )


# -- collection and invoicing --------------------------------------------------------------------


class MoneyActionOut(BaseModel):
    """What a payment registration, an invoice application or a batch of actual costs answers:
    the to-do it opened for finance."""

    number: str
    todo_key: str
    stage: str


async def _finance_todo(order: Order, action: Awaitable[TodoDone]) -> MoneyActionOut:
    """Run the action that asks finance for something; a refusal answers with its status."""
    try:
        done = await action
    except Refused as error:
        raise refused(error) from error
    return MoneyActionOut(number=order.number, todo_key=done.todo_key, stage=done.stage.value)


@router.post(
    "/orders/{number}/payments",
    status_code=202,
    response_model=MoneyActionOut,
    responses=errors(403, 409),
    tags=["collection"],
)
async def register_payment(
    order: ScopedOrder,
    form: PaymentForm,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
    idempotency_key: IdempotencyKey = None,
) -> MoneyActionOut:
    """The owner registers money received: `amount`, `received_on`, `method` (bank_transfer,
    bank_acceptance_bill, cash, cheque, other), `reference`. Finance get a `confirm_payment`
    to-do. 422 above what is left to pay (outstanding less payments waiting for finance), for a
    date in the future or a reference already used on this order; 403 for anyone but the owner."""
    action = collection.register_payment(
        session=session,
        user=user,
        order=order,
        form=form,
        client=client,
        idempotency_key=idempotency_key,
    )
    return await _finance_todo(order, action)


@router.post(
    "/orders/{number}/invoice-requests",
    status_code=202,
    response_model=MoneyActionOut,
    responses=errors(403, 409),
    tags=["collection"],
)
async def request_invoice(
    order: ScopedOrder,
    form: InvoiceForm,
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
    idempotency_key: IdempotencyKey = None,
) -> MoneyActionOut:
    """The owner or finance apply for an invoice: `amount` (at most total − invoiced − applied
    for), `title`, `tax_number`, `address` (each defaults to the customer's). Finance get an
    `issue_invoice` to-do."""
    action = collection.request_invoice(
        session=session,
        user=user,
        order=order,
        form=form,
        client=client,
        idempotency_key=idempotency_key,
    )
    return await _finance_todo(order, action)


# -- actual costs --------------------------------------------------------------------------------


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
    to-do): `items` [`category` (goods, freight, installation, customs, other), `amount`,
    `supplier_payment_reference`], and `final` when no more costs follow (an empty batch with
    `final` says every cost is recorded). Finance get an `approve_actual_costs` to-do. 409
    before the first payment is confirmed or once the cost comparison has begun; 403 for
    anyone but operations."""
    action = costs.record_costs(
        session=session,
        user=user,
        order=order,
        form=form,
        client=client,
        idempotency_key=idempotency_key,
    )
    return await _finance_todo(order, action)
