"""The Temporal worker: every workflow and activity of the application on the `orders` queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypedDict

from temporalio.client import Client
from temporalio.worker import Worker

from activities.approvals import ApprovalActivities
from activities.collection import CollectionActivities
from activities.costs import CostActivities
from activities.notify import NotifyActivities
from activities.orders import OrderActivities
from activities.shipments import ShipmentActivities
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


class StepSettings(TypedDict):
    """What every class of step activities is constructed with besides its session factory."""

    base_url: str
    currency: str
    deliver_mail: bool
    links: DecisionLinks
    write_lock: asyncio.Lock | None
    hold_dispatch_for_deposit: bool


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


def activities_for(
    session_factory: SessionFactory, settings: Settings, mailer: Mailer | None
) -> list[Callable[..., Awaitable[Any]]]:
    """The bound activity methods, constructed once with what they need."""
    common = StepSettings(
        base_url=settings.base_url,
        currency=settings.currency,
        deliver_mail=mailer is not None,
        links=DecisionLinks(
            settings.resolved_secret_key(), timedelta(days=settings.decision_link_days)
        ),
        write_lock=asyncio.Lock() if settings.database_url.startswith("sqlite") else None,
        hold_dispatch_for_deposit=settings.hold_dispatch_for_deposit,
    )
    orders = OrderActivities(session_factory, **common)
    approvals = ApprovalActivities(session_factory, **common)
    shipments = ShipmentActivities(
        session_factory,
        contact_links=ContactLinks(settings.resolved_secret_key()),
        **common,
    )
    collection = CollectionActivities(session_factory, **common)
    costs = CostActivities(session_factory, **common)
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
        shipments.dispatch,
        shipments.mark_late,
        shipments.confirm_milestone,
        shipments.replan_milestone,
        shipments.confirm_arrival,
        shipments.record_acceptance,
        shipments.raise_exception,
        shipments.resolve_exception,
        collection.start_collection,
        collection.fix_due_dates,
        collection.register_payment,
        collection.decide_payment,
        collection.remind_installment,
        collection.mark_overdue,
        collection.escalate_overdue,
        collection.request_invoice,
        collection.decide_invoice,
        costs.record_actual_costs,
        costs.decide_actual_costs,
        costs.begin_cost_review,
        costs.review_variance,
        costs.decide_variance,
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
