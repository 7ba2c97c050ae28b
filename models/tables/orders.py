"""Order tables: the order with its lines and payment plan, its number counter and its timeline."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.core import Base, Customer, Department, Money, Percent, Product, Quantity, User


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
    # 1 as entered; each approved change request makes the next (models/tables/changes.py).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
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
    # The value of the goods that came back (returns received), at each line's net unit price.
    returned: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"), server_default="0")
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
        # from the index alone (models/reports/cost_report.py).
        Index(
            "ix_orders_closed_variance",
            "closed_at",
            "variance",
            "expected_cost",
            "actual_cost",
            "department_id",
        ),
        # The orders confirmed in a period and the figures the performance report and the
        # statistics sum, from the index alone (models/reports/).
        Index(
            "ix_orders_confirmed_figures",
            "confirmed_at",
            "stage",
            "owner_id",
            "department_id",
            "customer_id",
            "total",
            "returned",
            "paid",
            "invoiced",
        ),
        # The same for a manager's departments (the department's own index read every order
        # of the tree to find a month's).
        Index(
            "ix_orders_department_confirmed",
            "department_id",
            "confirmed_at",
            "stage",
            "owner_id",
            "customer_id",
            "total",
            "returned",
            "paid",
            "invoiced",
        ),
        # And for a rep's own orders (the owner's own index read all of them for each month).
        Index(
            "ix_orders_owner_confirmed",
            "owner_id",
            "confirmed_at",
            "stage",
            "department_id",
            "customer_id",
            "total",
            "returned",
            "paid",
            "invoiced",
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

    @property
    def net_total(self) -> Decimal:
        """The total less the value of what came back."""
        return self.total - (self.returned or Decimal("0"))


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


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # Where orders wait: the stage changes of a period (models/reports/waits.py).
    __table_args__ = (Index("ix_timeline_events_kind_at", "kind", "at", "order_id"),)

    actor: Mapped[User | None] = relationship(lazy="joined")
