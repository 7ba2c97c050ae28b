"""Who may export lists and reports, and the audit log every export is written to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models.admin.checks import AdminRefusal
from models.domain import Refusal, Role
from models.tables import ExportAudit, RolePermission, User

# Export is a permission of its own (DESIGN: function permissions), which the administrator
# edits per role. By default the roles that answer for the numbers of a team or a function; not
# sales reps, followers, pricing, the warehouse or service.
EXPORT_ROLES = frozenset(
    {Role.sales_manager, Role.director, Role.finance, Role.ops, Role.ops_manager}
)
# The administrator reads the audit log instead and is never given the export.
GRANTABLE_ROLES = tuple(role for role in Role if role is not Role.admin)
EXPORT = "export"  # the permission's name in role_permissions
NOT_FOR_YOUR_ROLE = N_(
    "Exporting lists is for the roles the administrator allows to export; yours is not one of them."
)
UNKNOWN_ROLE = N_("“%(role)s” is not a role that can be given the export.")
AUDIT_PER_PAGE = 50


class ExportRefusal(Refusal):
    """Someone without the export permission asked for an export."""


async def export_roles(*, session: AsyncSession) -> frozenset[Role]:
    """The roles that may export: as the administrator set them, a role never set as by
    default (EXPORT_ROLES)."""
    rows = await session.execute(
        select(RolePermission.role, RolePermission.allowed).where(
            RolePermission.permission == EXPORT
        )
    )
    saved = {role: allowed for role, allowed in rows}
    return frozenset(
        role for role in GRANTABLE_ROLES if saved.get(role.value, role in EXPORT_ROLES)
    )


def may_export(user: User, roles: frozenset[Role]) -> bool:
    return Role(user.role) in roles


async def check_may_export(*, session: AsyncSession, user: User) -> None:
    if not may_export(user, await export_roles(session=session)):
        raise ExportRefusal(NOT_FOR_YOUR_ROLE)


def checked_roles(given: list[str]) -> frozenset[Role]:
    """The roles an administrator ticked, or an AdminRefusal naming one that cannot export."""
    grantable = {role.value: role for role in GRANTABLE_ROLES}
    for name in given:
        if name not in grantable:
            raise AdminRefusal(UNKNOWN_ROLE, role=name[:40])
    return frozenset(grantable[name] for name in given)


async def save_export_roles(
    *, session: AsyncSession, user: User, roles: list[str]
) -> frozenset[Role]:
    """The administrator sets which roles may export (every role not given loses it); an
    unknown role is refused and nothing changes."""
    chosen = checked_roles(roles)
    saved = {
        row.role: row
        for row in await session.scalars(
            select(RolePermission).where(RolePermission.permission == EXPORT)
        )
    }
    now = datetime.now(UTC)
    for role in GRANTABLE_ROLES:
        row = saved.get(role.value)
        if row is None:
            row = RolePermission(permission=EXPORT, role=role.value)
            session.add(row)
        row.allowed = role in chosen
        row.updated_at = now
        row.updated_by_id = user.id
    await session.commit()
    return chosen


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
