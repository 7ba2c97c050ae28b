"""Turns the read model into what the API returns and the pages show, for one viewer."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from i18n.labels import TODO_KINDS
from models import queries
from models.domain import Role, Stage
from models.tables import Customer, Order, Product, User
from settings import Settings
from web.schemas import (
    ApprovalRoundOut,
    ApprovalStepOut,
    ContactOut,
    CustomerOut,
    CustomerRef,
    DepartmentRef,
    InstallmentOut,
    LineOut,
    OrderDetail,
    OrderSummary,
    ProductOut,
    TimelineEntry,
    TodoOut,
    UserRef,
)
from workflows.rules import HUNDRED, installment_amounts, money

# Who gets the link to the order's workflow in the Temporal UI.
TEMPORAL_UI_ROLES = frozenset({Role.ops, Role.ops_manager, Role.admin, Role.director})


def user_ref(user: User | None) -> UserRef | None:
    return UserRef(id=user.id, username=user.username, full_name=user.full_name) if user else None


def order_summary(order: Order, health: str, currency: str) -> OrderSummary:
    return OrderSummary(
        number=order.number,
        customer=CustomerRef(id=order.customer.id, name=order.customer.name),
        owner=user_ref(order.owner),
        department=DepartmentRef(id=order.department.id, name=order.department.name),
        stage=order.stage,
        health=health,
        total=order.total,
        currency=currency,
        created_at=order.created_at,
        submitted_at=order.submitted_at,
    )


async def order_summaries(
    *, session: AsyncSession, orders: list[Order], currency: str
) -> list[OrderSummary]:
    deadlines = await queries.open_todo_deadlines(session=session, order_ids=[o.id for o in orders])
    return [order_summary(o, queries.health(o, deadlines.get(o.id, [])), currency) for o in orders]


def todo_out(item: queries.InboxItem) -> TodoOut:
    return TodoOut(
        id=item.id,
        kind=item.kind,
        order_number=item.order_number,
        title=TODO_KINDS.get(item.kind, item.kind),
        status=item.status,
        created_at=item.created_at,
        due_at=item.due_at,
        requested_by=item.requested_by,
        customer=item.customer,
        order_total=item.order_total,
        overdue=item.overdue,
    )


async def order_detail(
    *, session: AsyncSession, user: User, order: Order, settings: Settings
) -> OrderDetail:
    rounds = await queries.approval_rounds(session=session, order=order)
    events = await queries.timeline(session=session, order=order)
    todos = await queries.open_todos(session=session, order=order)
    percents = [item.percent for item in order.payment_plan]
    amounts = installment_amounts(order.total, percents)
    margin_percent = (
        money(order.expected_margin / order.total * HUNDRED)
        if order.expected_margin is not None and order.total
        else None
    )
    workflow_id = f"order-{order.number}" if order.stage != Stage.draft.value else None
    show_ui_link = workflow_id and Role(user.role) in TEMPORAL_UI_ROLES
    return OrderDetail(
        **order_summary(
            order, queries.health(order, [t.due_at for t in todos]), settings.currency
        ).model_dump(),
        shipping_mode=order.shipping_mode,
        requested_delivery_date=order.requested_delivery_on,
        order_discount_percent=order.order_discount_percent,
        target_total=order.target_total,
        list_total=order.list_total,
        paid=Decimal("0.00"),
        outstanding=order.total,
        invoiced=Decimal("0.00"),
        collection_status="not_due",
        repeated_from=order.repeated_from,
        confirmed_at=order.confirmed_at,
        expected_cost=order.expected_cost,
        expected_margin=order.expected_margin,
        expected_margin_percent=margin_percent,
        freight_cost=order.freight_cost,
        installation_cost=order.installation_cost,
        other_cost=order.other_cost,
        lines=[
            LineOut(
                id=ln.id,
                position=ln.position,
                product_id=ln.product_id,
                product_code=ln.product.code,
                product_name=ln.product.name,
                unit=ln.product.unit,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                discount_percent=ln.discount_percent,
                amount=ln.amount,
                list_price=ln.product.list_price,
                standard_cost=ln.product.standard_cost,
                unit_cost=ln.unit_cost,
            )
            for ln in order.lines
        ],
        approvals=[
            ApprovalRoundOut(
                round=r.number,
                status=r.status,
                policy_version=r.policy_version,
                started_at=r.started_at,
                ended_at=r.ended_at,
                steps=[
                    ApprovalStepOut(
                        stage=s.stage,
                        requirement=s.code,
                        assignee=s.assignee_label,
                        decision=s.decision,
                        decided_by=user_ref(s.decided_by),
                        decided_at=s.decided_at,
                        comment=s.comment,
                        pending_since=s.opened_at if s.decision is None else None,
                    )
                    for s in r.steps
                ],
            )
            for r in rounds
        ],
        installments=[
            InstallmentOut(
                position=item.position,
                percent=item.percent,
                trigger=item.trigger,
                offset_days=item.offset_days,
                fixed_date=item.fixed_on,
                amount=amount,
            )
            for item, amount in zip(order.payment_plan, amounts, strict=True)
        ],
        timeline=[
            TimelineEntry(at=e.at, kind=e.kind, actor=user_ref(e.actor), details=e.details or {})
            for e in events
        ],
        open_todos=[todo_out(queries.InboxItem.of(t, order)) for t in todos],
        workflow_id=workflow_id,
        temporal_url=(
            f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"
            f"/workflows/{workflow_id}"
            if show_ui_link
            else None
        ),
    )


def customer_out(customer: Customer) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        name=customer.name,
        level=customer.level,
        region=customer.region,
        industry=customer.industry,
        credit_limit=customer.credit_limit,
        tax_number=customer.tax_number,
        invoice_title=customer.invoice_title,
        address=customer.address,
        contacts=[
            ContactOut(id=c.id, name=c.name, email=c.email, phone=c.phone)
            for c in customer.contacts
        ],
    )


def product_out(product: Product, *, sees_costs: bool) -> ProductOut:
    return ProductOut(
        id=product.id,
        code=product.code,
        name=product.name,
        category=product.category,
        unit=product.unit,
        list_price=product.list_price,
        standard_cost=product.standard_cost if sees_costs else None,
        stock_on_hand=product.stock_on_hand,
        reserved=product.reserved,
        available=product.stock_on_hand - product.reserved,
        needs_installation=product.needs_installation,
    )
