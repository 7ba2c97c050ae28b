"""Function permissions per role that the administrator edits (DESIGN: function permissions are a
table the admin edits per role); a role with no row for a permission has its default."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.core import Base


class RolePermission(Base):
    """Whether a role has a function permission (e.g. `export`), as the administrator set it."""

    __tablename__ = "role_permissions"
    permission: Mapped[str] = mapped_column(String(40), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
