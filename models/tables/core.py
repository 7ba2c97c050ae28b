"""Shared tables: the declarative base with its naming convention, departments and users,
customers and their contacts, products, to-dos and the mail outbox."""

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
    MetaData,
    Numeric,
    String,
    Text,
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
    # The language their mail is written in (en or zh_CN): a contact has no profile to pick it.
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en")

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    @property
    def locale(self) -> str:
        """The language of the pages their mail links to (a recipient's `locale`)."""
        return self.language


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

    __table_args__ = (
        # Where orders wait (models/reports/waits.py): the to-dos completed in a period with
        # what the report reads of them, and the open ones oldest first.
        Index(
            "ix_todos_completed",
            "status",
            "completed_at",
            "kind",
            "created_at",
            "completed_by_id",
            "order_id",
        ),
        Index("ix_todos_open_oldest", "status", "created_at"),
    )

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


class OutboxMail(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(250), unique=True)
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CompanySettings(Base):
    """The company's own settings, one row (id 1), edited by administrators: the time zone
    every time is shown in (pages, mail) and the calendar day "today" is counted on."""

    __tablename__ = "company_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
