"""The audit log of exports: who exported which list, when, with which filters, how many rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.core import Base, User


class ExportAudit(Base):
    """One export (CSV or XLSX) of a list or report, written once its rows are all out."""

    __tablename__ = "export_audits"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    exported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    list_name: Mapped[str] = mapped_column(String(40))
    file_format: Mapped[str] = mapped_column(String(10))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    rows: Mapped[int] = mapped_column(Integer)

    user: Mapped[User] = relationship(lazy="joined")
