"""Cost tables: batches of actual costs, variances per category, the saved variance policies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.core import Base, Money, User


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
