"""What approval routing weighs about an order, read from the database inside a step."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import (
    ApprovalPolicy,
    DepartmentLink,
    LineFacts,
    OrderFacts,
    PaymentTrigger,
    Role,
    ShippingMode,
)
from models.policy import current_collection_policy
from models.queries.customers import exposure_of
from models.tables import Department, Order, PaymentPlanItem, User
from workflows import rules


async def order_facts(
    session: AsyncSession,
    order: Order,
    policy: ApprovalPolicy,
    *,
    hold_dispatch_for_deposit: bool,
) -> OrderFacts:
    """What routing weighs: the order and its lines with their stock, the owner's place in
    the department tree, the customer's exposure against its credit limit, and who of the
    policy's deciders is there to decide. `hold_dispatch_for_deposit` is the worker's
    setting; the collection policy in force may hold dispatch too."""
    staffed = await session.scalars(
        select(User.role).where(User.active.is_(True)).group_by(User.role)
    )
    margin_percent = (
        rules.money(order.expected_margin / order.total * rules.HUNDRED)
        if order.expected_margin is not None and order.total
        else None
    )
    return OrderFacts(
        order_id=order.id,
        number=order.number,
        owner_id=order.owner_id,
        department_id=order.department_id,
        customer_id=order.customer_id,
        total=order.total,
        max_discount_percent=max(
            (
                rules.discount_percent_vs_list(ln.amount, ln.quantity, ln.product.list_price)
                for ln in order.lines
            ),
            default=0,
        ),
        shipping_mode=ShippingMode(order.shipping_mode),
        lines=_line_facts(order),
        department_chain=await _department_chain(session, order.department_id),
        owner_role=Role(order.owner.role),
        expected_margin=order.expected_margin,
        expected_margin_percent=margin_percent,
        credit_limit=order.customer.credit_limit,
        exposure=await exposure_of(
            session=session, customer_id=order.customer_id, other_than=order.id
        )
        + order.total,
        staffed_roles=[Role(role) for role in staffed],
        active_deciders=sorted(await _active_deciders(session, policy)),
        needs_installation=any(ln.product.needs_installation for ln in order.lines),
        hold_for_deposit=await _deposit_due(session, order)
        and (
            hold_dispatch_for_deposit
            or (await current_collection_policy(session=session)).hold_dispatch_for_deposit
        ),
    )


def _line_facts(order: Order) -> list[LineFacts]:
    return [
        LineFacts(
            line_id=ln.id,
            product_id=ln.product_id,
            quantity=ln.quantity,
            amount=ln.amount,
            standard_cost=ln.product.standard_cost,
            unit_cost=ln.unit_cost,
            product_code=ln.product.code,
            available=ln.product.stock_on_hand - ln.product.reserved,
        )
        for ln in order.lines
    ]


async def _department_chain(
    session: AsyncSession, department_id: int | None
) -> list[DepartmentLink]:
    """The owner's department and each one above it, with its manager."""
    chain: list[DepartmentLink] = []
    while department_id is not None and len(chain) < 50:
        department = await session.get_one(Department, department_id)
        chain.append(DepartmentLink(department_id=department.id, manager_id=department.manager_id))
        department_id = department.parent_id
    return chain


async def _active_deciders(session: AsyncSession, policy: ApprovalPolicy) -> Iterable[int]:
    """The people the policy names (to decide or to be told) who are still active."""
    named = {
        decider.user_id
        for stage in policy.stages
        for requirement in stage.requirements
        for decider in [requirement.decider]
        if decider.user_id is not None
    } | {decider.user_id for decider in policy.notify if decider.user_id is not None}
    if not named:
        return []
    return await session.scalars(select(User.id).where(User.id.in_(named), User.active.is_(True)))


async def _deposit_due(session: AsyncSession, order: Order) -> bool:
    """Whether the payment plan has an installment due on confirmation."""
    deposit_due = await session.scalar(
        select(func.count())
        .select_from(PaymentPlanItem)
        .where(
            PaymentPlanItem.order_id == order.id,
            PaymentPlanItem.trigger == PaymentTrigger.confirmation.value,
        )
    )
    assert deposit_due is not None  # a count without a GROUP BY returns one row
    return deposit_due > 0
