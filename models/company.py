"""The company's settings (one row administrators edit): the time zone times are shown in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import DEFAULT_TIME_ZONE, N_
from models.admin.checks import AdminRefusal
from models.tables import CompanySettings, User

UNKNOWN_ZONE = N_(
    "“%(zone)s” is not a time zone. Give its name as in the tz database, e.g. Asia/Shanghai, "
    "Europe/Berlin or UTC."
)


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """The time zones this machine knows (the IANA tz database), by name."""
    return frozenset(available_timezones())


def checked_zone(name: str) -> str:
    """The name of a known time zone, or an AdminRefusal saying what to give instead."""
    name = name.strip()
    if name not in zone_names():
        raise AdminRefusal(UNKNOWN_ZONE, zone=name[:64])
    return name


async def company_time_zone(*, session: AsyncSession, default: str = DEFAULT_TIME_ZONE) -> str:
    """The company's time zone: the one an administrator saved, else `default` (the setting
    O2C_TIME_ZONE)."""
    name = await session.scalar(select(CompanySettings.time_zone).where(CompanySettings.id == 1))
    return name if name in zone_names() else default


async def save_time_zone(*, session: AsyncSession, user: User, time_zone: str) -> str:
    """Set the company's time zone (an administrator's edit); refused, nothing changes."""
    name = checked_zone(time_zone)
    row = await session.get(CompanySettings, 1)
    if row is None:
        row = CompanySettings(id=1)
        session.add(row)
    row.time_zone = name
    row.updated_at = datetime.now(UTC)
    row.updated_by_id = user.id
    await session.commit()
    return name


def company_today(time_zone: str, now: datetime | None = None) -> date:
    """The company's calendar day at this moment (now by default)."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(time_zone)).date()
