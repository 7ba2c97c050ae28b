"""Who may export lists and reports, and the audit log every export is written to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models.domain import Refusal, Role
from models.tables import ExportAudit, User

# Export is a permission of its own (DESIGN: function permissions): the roles that answer for
# the numbers of a team or a function; not sales reps, followers, pricing, the warehouse or
# service, nor the administrator (who reads the audit log instead).
EXPORT_ROLES = frozenset(
    {Role.sales_manager, Role.director, Role.finance, Role.ops, Role.ops_manager}
)
NOT_FOR_YOUR_ROLE = N_(
    "Exporting lists is for sales managers, directors, finance, business operations and "
    "operations managers."
)
AUDIT_PER_PAGE = 50


class ExportRefusal(Refusal):
    """Someone without the export permission asked for an export."""


def may_export(user: User) -> bool:
    return Role(user.role) in EXPORT_ROLES


def check_may_export(user: User) -> None:
    if not may_export(user):
        raise ExportRefusal(NOT_FOR_YOUR_ROLE)


async def record_export(
    *,
    session: AsyncSession,
    user_id: int,
    list_name: str,
    file_format: str,
    filters: dict[str, Any],
    rows: int,
) -> None:
    """Writes one export to the audit log and commits it."""
    session.add(
        ExportAudit(
            user_id=user_id,
            exported_at=datetime.now(UTC),
            list_name=list_name,
            file_format=file_format,
            filters=filters,
            rows=rows,
        )
    )
    await session.commit()


@dataclass(frozen=True)
class AuditPage:
    exports: list[ExportAudit]
    total: int
    page: int
    per_page: int = AUDIT_PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def export_audits(*, session: AsyncSession, page: int) -> AuditPage:
    """The audit log of exports, the newest first."""
    total = await session.scalar(select(func.count()).select_from(ExportAudit)) or 0
    rows = await session.scalars(
        select(ExportAudit)
        .order_by(ExportAudit.exported_at.desc(), ExportAudit.id.desc())
        .limit(AUDIT_PER_PAGE)
        .offset((page - 1) * AUDIT_PER_PAGE)
    )
    return AuditPage(list(rows), total, page)
