"""Shipment tables: stock reservations, milestones, dispatches, exceptions, arrival links."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.core import Base, Quantity


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
    # The order was cancelled before this round left: the stock went back to the shelf.
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The rest of a partial dispatch: the round whose goods left in part (the first of its
    # parts); None for a round's own reservation. A round's parts add up to what it reserved.
    part_of: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("order_line_id", "round"),)

    @property
    def dispatch_chain(self) -> int:
        """The round this reservation's goods belong to: its own, or the one it is the rest
        of."""
        return self.part_of or self.round


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
