"""Monthly targets: per person or per department, for the confirmed order amount or for the
money collected."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.core import Base, Money


class Target(Base):
    """One month's target of a person (`user_id`) or of a department (`department_id`), never
    both, for one measure: `confirmed` (order amount confirmed) or `collected` (money in). A
    department without a row has the sum of its people's and its sub-departments' targets."""

    __tablename__ = "targets"
    __table_args__ = (
        CheckConstraint(
            "(user_id IS NULL) <> (department_id IS NULL)", name="person_or_department"
        ),
        Index(
            "uq_targets_person",
            "month",
            "measure",
            "user_id",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "uq_targets_department",
            "month",
            "measure",
            "department_id",
            unique=True,
            sqlite_where=text("department_id IS NOT NULL"),
            postgresql_where=text("department_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # 2026-11
    measure: Mapped[str] = mapped_column(String(10))  # confirmed, collected
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
