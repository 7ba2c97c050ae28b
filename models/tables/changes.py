"""Change tables: the change requests of a submitted order and the revisions they became."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.core import Base, User


class OrderChangeRequest(Base):
    """A change someone asked for on a submitted order: why, what (the request's body as it was
    sent), who and when; then who decided and why. Status: open, approved (applied as a
    revision), rejected, withdrawn. One is open per order at a time."""

    __tablename__ = "order_change_requests"
    __table_args__ = (UniqueConstraint("order_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... within the order
    status: Mapped[str] = mapped_column(String(10), default="open")
    reason: Mapped[str] = mapped_column(Text)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)

    requested_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[requested_by_id])


class OrderRevision(Base):
    """An order's revision after its first (number 2, 3, ...): the change request it applied,
    who asked for it, when it was applied, and its diff, [{field, before, after}]. Kept
    forever."""

    __tablename__ = "order_revisions"
    __table_args__ = (UniqueConstraint("order_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    change_request_id: Mapped[int] = mapped_column(
        ForeignKey("order_change_requests.id"), unique=True
    )
    changes: Mapped[list[dict[str, str]]] = mapped_column(JSON)

    created_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[created_by_id])
