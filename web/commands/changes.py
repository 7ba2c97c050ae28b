"""Who may ask to change an order, and when (shared by the JSON API and the pages): the owner, or
a manager of a department on the way up from the owner's; after submission and before the cost
review; one open change request at a time. Whoever asked may withdraw it. Seeing the order at
all is the scope's (a sales rep of another team gets 404 before any of this is asked)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from models.change_terms import changed_order
from models.dates import fixed_payment_date_refusal, requested_delivery_refusal
from models.domain import PaymentPlanItem, Refusal, Stage, TodoDone
from models.domain.changes import (
    CHANGE_DECIDED,
    CHANGEABLE_STAGES,
    ONE_OPEN_CHANGE,
    ONLY_REQUESTER,
    ChangeRequest,
    ChangeRequested,
    FieldChange,
    LineChange,
    WithdrawChange,
)
from models.domain.changes import ONLY_OWNER_OR_MANAGER_CHANGES as ONLY_OWNER_OR_MANAGER
from models.queries import actor_for
from models.tables import Department, Order, OrderChangeRequest, User
from web.commands.actions import Refused, action_id, refuse, send_action
from web.commands.fulfilment import utc_today
from web.temporal import workflow_id
from workflows import rules
from workflows.order import OrderWorkflow

NOT_SUBMITTED = "Order %(number)s is a draft: edit it instead of asking for a change."
BEING_REVISED = "Order %(number)s is back with its owner: edit it and resubmit instead."
NO_LONGER = "Order %(number)s is in its cost review or closed: it can no longer be changed."
CANCELLED = "Order %(number)s is cancelled: it can no longer be changed."
NOT_RUNNING = "The workflow of order %(number)s is not running."
NOTHING_CHANGES = "The change request changes nothing."
NOTHING_LEFT_TO_PAY = "Everything on order %(number)s is paid: no payment plan is left to change."


async def owners_managers(*, session: AsyncSession, order: Order) -> set[int]:
    """The managers of the owner's department and of every department above it."""
    managers: set[int] = set()
    department_id: int | None = order.department_id
    for _ in range(50):  # a tree, not a cycle; bounded all the same
        if department_id is None:
            break
        department = await session.get_one(Department, department_id)
        if department.manager_id is not None:
            managers.add(department.manager_id)
        department_id = department.parent_id
    return managers


async def may_request_change(*, session: AsyncSession, user: User, order: Order) -> bool:
    """The owner, or a manager of the owner's department tree (the page shows the form)."""
    if order.owner_id == user.id:
        return True
    return user.id in await owners_managers(session=session, order=order)


def stage_refusal(order: Order) -> Refused | None:
    """When the order's stage takes no change request (409)."""
    stage = Stage(order.stage)
    if stage in CHANGEABLE_STAGES:
        return None
    if stage == Stage.draft:
        return Refused(409, NOT_SUBMITTED, number=order.number)
    if stage == Stage.revising:
        return Refused(409, BEING_REVISED, number=order.number)
    if stage == Stage.cancelled:
        return Refused(409, CANCELLED, number=order.number)
    return Refused(409, NO_LONGER, number=order.number)


async def open_request(*, session: AsyncSession, order: Order) -> int | None:
    """The number of the order's open change request, if one is open."""
    return await session.scalar(
        select(func.min(OrderChangeRequest.number)).where(
            OrderChangeRequest.order_id == order.id, OrderChangeRequest.status == "open"
        )
    )


async def change_request_refusal(
    *, session: AsyncSession, user: User, order: Order
) -> Refused | None:
    """Why this person may not ask to change this order now (403 not theirs to change, 409
    not at this stage or while another request is open), or None."""
    if not await may_request_change(session=session, user=user, order=order):
        return Refused(403, ONLY_OWNER_OR_MANAGER)
    if refused := stage_refusal(order):
        return refused
    if (number := await open_request(session=session, order=order)) is not None:
        return Refused(409, ONE_OPEN_CHANGE, number=number)
    return None


def plan_refusal(order: Order, plan: list[PaymentPlanItem] | None) -> Refusal | None:
    """What is wrong with the payment plan a change gives for what is not yet paid: nothing is
    left to pay (paid money stays where it is), or a fixed date outside the window an order's
    plan takes."""
    if plan is None:
        return None
    if order.collection_status is not None and order.paid >= order.total:
        return Refusal(NOTHING_LEFT_TO_PAY, number=order.number)
    for n, item in enumerate(plan, start=1):
        if refusal := fixed_payment_date_refusal(item.fixed_date, installment=n, today=utc_today()):
            return refusal
    return None


def withdrawal_refusal(*, user: User, request: OrderChangeRequest) -> Refused | None:
    """Why this person may not withdraw the change request (403 not theirs, 409 decided)."""
    if request.requested_by_id != user.id:
        return Refused(403, ONLY_REQUESTER)
    if request.status != "open":
        return Refused(409, CHANGE_DECIDED, number=request.number)
    return None


class ChangeRequestForm(BaseModel):
    """The body of POST /api/v1/orders/{number}/change-requests: why, and what changes (what is
    left out stays as it is): `lines` (an existing line by `line_id`, a new one by
    `product_id`; an order line left out is removed), `order_discount_percent` or
    `target_total`, `requested_delivery_date`, `payment_plan` (of what is not paid yet)."""

    reason: str = Field(default="", max_length=2000)
    lines: list[LineChange] | None = Field(default=None, max_length=500)
    order_discount_percent: Decimal | None = Field(default=None, max_digits=7, decimal_places=3)
    target_total: Decimal | None = Field(default=None, max_digits=16, decimal_places=2)
    requested_delivery_date: date | None = None
    payment_plan: list[PaymentPlanItem] | None = Field(default=None, max_length=50)


async def request_change(
    *, session: AsyncSession, user: User, order: Order, form: ChangeRequestForm, client: Client
) -> ChangeRequested:
    """Ask for the change; its approval runs on in approve_change to-dos. Sent again after a
    lost answer, it is the same action and gets the same answer."""
    refused = await change_request_refusal(session=session, user=user, order=order)
    if refused is not None and refused.status == 403:
        raise refused
    actor = await actor_for(session=session, user=user)
    change = ChangeRequest(actor=actor, **form.model_dump(exclude_unset=True))
    refuse(change.refusal())
    refuse(plan_refusal(order, change.payment_plan))
    if form.requested_delivery_date is not None:
        refuse(requested_delivery_refusal(form.requested_delivery_date, today=utc_today()))
    decided = await session.scalar(
        select(func.count())
        .select_from(OrderChangeRequest)
        .where(OrderChangeRequest.order_id == order.id, OrderChangeRequest.status != "open")
    )
    done = await send_action(
        client,
        workflow_id(order.number),
        OrderWorkflow.request_change,
        change,
        # the requests decided before free the order for this one
        update_id=action_id(f"change/{order.number}", change, decided or 0),
        gone=Refused(409, NOT_RUNNING, number=order.number),
        refusal=refused,
    )
    return await answered(session=session, order=order, done=done)


async def withdraw_change(
    *, session: AsyncSession, user: User, order: Order, request_id: int, client: Client
) -> ChangeRequested:
    """Whoever asked withdraws their open change request; its approval round ends."""
    request = await session.scalar(
        select(OrderChangeRequest).where(
            OrderChangeRequest.id == request_id, OrderChangeRequest.order_id == order.id
        )
    )
    if request is None:
        raise Refused(404, "Order %(number)s has no such change request.", number=order.number)
    refused = withdrawal_refusal(user=user, request=request)
    if refused is not None and refused.status == 403:
        raise refused
    withdrawal = WithdrawChange(
        actor=await actor_for(session=session, user=user), number=request.number
    )
    done = await send_action(
        client,
        workflow_id(order.number),
        OrderWorkflow.withdraw_change,
        withdrawal,
        update_id=action_id(f"change/{order.number}/withdraw", withdrawal),
        gone=Refused(409, NOT_RUNNING, number=order.number),
        refusal=refused,
    )
    return await answered(session=session, order=order, done=done, number=request.number)


async def answered(
    *, session: AsyncSession, order: Order, done: TodoDone, number: int | None = None
) -> ChangeRequested:
    """The workflow's answer as a change request's (an answer fetched again after it was lost
    comes back as a plain TodoDone: the request is the order's latest, or the one named)."""
    if isinstance(done, ChangeRequested) and done.number:
        return done
    query = select(OrderChangeRequest).where(OrderChangeRequest.order_id == order.id)
    if number:
        query = query.where(OrderChangeRequest.number == number)
    found = await session.scalar(query.order_by(OrderChangeRequest.number.desc()).limit(1))
    return ChangeRequested(
        stage=done.stage,
        number=found.number if found else 0,
        status=found.status if found else "open",
    )


async def preview_change(
    *, session: AsyncSession, user: User, order: Order, form: ChangeRequestForm
) -> list[FieldChange]:
    """What the change would change, field by field (before → after), as its step will weigh
    it; refused as sending it would be (what only the workflow knows, below what was paid or
    dispatched, is said when it is sent). Nothing is written."""
    if refused := await change_request_refusal(session=session, user=user, order=order):
        raise refused
    change = ChangeRequest(
        actor=await actor_for(session=session, user=user), **form.model_dump(exclude_unset=True)
    )
    refuse(change.refusal())
    refuse(plan_refusal(order, change.payment_plan))
    try:
        changed = await changed_order(session, order, change, today=utc_today())
    except Refusal as refusal:
        raise Refused.of(422, refusal) from refusal
    changes = rules.revision_changes(changed.before, changed.after)
    if not changes:
        raise Refused(422, NOTHING_CHANGES)
    return changes
