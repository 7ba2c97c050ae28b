"""SQLAlchemy tables: the read model that activities keep current and the web layer queries."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2)
Quantity = Numeric(18, 3)
Percent = Numeric(7, 3)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_departments_manager_id_users")
    )


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # Bumped on sign-out: cookies and tokens issued before carry the old one (web/security.py).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    department: Mapped[Department] = relationship(foreign_keys=[department_id], lazy="joined")


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    level: Mapped[str] = mapped_column(String(20), default="B")
    region: Mapped[str] = mapped_column(String(50), default="")
    industry: Mapped[str] = mapped_column(String(50), default="")
    credit_limit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_number: Mapped[str] = mapped_column(String(50), default="")
    invoice_title: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", order_by="Contact.id", cascade="all, delete-orphan"
    )


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50), default="")
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    list_price: Mapped[Decimal] = mapped_column(Money)
    standard_cost: Mapped[Decimal] = mapped_column(Money)
    stock_on_hand: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    reserved: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    needs_installation: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OrderNumberCounter(Base):
    __tablename__ = "order_number_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    shipping_mode: Mapped[str] = mapped_column(String(10))
    requested_delivery_on: Mapped[date | None] = mapped_column(Date)
    order_discount_percent: Mapped[Decimal | None] = mapped_column(Percent)
    target_total: Mapped[Decimal | None] = mapped_column(Money)
    list_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    stage: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    approval_round: Mapped[int] = mapped_column(Integer, default=0)
    # Kept current by the fulfilment and collection steps; lists filter on them.
    delayed: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    freight_cost: Mapped[Decimal | None] = mapped_column(Money)
    installation_cost: Mapped[Decimal | None] = mapped_column(Money)
    other_cost: Mapped[Decimal | None] = mapped_column(Money)
    expected_cost: Mapped[Decimal | None] = mapped_column(Money)
    expected_margin: Mapped[Decimal | None] = mapped_column(Money)
    repeated_from: Mapped[str | None] = mapped_column(String(20))
    # Why no one can decide its approval, while that is so (the admin's "unroutable" list).
    unroutable_reason: Mapped[str | None] = mapped_column(Text)
    unroutable_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Fulfilment: planning, held (waiting for the deposit), awaiting_dispatch, in_transit,
    # arrived, accepted; None before confirmation.
    shipment_status: Mapped[str | None] = mapped_column(String(20), index=True)
    hold_released_reason: Mapped[str | None] = mapped_column(Text)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    accepted_signed_by: Mapped[str | None] = mapped_column(String(100))
    # Collection and invoicing, kept current by their steps (lists and receivables read them).
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    invoiced: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # not_due, due, overdue, paid; None before confirmation.
    collection_status: Mapped[str | None] = mapped_column(String(10), index=True)
    # Actual costs (approved by finance, kept current) and, once closed, the variance against
    # the expected cost as ops reviewed it.
    actual_cost: Mapped[Decimal | None] = mapped_column(Money)
    variance: Mapped[Decimal | None] = mapped_column(Money)
    variance_percent: Mapped[Decimal | None] = mapped_column(Percent)
    variance_explanation: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The cost variance report: closed orders in a period, their figures and department,
        # from the index alone (models/cost_report.py).
        Index(
            "ix_orders_closed_variance",
            "closed_at",
            "variance",
            "expected_cost",
            "actual_cost",
            "department_id",
        ),
    )

    customer: Mapped[Customer] = relationship(lazy="joined")
    owner: Mapped[User] = relationship(lazy="joined", foreign_keys=[owner_id])
    department: Mapped[Department] = relationship(lazy="joined")
    lines: Mapped[list[OrderLine]] = relationship(
        order_by="OrderLine.position", cascade="all, delete-orphan", back_populates="order"
    )
    payment_plan: Mapped[list[PaymentPlanItem]] = relationship(
        order_by="PaymentPlanItem.position", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount_percent: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(Money)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship(lazy="joined")


class PaymentPlanItem(Base):
    __tablename__ = "payment_plan_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    percent: Mapped[Decimal] = mapped_column(Percent)
    trigger: Mapped[str] = mapped_column(String(20))
    offset_days: Mapped[int] = mapped_column(Integer, default=0)
    fixed_on: Mapped[date | None] = mapped_column(Date)


class Todo(Base):
    __tablename__ = "todos"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    workflow_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default="open")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)
    # What decides it (an approval's total, discount, margin, exposure, stock), for the inbox.
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    assignees: Mapped[list[TodoAssignee]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class TodoAssignee(Base):
    """One assignee of a to-do; status and created_at are copied here so that an inbox is one
    index range scan however many to-dos the company has."""

    __tablename__ = "todo_assignees"
    id: Mapped[int] = mapped_column(primary_key=True)
    todo_id: Mapped[int] = mapped_column(ForeignKey("todos.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str | None] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_todo_assignees_user_inbox", "user_id", "status", "created_at"),
        Index("ix_todo_assignees_role_inbox", "role", "status", "created_at"),
        Index("ix_todo_assignees_department_inbox", "department_id", "status", "created_at"),
    )


class ApprovalRound(Base):
    __tablename__ = "approval_rounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    policy_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    steps: Mapped[list[ApprovalStep]] = relationship(
        order_by="(ApprovalStep.stage, ApprovalStep.id)", cascade="all, delete-orphan"
    )
    __table_args__ = (UniqueConstraint("order_id", "number"),)


class ApprovalStep(Base):
    """One requirement of one stage of a round, and how it was decided."""

    __tablename__ = "approval_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("approval_rounds.id"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(50))
    todo_id: Mapped[int] = mapped_column(ForeignKey("todos.id"))
    assignee_label: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str | None] = mapped_column(String(10))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(300), default="")
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_to: Mapped[str | None] = mapped_column(String(200))

    decided_by: Mapped[User | None] = relationship(lazy="joined")


class ApprovalPolicyVersion(Base):
    """Every saved approval policy; the highest version is in force. A round records the version
    it was routed by, and a saved version is never changed."""

    __tablename__ = "approval_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    created_by: Mapped[User | None] = relationship(lazy="joined")


class DecisionLink(Base):
    """A link in an approval e-mail that lets its one recipient decide its one to-do without
    logging in; it expires, and it works once."""

    __tablename__ = "decision_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[str] = mapped_column(String(64), unique=True)
    todo_id: Mapped[int] = mapped_column(ForeignKey("todos.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StockReservation(Base):
    """Stock set aside for an order line, per dispatch round (a reshipment reserves again);
    taken when the round is dispatched. One per line and round, so reserving is idempotent."""

    __tablename__ = "stock_reservations"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    reserved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("order_line_id", "round"),)


class Milestone(Base):
    """One milestone of an order's shipment: planned and actual dates."""

    __tablename__ = "milestones"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(30))
    planned_on: Mapped[date] = mapped_column(Date)
    actual_on: Mapped[date | None] = mapped_column(Date)
    late_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (UniqueConstraint("order_id", "code"),)


class Dispatch(Base):
    """Goods leaving the warehouse for an order: the first shipment, or a reshipment."""

    __tablename__ = "dispatches"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    carrier: Mapped[str] = mapped_column(String(100))
    tracking_number: Mapped[str] = mapped_column(String(100))
    dispatched_on: Mapped[date] = mapped_column(Date)
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("order_id", "round"),)


class ShipmentException(Base):
    """Something wrong after dispatch (damaged, missing parts, replacement, reshipment) and how
    ops resolved it."""

    __tablename__ = "shipment_exceptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(Text)
    reship: Mapped[bool | None] = mapped_column(Boolean)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("order_id", "number"),)


class ContactLink(Base):
    """A link in the dispatch e-mail that lets the customer's contact confirm arrival of that
    order, once, without an account."""

    __tablename__ = "contact_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    dispatch_round: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="joined")


class OutboxMail(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(250), unique=True)
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Installment(Base):
    """One installment of an order's payment plan: its amount, its due date once the event it
    hangs on has happened, what is paid of it, and what its timers have done."""

    __tablename__ = "installments"
    __table_args__ = (
        UniqueConstraint("order_id", "position"),
        Index("ix_installments_open_due", "settled", "due_on"),
        # Receivables: an order's open installments, and every open amount, from the index
        # alone (models/receivables.py).
        Index("ix_installments_open_by_order", "settled", "order_id", "due_on", "amount", "paid"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    percent: Mapped[Decimal] = mapped_column(Percent)
    trigger: Mapped[str] = mapped_column(String(20))
    offset_days: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    settled: Mapped[bool] = mapped_column(Boolean, default=False)  # paid in full
    due_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue_since: Mapped[date | None] = mapped_column(Date)
    manager_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    director_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Payment(Base):
    """Money the owner says the customer paid; finance confirms or rejects it."""

    __tablename__ = "payments"
    # A reference is used once per order, unless finance rejected that payment (checked by the
    # registration and the workflow, which know which were rejected).
    __table_args__ = (UniqueConstraint("order_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the order
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # confirmed, rejected
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)

    registered_by: Mapped[User | None] = relationship(
        lazy="joined", foreign_keys=[registered_by_id]
    )
    decided_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[decided_by_id])


class PaymentAllocation(Base):
    """How much of a confirmed payment went to which installment."""

    __tablename__ = "payment_allocations"
    __table_args__ = (UniqueConstraint("payment_id", "installment_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    installment_id: Mapped[int] = mapped_column(ForeignKey("installments.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)


class Invoice(Base):
    """An application for an invoice, and the invoice finance issued for it (or why not)."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("order_id", "request_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    request_number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the order
    amount: Mapped[Decimal] = mapped_column(Money)
    title: Mapped[str] = mapped_column(String(200))
    tax_number: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="requested")  # issued, rejected
    invoice_number: Mapped[str | None] = mapped_column(String(50), unique=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)

    requested_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[requested_by_id])


class CollectionPolicyVersion(Base):
    """A saved version of the collection policy: reminders, escalation, named payment plans,
    the deposit hold."""

    __tablename__ = "collection_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CostBatch(Base):
    """Actual costs ops recorded together; finance approve or reject the batch as a whole."""

    __tablename__ = "cost_batches"
    __table_args__ = (UniqueConstraint("order_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the order
    total: Mapped[Decimal] = mapped_column(Money)
    final: Mapped[bool] = mapped_column(Boolean, default=False)  # ops: no more costs follow
    status: Mapped[str] = mapped_column(String(10), default="pending")  # approved, rejected
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[ActualCost]] = relationship(
        order_by="ActualCost.position", cascade="all, delete-orphan", lazy="selectin"
    )
    recorded_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[recorded_by_id])
    decided_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[decided_by_id])


class ActualCost(Base):
    """One actual cost item of a batch, tied to the order by the supplier payment reference."""

    __tablename__ = "actual_costs"
    __table_args__ = (UniqueConstraint("batch_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("cost_batches.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Money)
    supplier_payment_reference: Mapped[str] = mapped_column(String(100))


class OrderCostVariance(Base):
    """A closed order's expected and actual cost in one category (the cost variance report
    filters and sorts on these)."""

    __tablename__ = "order_cost_variances"
    __table_args__ = (
        UniqueConstraint("order_id", "category"),
        # The report by category: its closed orders and figures from the index alone.
        Index(
            "ix_order_cost_variances_by_category",
            "category",
            "order_id",
            "difference",
            "expected",
            "actual",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    category: Mapped[str] = mapped_column(String(20))
    expected: Mapped[Decimal] = mapped_column(Money)
    actual: Mapped[Decimal] = mapped_column(Money)
    difference: Mapped[Decimal] = mapped_column(Money)


class VariancePolicyVersion(Base):
    """A saved version of the variance policy: when a cost variance needs an explanation and
    the operations manager's approval."""

    __tablename__ = "variance_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
