"""SQLAlchemy tables: the read model that activities keep current and the web layer queries.

A shared core (the declarative base and its one naming-convention metadata, departments, users,
customers, products, to-dos, the outbox) and one module per area: orders, approval, shipment,
collection, costs. Importing this package registers every table on `Base.metadata` (Alembic's
env.py relies on it), and everything is re-exported here, so `from models.tables import Order`
works as before."""

from __future__ import annotations

from models.tables.approval import (
    ApprovalPolicyVersion,
    ApprovalRound,
    ApprovalStep,
    DecisionLink,
)
from models.tables.audit import ExportAudit
from models.tables.cancellation import Cancellation, CreditNote, Refund
from models.tables.changes import OrderChangeRequest, OrderRevision
from models.tables.collection import (
    CollectionPolicyVersion,
    Installment,
    Invoice,
    Payment,
    PaymentAllocation,
)
from models.tables.core import (
    NAMING_CONVENTION,
    Base,
    CompanySettings,
    Contact,
    Customer,
    Department,
    Money,
    OutboxMail,
    Percent,
    Product,
    Quantity,
    Todo,
    TodoAssignee,
    User,
)
from models.tables.costs import (
    ActualCost,
    CostBatch,
    OrderCostVariance,
    VariancePolicyVersion,
)
from models.tables.orders import (
    Order,
    OrderLine,
    OrderNumberCounter,
    PaymentPlanItem,
    TimelineEvent,
)
from models.tables.permissions import RolePermission
from models.tables.returns import OrderReturn, OrderReturnLine
from models.tables.shipment import (
    ContactLink,
    Dispatch,
    Milestone,
    ShipmentException,
    StockReservation,
)
from models.tables.targets import Target
from models.tables.waits import WaitHistogram

__all__ = [
    "NAMING_CONVENTION",
    "ActualCost",
    "ApprovalPolicyVersion",
    "ApprovalRound",
    "ApprovalStep",
    "Base",
    "Cancellation",
    "CollectionPolicyVersion",
    "CompanySettings",
    "Contact",
    "ContactLink",
    "CostBatch",
    "CreditNote",
    "Customer",
    "DecisionLink",
    "Department",
    "Dispatch",
    "ExportAudit",
    "Installment",
    "Invoice",
    "Milestone",
    "Money",
    "Order",
    "OrderChangeRequest",
    "OrderCostVariance",
    "OrderLine",
    "OrderNumberCounter",
    "OrderReturn",
    "OrderReturnLine",
    "OrderRevision",
    "OutboxMail",
    "Payment",
    "PaymentAllocation",
    "PaymentPlanItem",
    "Percent",
    "Product",
    "Quantity",
    "Refund",
    "RolePermission",
    "ShipmentException",
    "StockReservation",
    "Target",
    "TimelineEvent",
    "Todo",
    "TodoAssignee",
    "User",
    "VariancePolicyVersion",
    "WaitHistogram",
]
