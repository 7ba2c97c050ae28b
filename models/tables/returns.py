"""Return tables: goods an order's customer sends back (asked for, approved, received as
restocked or scrapped) and, per line, how many were asked for, came back, and their value."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.core import Base, Money, Quantity, User
from models.tables.orders import OrderLine


class OrderReturn(Base):
    """A return of an order: why, who asked and when, who approved or rejected it, and what
    came back. Status: requested (waiting for approval), rejected, approved (waiting for the
    warehouse), receiving (part received), received (all back), closed (the rest will not
    come back, with why)."""

    __tablename__ = "order_returns"
    __table_args__ = (UniqueConstraint("order_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the order
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)  # a rejection's reason
    # Receipts recorded so far: a retried receipt's step finds its number and moves no stock.
    receipts: Mapped[int] = mapped_column(Integer, default=0)
    # What the last receipt did to the money, as its step answered (a retry answers the same).
    last_money: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))  # of what came back
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_reason: Mapped[str | None] = mapped_column(Text)  # why the rest will not come back

    requested_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[decided_by_id])
    lines: Mapped[list[OrderReturnLine]] = relationship(
        order_by="OrderReturnLine.id", back_populates="order_return", lazy="selectin"
    )


class OrderReturnLine(Base):
    """One order line of a return: asked for, received (restocked + scrapped), the line's net
    unit price when it was asked for, and the value of what came back."""

    __tablename__ = "order_return_lines"
    __table_args__ = (UniqueConstraint("return_id", "order_line_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("order_returns.id"), index=True)
    # index: order statistics by product category read what came back of each line.
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)  # asked for
    received: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    restocked: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    scrapped: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    unit_net_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))  # value come back

    order_return: Mapped[OrderReturn] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship(lazy="joined")
