"""Turns the read model into what the API returns and the pages show, for one viewer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from i18n.labels import TODO_KINDS
from models import queries
from models.domain import Role, Stage, TodoStatus
from models.policy import current_collection_policy
from models.queries.cancellation import cancellations, credit_notes, refunds
from models.queries.returns import order_returns
from models.reports.net_revenue import net_revenue_of
from models.tables import (
    ApprovalRound,
    ApprovalStep,
    Installment,
    Milestone,
    Order,
    OrderCostVariance,
    Product,
    User,
)
from settings import Settings
from web.commands.collection import invoices, money_from, payments, refunded_to
from web.commands.costs import category_variances, cost_batches, final_figures
from web.schemas import (
    ApprovalRoundOut,
    ApprovalStageOut,
    ApprovalStepOut,
    CategoryVarianceOut,
    DecisionFactsOut,
    InstallmentOut,
    MilestoneOut,
    OrderDetail,
    OrderSummary,
    ProductOut,
    RowWith,
    ShipmentExceptionOut,
    ShipmentQueueItemOut,
    TimelineEntry,
    TodoOut,
    UnroutableOrderOut,
)
from web.schemas.cancellation import RefundOut
from web.temporal import workflow_id
from workflows.rules import (
    HUNDRED,
    LineInput,
    installment_amounts,
    line_net,
    money,
    percent_of,
)

# Who gets the link to the order's workflow in the Temporal UI.
TEMPORAL_UI_ROLES = frozenset({Role.ops, Role.ops_manager, Role.admin, Role.director})


def order_summary(order: Order, health: str, currency: str) -> OrderSummary:
    return OrderSummary.model_validate(RowWith(order, health=health, currency=currency))


async def order_summaries(
    *, session: AsyncSession, orders: list[Order], currency: str
) -> list[OrderSummary]:
    deadlines = await queries.open_todo_deadlines(session=session, order_ids=[o.id for o in orders])
    return [order_summary(o, queries.health(o, deadlines.get(o.id, [])), currency) for o in orders]


def todo_out(item: queries.InboxItem) -> TodoOut:
    """A to-do as the API returns it; its facts are already cut to what the user may see
    (queries.list_todos), and TodoOut.for_viewer leaves the margin keys out of the JSON."""
    facts = (
        DecisionFactsOut.model_validate(
            RowWith(item.facts, over_credit_limit=item.over_credit_limit)
        )
        if item.facts is not None
        else None
    )
    return TodoOut.model_validate(
        RowWith(item, title=TODO_KINDS.get(item.kind, item.kind), facts=facts)
    )


def approval_step_out(
    step: ApprovalStep, *, running: bool, deadlines: dict[int, datetime | None]
) -> ApprovalStepOut:
    pending = running and step.decision is None
    due_at = deadlines.get(step.todo_id) if pending else None
    return ApprovalStepOut.model_validate(
        RowWith(
            step,
            reason=step.reason or "",
            pending_since=step.opened_at if pending else None,
            due_at=due_at,
            overdue=pending and queries.is_late(TodoStatus.open.value, due_at),
        )
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
    return ApprovalRoundOut.model_validate(
        RowWith(
            approval_round,
            stages=[ApprovalStageOut(stage=n, steps=group) for n, group in stages.items()],
            steps=steps,
        )
    )


def unroutable_out(order: Order) -> UnroutableOrderOut:
    return UnroutableOrderOut.model_validate(RowWith(order, reason=order.unroutable_reason or ""))


def milestone_out(milestone: Milestone) -> MilestoneOut:
    return MilestoneOut.model_validate(
        RowWith(milestone, status=queries.milestone_status(milestone))
    )


def exception_out(row: queries.ExceptionRow) -> ShipmentExceptionOut:
    return ShipmentExceptionOut.model_validate(
        RowWith(row.exception, raised_by=row.raised_by, resolved_by=row.resolved_by)
    )


def queue_item_out(item: queries.QueueItem) -> ShipmentQueueItemOut:
    return ShipmentQueueItemOut.model_validate(
        RowWith(item, waiting_for="deposit" if item.held else None)
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
    """The whole order: its row, and what the other tables and the viewer's role add to it
    (the API's OrderDetail.for_viewer then leaves out the cost fields they may not see)."""
    sees_costs = queries.sees_costs(user)
    todos = await queries.open_todos(session=session, order=order)
    rounds = await queries.approval_rounds(session=session, order=order)
    deadlines = await queries.pending_step_deadlines(session=session, rounds=rounds)
    events = await queries.timeline(session=session, order=order)
    return OrderDetail.model_validate(
        RowWith(
            order,
            health=queries.health(order, [t.due_at for t in todos]),
            currency=settings.currency,
            before_order_discount=sum(
                (
                    line_net(LineInput(ln.quantity, ln.unit_price, ln.discount_percent))
                    for ln in order.lines
                ),
                Decimal("0.00"),
            ),
            approvals=[approval_round_out(r, deadlines) for r in rounds],
            **await _fulfilment(session=session, order=order),
            **await _collection(session=session, order=order),
            **await _costs(session=session, order=order, sees_costs=sees_costs),
            **await _changes(session=session, order=order),
            **await _cancellation(session=session, order=order),
            returns=await order_returns(session=session, order=order),
            timeline=[
                TimelineEntry.model_validate(
                    RowWith(
                        e,
                        details=visible_details(e.kind, e.details or {}, sees_costs=sees_costs),
                    )
                )
                for e in events
            ],
            open_todos=[
                todo_out(queries.InboxItem.of(t, order, sees_costs=sees_costs)) for t in todos
            ],
            **_workflow(user, order, settings),
        )
    )


async def _fulfilment(*, session: AsyncSession, order: Order) -> dict[str, object]:
    """The order's milestones, dispatches and shipment exceptions."""
    milestones = await queries.milestones(session=session, order=order)
    exceptions = await queries.shipment_exceptions(session=session, order=order)
    return {
        "milestones": [milestone_out(m) for m in milestones],
        "dispatches": await queries.dispatches(session=session, order=order),
        "exceptions": [exception_out(e) for e in exceptions],
    }


async def _collection(*, session: AsyncSession, order: Order) -> dict[str, object]:
    """The order's installments, payments and invoices, and the sums they make."""
    rows, paid_in, invoice_rows = [], [], []
    if order.collection_status is not None:  # confirmed: its money is being collected
        rows = await queries.installments(session=session, order=order)
        paid_in = await payments(session=session, order=order)
        invoice_rows = await invoices(session=session, order=order)
    refunded = await refunded_to(session=session, order=order) if rows else Decimal("0.00")
    figures = money_from(order, paid_in, invoice_rows, refunded)
    return {
        "collection_status": order.collection_status or "not_due",
        "outstanding": figures.outstanding,
        "installments": installments_out(
            order,
            rows,
            datetime.now(UTC).date(),
            soon_days=(await current_collection_policy(session=session)).reminder_days_before
            if rows
            else 0,
        ),
        "payments": paid_in,
        "invoices": invoice_rows,
        "pending_payments": figures.pending,
        "invoice_pending": figures.invoice_pending,
        "not_invoiced": max(Decimal("0.00"), figures.total - figures.invoiced),
    }


async def _costs(*, session: AsyncSession, order: Order, sees_costs: bool) -> dict[str, object]:
    """The figures computed from the order's costs; its batches and variances per category for
    those who see costs."""
    batches, variances = [], []
    if sees_costs and order.paid:  # costs are recorded after the first payment
        batches = await cost_batches(session=session, order=order)
        if order.closed_at is not None:  # written when the order closes
            variances = await category_variances(session=session, order=order)
    revenue = await net_revenue_of(session=session, order=order) if order.closed_at else None
    final = final_figures(order, revenue)
    return {
        "expected_margin_percent": (
            money(order.expected_margin / order.total * HUNDRED)
            if order.expected_margin is not None and order.total
            else None
        ),
        "actual_margin": final.actual_margin if final else None,
        "revenue": final.revenue if final else None,
        "variance_percent": (
            None if order.variance_percent is None else money(order.variance_percent)
        ),
        "cost_batches": batches,
        "cost_variances": [category_variance_out(v) for v in variances],
    }


async def _changes(*, session: AsyncSession, order: Order) -> dict[str, object]:
    """The order's change requests and the revisions they became, each with its diff (a
    draft has none)."""
    if order.submitted_at is None:
        return {"revisions": [], "change_requests": []}
    return {
        "revisions": await queries.revisions(session=session, order=order),
        "change_requests": await queries.change_requests(session=session, order=order),
    }


async def _cancellation(*, session: AsyncSession, order: Order) -> dict[str, object]:
    """The order's latest cancellation, its refunds (what is due until refunded, then what
    was) and credit notes, and the money refunded."""
    if order.submitted_at is None:
        return {}
    asked = await cancellations(session=session, order=order)
    paid_back = await refunds(session=session, order=order)
    return {
        "cancellation": asked[-1] if asked else None,
        "refunds": [
            RefundOut.model_validate(RowWith(r, amount=r.amount if r.amount is not None else r.due))
            for r in paid_back
        ],
        "credit_notes": await credit_notes(session=session, order=order),
        "refunded": sum((r.amount or Decimal("0.00") for r in paid_back), Decimal("0.00")),
    }


def _workflow(user: User, order: Order, settings: Settings) -> dict[str, str | None]:
    """The order's workflow id once submitted, and its page in the Temporal UI for the roles
    that get the link."""
    submitted = order.stage != Stage.draft.value
    shown = submitted and Role(user.role) in TEMPORAL_UI_ROLES
    return {
        "workflow_id": workflow_id(order.number) if submitted else None,
        "temporal_url": (
            f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"
            f"/workflows/{workflow_id(order.number)}"
            if shown
            else None
        ),
    }


def installments_out(
    order: Order, rows: list[Installment], today: date, *, soon_days: int = 0
) -> list[InstallmentOut]:
    """The installments as confirmation fixed them; before that, as the plan will make them.
    `soon_days`: how many days before its due date money is "due soon" (the collection
    policy's reminder days)."""
    if not rows:
        amounts = installment_amounts(order.total, [item.percent for item in order.payment_plan])
        return [
            InstallmentOut.model_validate(RowWith(item, amount=amount))
            for item, amount in zip(order.payment_plan, amounts, strict=True)
        ]
    fixed = {item.position: item.fixed_on for item in order.payment_plan}
    return [
        InstallmentOut.model_validate(
            RowWith(
                row,
                fixed_on=fixed.get(row.position),
                status=(status := installment_status(row, today)),
                overdue_days=(
                    (today - row.due_on).days
                    if status == "overdue" and row.due_on is not None  # overdue has a due date
                    else 0
                ),
                due_state=installment_due_state(row, today, soon_days),
            )
        )
        for row in rows
    ]


def installment_status(row: Installment, today: date) -> str:
    if row.settled:
        return "paid"
    if row.due_on is None:
        return "not_due"
    return "overdue" if row.due_on < today else "due"


def installment_due_state(row: Installment, today: date, soon_days: int) -> str:
    """The status told finer for people: an open installment due today, due within the days
    the collection reminds the owner before (due_soon), or later (not_yet_due)."""
    status = installment_status(row, today)
    if status != "due":
        return "not_yet_due" if status == "not_due" else status
    assert row.due_on is not None  # "due" has a due date
    if row.due_on == today:
        return "due_today"
    return "due_soon" if row.due_on <= today + timedelta(days=soon_days) else "not_yet_due"


def category_variance_out(row: OrderCostVariance) -> CategoryVarianceOut:
    return CategoryVarianceOut.model_validate(
        RowWith(row, percent=percent_of(row.difference, row.expected))
    )


def product_out(product: Product, *, sees_costs: bool) -> ProductOut:
    return ProductOut.model_validate(
        RowWith(
            product,
            standard_cost=product.standard_cost if sees_costs else None,
            available=product.stock_on_hand - product.reserved,
        )
    )
