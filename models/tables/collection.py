"""Collection tables: installments, payments and their allocation, invoices, collection policies."""

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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.core import Base, Money, Percent, User


class Installment(Base):
    """One installment of an order's payment plan: its amount, its due date once the event it
    hangs on has happened, what is paid of it, and what its timers have done."""

    __tablename__ = "installments"
    __table_args__ = (
        UniqueConstraint("order_id", "position"),
        Index("ix_installments_open_due", "settled", "due_on"),
        # Receivables: an order's open installments, and every open amount, from the index
        # alone (models/reports/receivables.py).
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
    __table_args__ = (
        UniqueConstraint("order_id", "number"),
        # The performance report: the money received in a period, from the index alone.
        Index("ix_payments_received", "status", "received_on", "order_id", "amount"),
    )
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
