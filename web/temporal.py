"""How the web layer talks to Temporal: start an order's workflow, send a to-do's update."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from models.domain import OrderResult, OrderWorkflowInput, Stage
from models.tables import Order
from workflows.order import OrderWorkflow

ORDER_NO = SearchAttributeKey.for_keyword("OrderNo")
CUSTOMER = SearchAttributeKey.for_keyword("Customer")
OWNER = SearchAttributeKey.for_keyword("Owner")
DEPARTMENT = SearchAttributeKey.for_keyword("Department")
STAGE = SearchAttributeKey.for_keyword("Stage")
ORDER_TOTAL = SearchAttributeKey.for_float("OrderTotal")

SEARCH_ATTRIBUTES = {
    "OrderNo": "Keyword",
    "Customer": "Keyword",
    "Owner": "Keyword",
    "Department": "Keyword",
    "Stage": "Keyword",
    "OrderTotal": "Double",
    "Outstanding": "Double",
    "Overdue": "Bool",
    "ShipmentDelayed": "Bool",
    "Delayed": "Bool",  # the old name, reserved in the query parser: kept for older orders
}


def workflow_id(order_number: str) -> str:
    return f"order-{order_number}"


async def submitted_with(client: Client, order_number: str, submit_key: str) -> bool:
    """Whether the order's workflow was started by the submit with this idempotency key."""
    try:
        described = await client.get_workflow_handle(workflow_id(order_number)).describe()
        stored: object = await described.memo_value(SUBMIT_KEY, default=None)
        return stored == submit_key
    except RPCError:
        return False


SUBMIT_KEY = "submit_key"


async def start_order_workflow(
    client: Client,
    session: AsyncSession,
    order: Order,
    *,
    task_queue: str,
    submit_key: str | None = None,
) -> WorkflowHandle[OrderWorkflow, OrderResult]:
    """Start the order's workflow; a second start for the same order is refused by Temporal
    (WorkflowAlreadyStartedError), so a double submit does nothing twice. The submit's
    idempotency key, if it has one, goes into the workflow's memo: the same submit sent again
    is recognised by it."""
    await session.refresh(order, ["customer", "owner", "department"])
    return await client.start_workflow(
        OrderWorkflow.run,
        OrderWorkflowInput(order_number=order.number, submitted_by=order.owner_id),
        id=workflow_id(order.number),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        memo={SUBMIT_KEY: submit_key} if submit_key else None,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(ORDER_NO, order.number),
                SearchAttributePair(CUSTOMER, order.customer.name),
                SearchAttributePair(OWNER, order.owner.username),
                SearchAttributePair(DEPARTMENT, order.department.name),
                SearchAttributePair(STAGE, Stage.costing.value),
                SearchAttributePair(ORDER_TOTAL, float(order.total)),
            ]
        ),
    )
