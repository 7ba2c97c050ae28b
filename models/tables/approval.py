"""Approval tables: rounds and their steps, the saved approval policies, e-mail decision links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.core import Base, User


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
