"""Cancellation tables: an order's cancellation (reason, who, when, its approval), the refunds of
money received and the credit notes of issued invoices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.core import Base, Money, User


class Cancellation(Base):
    """An order's cancellation: why (a reason code and words), who asked and when; after
    confirmation, who approved or rejected it. Status: requested (waiting for approval),
    rejected, refunding (approved, money or invoices still to undo), cancelled."""

    __tablename__ = "cancellations"
    __table_args__ = (UniqueConstraint("order_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the order
    reason_code: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    requested_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[decided_by_id])


class Refund(Base):
    """Money received paid back to the customer after a cancellation: what was due when finance
    were asked, and what they paid back, when, how and under which reference."""

    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("order_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the order
    todo_key: Mapped[str] = mapped_column(String(200), unique=True)
    due: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal | None] = mapped_column(Money)  # refunded
    status: Mapped[str] = mapped_column(String(10), default="pending")  # refunded
    paid_on: Mapped[date | None] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(30))
    reference: Mapped[str | None] = mapped_column(String(100))
    refunded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CreditNote(Base):
    """The credit note (red-letter invoice) that cancels one issued invoice of a cancelled
    order, or credits what a return took off an order's invoiced amount (no invoice of its
    own: `return_id`); its number shares the namespace of invoice numbers."""

    __tablename__ = "credit_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("order_returns.id"))
    todo_key: Mapped[str] = mapped_column(String(200), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(10), default="requested")  # issued
    number: Mapped[str | None] = mapped_column(String(50), unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
