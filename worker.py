"""The Temporal worker: every workflow and activity of the application on the `orders` queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.approvals import ApprovalActivities
from activities.cancellation import CancellationActivities
from activities.change_pricing import ChangePricingActivities
from activities.changes import ChangeActivities
from activities.collection import CollectionActivities
from activities.costs import CostActivities
from activities.invoices import InvoiceActivities
from activities.notify import NotifyActivities
from activities.orders import OrderActivities
from activities.refunds import RefundActivities
from activities.return_receipts import ReceiptActivities
from activities.returns import ReturnActivities
from activities.shipments import (
    AcceptanceActivities,
    DispatchActivities,
    MilestoneActivities,
    ShipmentActivities,
)
from activities.shipments.changes import ShipmentChangeActivities
from activities.store import StepStore
from models.db import SessionFactory, create_engine, create_session_factory
from models.links import ContactLinks, DecisionLinks
from notifications.mail import Mailer
from settings import Settings, get_settings
from temporal_client import connect
from workflows.approval import ApprovalWorkflow
from workflows.collection import CollectionWorkflow
from workflows.order import OrderWorkflow
from workflows.shipment import ShipmentWorkflow

WORKFLOWS = [OrderWorkflow, ApprovalWorkflow, ShipmentWorkflow, CollectionWorkflow]


def mailer_from(settings: Settings) -> Mailer | None:
    if not settings.smtp_host:
        return None
    return Mailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        use_tls=settings.smtp_use_tls,
    )


def step_store(
    session_factory: SessionFactory, settings: Settings, *, deliver_mail: bool
) -> StepStore:
    """What every class of step activities shares: the database, the clock, mail and links."""
    return StepStore(
        session_factory,
        base_url=settings.base_url,
        currency=settings.currency,
        deliver_mail=deliver_mail,
        links=DecisionLinks(
            settings.resolved_secret_key(), timedelta(days=settings.decision_link_days)
        ),
        write_lock=asyncio.Lock() if settings.database_url.startswith("sqlite") else None,
        time_zone=settings.time_zone,
    )


def activities_for(
    session_factory: SessionFactory, settings: Settings, mailer: Mailer | None
) -> list[Callable[..., Awaitable[Any]]]:
    """The bound activity methods, constructed once with what they need."""
    store = step_store(session_factory, settings, deliver_mail=mailer is not None)
    orders = OrderActivities(store, hold_dispatch_for_deposit=settings.hold_dispatch_for_deposit)
    approvals = ApprovalActivities(store)
    shipments = ShipmentActivities(store)
    dispatch = DispatchActivities(store, contact_links=ContactLinks(settings.resolved_secret_key()))
    milestones = MilestoneActivities(store)
    acceptance = AcceptanceActivities(store)
    shipment_changes = ShipmentChangeActivities(store)
    collection = CollectionActivities(store)
    invoices = InvoiceActivities(store)
    costs = CostActivities(store)
    cancellation = CancellationActivities(store)
    refunds = RefundActivities(store)
    changes = ChangeActivities(store, hold_dispatch_for_deposit=settings.hold_dispatch_for_deposit)
    change_pricing = ChangePricingActivities(store)
    returns = ReturnActivities(store)
    receipts = ReceiptActivities(store)
    notify = NotifyActivities(session_factory, mailer)
    return [
        orders.start_costing,
        orders.record_estimate,
        orders.resubmit,
        orders.withdraw,
        orders.confirm_order,
        orders.record_unroutable,
        orders.prepare_rerouting,
        approvals.open_stage,
        approvals.record_decision,
        approvals.remind_approvers,
        approvals.escalate_approvals,
        shipments.start_shipment,
        shipments.plan_shipment,
        shipments.release_hold,
        dispatch.dispatch,
        milestones.mark_late,
        milestones.confirm_milestone,
        milestones.replan_milestone,
        acceptance.confirm_arrival,
        acceptance.record_acceptance,
        acceptance.raise_exception,
        acceptance.resolve_exception,
        shipment_changes.open_replan,
        shipment_changes.replan_shipment,
        shipment_changes.extra_dispatch,
        collection.start_collection,
        collection.fix_due_dates,
        collection.register_payment,
        collection.decide_payment,
        collection.remind_installment,
        collection.mark_overdue,
        collection.escalate_overdue,
        invoices.request_invoice,
        invoices.decide_invoice,
        costs.record_actual_costs,
        costs.decide_actual_costs,
        costs.begin_cost_review,
        costs.review_variance,
        costs.decide_variance,
        cancellation.cancel_order,
        cancellation.request_cancellation,
        cancellation.forward_cancellation,
        cancellation.decide_cancellation,
        refunds.withdraw_shipment,
        refunds.stop_collection,
        refunds.confirm_refund,
        refunds.issue_credit_note,
        refunds.finish_cancellation,
        changes.record_change_request,
        changes.apply_change,
        changes.reject_change,
        changes.withdraw_change,
        changes.replan_installments,
        change_pricing.open_change_estimate,
        change_pricing.record_change_estimate,
        returns.record_return_request,
        returns.decide_return,
        receipts.receive_return,
        notify.send_mail,
    ]


def build_worker(
    client: Client,
    session_factory: SessionFactory,
    settings: Settings,
    *,
    task_queue: str | None = None,
    mailer: Mailer | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(session_factory, settings, mailer),
        max_concurrent_workflow_tasks=100,
        max_concurrent_local_activities=50,
        max_cached_workflows=settings.worker_cached_workflows,
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    settings = get_settings()
    engine = create_engine(settings.database_url)
    client = await connect(settings)
    worker = build_worker(
        client, create_session_factory(engine), settings, mailer=mailer_from(settings)
    )
    logging.getLogger(__name__).info("polling task queue %s", settings.task_queue)
    try:
        await worker.run()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
