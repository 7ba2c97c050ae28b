"""Turns the read model into what the API returns and the pages show, for one viewer."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from i18n.labels import TODO_KINDS
from models import queries
from models.domain import Role, Stage, TodoStatus
from models.tables import (
    ApprovalRound,
    ApprovalStep,
    CostBatch,
    Customer,
    Dispatch,
    Installment,
    Invoice,
    Milestone,
    Order,
    OrderCostVariance,
    Payment,
    Product,
    User,
)
from settings import Settings
from web import collection, costs
from web.schemas import (
    ApprovalRoundOut,
    ApprovalStageOut,
    ApprovalStepOut,
    CategoryVarianceOut,
    ContactOut,
    CostBatchOut,
    CostItemOut,
    CustomerOut,
    CustomerRef,
    DecisionFactsOut,
    DepartmentRef,
    DispatchOut,
    InstallmentOut,
    InvoiceOut,
    LineOut,
    MilestoneOut,
    OrderDetail,
    OrderSummary,
    PaymentOut,
    ProductOut,
    QueueLineOut,
    ShipmentExceptionOut,
    ShipmentQueueItemOut,
    TimelineEntry,
    TodoOut,
    UnroutableOrderOut,
    UserRef,
)
from workflows.rules import HUNDRED, installment_amounts, money, percent_of

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


def facts_out(item: queries.InboxItem) -> DecisionFactsOut | None:
    facts = item.facts
    if facts is None:
        return None
    return DecisionFactsOut(
        total=facts.total,
        max_discount_percent=facts.max_discount_percent,
        expected_margin=facts.expected_margin,
        expected_margin_percent=facts.expected_margin_percent,
        exposure=facts.exposure,
        credit_limit=facts.credit_limit,
        over_credit_limit=item.over_credit_limit,
        short_lines=facts.short_lines,
    )


def todo_out(item: queries.InboxItem) -> TodoOut:
    """A to-do as the API returns it; its facts are already cut to what the user may see
    (queries.list_todos), and TodoOut.for_viewer leaves the margin keys out of the JSON."""
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
        facts=facts_out(item),
        cost_facts=item.cost_facts,
    )


def approval_step_out(
    step: ApprovalStep, *, running: bool, deadlines: dict[int, datetime | None]
) -> ApprovalStepOut:
    pending = running and step.decision is None
    due_at = deadlines.get(step.todo_id) if pending else None
    return ApprovalStepOut(
        stage=step.stage,
        requirement=step.code,
        todo_id=step.todo_id,
        reason=step.reason or "",
        assignee=step.assignee_label,
        decision=step.decision,
        decided_by=user_ref(step.decided_by),
        decided_at=step.decided_at,
        comment=step.comment,
        pending_since=step.opened_at if pending else None,
        due_at=due_at,
        overdue=pending and queries.is_late(TodoStatus.open.value, due_at),
        reminded_at=step.reminded_at,
        escalated_at=step.escalated_at,
        escalated_to=step.escalated_to,
    )


def approval_round_out(
    approval_round: ApprovalRound, deadlines: dict[int, datetime | None]
) -> ApprovalRoundOut:
    """A round with its steps grouped by stage, in stage order (a later stage's steps appear
    once it opens)."""
    running = approval_round.status == "running"
    steps = [
        approval_step_out(s, running=running, deadlines=deadlines)
        for s in sorted(approval_round.steps, key=lambda s: (s.stage, s.id))
    ]
    stages: dict[int, list[ApprovalStepOut]] = {}
    for step in steps:
        stages.setdefault(step.stage, []).append(step)
    return ApprovalRoundOut(
        round=approval_round.number,
        status=approval_round.status,
        policy_version=approval_round.policy_version,
        started_at=approval_round.started_at,
        ended_at=approval_round.ended_at,
        stages=[ApprovalStageOut(stage=n, steps=group) for n, group in stages.items()],
        steps=steps,
    )


def unroutable_out(order: Order) -> UnroutableOrderOut:
    return UnroutableOrderOut(
        number=order.number,
        customer=CustomerRef(id=order.customer.id, name=order.customer.name),
        owner=user_ref(order.owner),
        department=DepartmentRef(id=order.department.id, name=order.department.name),
        stage=order.stage,
        since=order.unroutable_at,
        reason=order.unroutable_reason or "",
    )


def milestone_out(milestone: Milestone) -> MilestoneOut:
    return MilestoneOut(
        code=milestone.code,
        planned_date=milestone.planned_on,
        actual_date=milestone.actual_on,
        status=queries.milestone_status(milestone),
        late_since=milestone.late_since,
    )


def dispatch_out(dispatch: Dispatch) -> DispatchOut:
    return DispatchOut(
        round=dispatch.round,
        carrier=dispatch.carrier,
        tracking_number=dispatch.tracking_number,
        dispatched_on=dispatch.dispatched_on,
    )


def exception_out(row: queries.ExceptionRow) -> ShipmentExceptionOut:
    exception = row.exception
    return ShipmentExceptionOut(
        number=exception.number,
        kind=exception.kind,
        description=exception.description,
        raised_by=user_ref(row.raised_by),
        raised_at=exception.raised_at,
        resolution=exception.resolution,
        reship=exception.reship,
        resolved_by=user_ref(row.resolved_by),
        resolved_at=exception.resolved_at,
    )


def queue_item_out(item: queries.QueueItem) -> ShipmentQueueItemOut:
    return ShipmentQueueItemOut(
        number=item.number,
        customer=item.customer,
        shipping_mode=item.shipping_mode,
        shipment_status=item.shipment_status,
        held=item.held,
        waiting_for="deposit" if item.held else None,
        planned_dispatch_date=item.planned_dispatch_on,
        dispatch_todo_id=item.dispatch_todo_id,
        lines=[
            QueueLineOut(
                product_code=line.product_code,
                product_name=line.product_name,
                unit=line.unit,
                quantity=line.quantity,
                reserved=line.reserved,
                on_hand=line.on_hand,
            )
            for line in item.lines
        ],
    )


# Timeline events about costs: their figures and comments (finance's reasons, the variance
# explanation) are for those who see costs.
COST_EVENTS = frozenset(
    {
        "actual_costs_recorded",
        "actual_costs_complete",
        "actual_costs_approved",
        "actual_costs_rejected",
        "cost_review_started",
        "variance_reviewed",
        "variance_approved",
        "variance_rejected",
    }
)
# Cost figures any event may carry (the estimate's expected cost and margin).
COST_DETAILS = frozenset(
    {"expected_cost", "expected_margin", "actual_cost", "actual_margin", "variance"}
)


def visible_details(kind: str, details: dict[str, str], *, sees_costs: bool) -> dict[str, str]:
    """An event's details as this reader may see them: cost figures only for the roles that
    see costs (a field-level permission, on the timeline as everywhere)."""
    if sees_costs:
        return details
    if kind in COST_EVENTS:
        return {}
    return {k: v for k, v in details.items() if k not in COST_DETAILS}


async def order_detail(
    *, session: AsyncSession, user: User, order: Order, settings: Settings
) -> OrderDetail:
    rounds = await queries.approval_rounds(session=session, order=order)
    deadlines = await queries.pending_step_deadlines(session=session, rounds=rounds)
    events = await queries.timeline(session=session, order=order)
    todos = await queries.open_todos(session=session, order=order)
    milestones = await queries.milestones(session=session, order=order)
    dispatches = await queries.dispatches(session=session, order=order)
    exceptions = await queries.shipment_exceptions(session=session, order=order)
    rows, paid_in, invoice_rows = [], [], []
    if order.collection_status is not None:  # confirmed: its money is being collected
        rows = await queries.installments(session=session, order=order)
        paid_in = await collection.payments(session=session, order=order)
        invoice_rows = await collection.invoices(session=session, order=order)
    figures = collection.money_from(order, paid_in, invoice_rows)
    batches, variances = [], []
    if queries.sees_costs(user) and order.paid:  # costs are recorded after the first payment
        batches = await costs.cost_batches(session=session, order=order)
        if order.closed_at is not None:  # written when the order closes
            variances = await costs.category_variances(session=session, order=order)
    final = costs.final_figures(order)
    today = datetime.now(UTC).date()
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
        paid=order.paid,
        outstanding=figures.outstanding,
        invoiced=order.invoiced,
        collection_status=order.collection_status or "not_due",
        repeated_from=order.repeated_from,
        confirmed_at=order.confirmed_at,
        expected_cost=order.expected_cost,
        expected_margin=order.expected_margin,
        expected_margin_percent=margin_percent,
        freight_cost=order.freight_cost,
        installation_cost=order.installation_cost,
        other_cost=order.other_cost,
        actual_cost=order.actual_cost,
        actual_margin=final.actual_margin if final else None,
        variance=order.variance,
        variance_percent=None if order.variance_percent is None else money(order.variance_percent),
        variance_explanation=order.variance_explanation,
        closed_at=order.closed_at,
        cost_batches=[cost_batch_out(b) for b in batches],
        cost_variances=[category_variance_out(v) for v in variances],
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
        approvals=[approval_round_out(r, deadlines) for r in rounds],
        shipment_status=order.shipment_status,
        delayed=order.delayed,
        milestones=[milestone_out(m) for m in milestones],
        dispatches=[dispatch_out(d) for d in dispatches],
        exceptions=[exception_out(e) for e in exceptions],
        accepted_on=order.accepted_on,
        accepted_signed_by=order.accepted_signed_by,
        installments=installments_out(order, rows, today),
        payments=[payment_out(p) for p in paid_in],
        invoices=[invoice_out(i) for i in invoice_rows],
        pending_payments=figures.pending,
        invoice_pending=figures.invoice_pending,
        not_invoiced=figures.total - figures.invoiced,
        timeline=[
            TimelineEntry(
                at=e.at,
                kind=e.kind,
                actor=user_ref(e.actor),
                details=visible_details(
                    e.kind, e.details or {}, sees_costs=queries.sees_costs(user)
                ),
            )
            for e in events
        ],
        open_todos=[
            todo_out(queries.InboxItem.of(t, order, sees_costs=queries.sees_costs(user)))
            for t in todos
        ],
        unroutable_reason=order.unroutable_reason,
        unroutable_at=order.unroutable_at,
        workflow_id=workflow_id,
        temporal_url=(
            f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"
            f"/workflows/{workflow_id}"
            if show_ui_link
            else None
        ),
    )


def installments_out(order: Order, rows: list[Installment], today: date) -> list[InstallmentOut]:
    """The installments as confirmation fixed them; before that, as the plan will make them."""
    if not rows:
        amounts = installment_amounts(order.total, [item.percent for item in order.payment_plan])
        return [
            InstallmentOut(
                position=item.position,
                percent=item.percent,
                trigger=item.trigger,
                offset_days=item.offset_days,
                fixed_date=item.fixed_on,
                amount=amount,
            )
            for item, amount in zip(order.payment_plan, amounts, strict=True)
        ]
    fixed = {item.position: item.fixed_on for item in order.payment_plan}
    return [
        InstallmentOut(
            position=row.position,
            percent=row.percent,
            trigger=row.trigger,
            offset_days=row.offset_days,
            fixed_date=fixed.get(row.position),
            amount=row.amount,
            due_date=row.due_on,
            paid=row.paid,
            status=(status := installment_status(row, today)),
            overdue_days=(
                (today - row.due_on).days
                if status == "overdue" and row.due_on is not None  # overdue has a due date
                else 0
            ),
        )
        for row in rows
    ]


def installment_status(row: Installment, today: date) -> str:
    if row.settled:
        return "paid"
    if row.due_on is None:
        return "not_due"
    return "overdue" if row.due_on < today else "due"


def payment_out(payment: Payment) -> PaymentOut:
    return PaymentOut(
        number=payment.number,
        amount=payment.amount,
        received_on=payment.received_on,
        method=payment.method,
        reference=payment.reference,
        status=payment.status,
        registered_by=user_ref(payment.registered_by),
        decided_by=user_ref(payment.decided_by),
        decided_at=payment.decided_at,
        comment=payment.comment,
    )


def cost_batch_out(batch: CostBatch) -> CostBatchOut:
    return CostBatchOut(
        number=batch.number,
        total=batch.total,
        final=batch.final,
        status=batch.status,
        recorded_by=user_ref(batch.recorded_by),
        recorded_at=batch.recorded_at,
        decided_by=user_ref(batch.decided_by),
        decided_at=batch.decided_at,
        comment=batch.comment,
        items=[
            CostItemOut(
                category=i.category,
                amount=i.amount,
                supplier_payment_reference=i.supplier_payment_reference,
            )
            for i in batch.items
        ],
    )


def category_variance_out(row: OrderCostVariance) -> CategoryVarianceOut:
    return CategoryVarianceOut(
        category=row.category,
        expected=row.expected,
        actual=row.actual,
        difference=row.difference,
        percent=percent_of(row.difference, row.expected),
    )


def invoice_out(invoice: Invoice) -> InvoiceOut:
    return InvoiceOut(
        request_number=invoice.request_number,
        amount=invoice.amount,
        title=invoice.title,
        tax_number=invoice.tax_number,
        address=invoice.address,
        status=invoice.status,
        invoice_number=invoice.invoice_number,
        requested_by=user_ref(invoice.requested_by),
        requested_at=invoice.requested_at,
        decided_at=invoice.decided_at,
        comment=invoice.comment,
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
