"""The mail outbox as the administrator reads it: every mail, newest first, a page at a time."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import OutboxMail

MAIL_PAGE_SIZE = 50


@dataclass
class OutboxPage:
    mails: list[OutboxMail]
    page: int
    pages: int
    total: int


async def list_outbox(*, session: AsyncSession, page: int = 1) -> OutboxPage:
    """Newest first, MAIL_PAGE_SIZE to a page."""
    total = await session.scalar(select(func.count()).select_from(OutboxMail)) or 0
    pages = max(1, math.ceil(total / MAIL_PAGE_SIZE))
    page = min(max(1, page), pages)
    mails = await session.scalars(
        select(OutboxMail)
        .order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
        .limit(MAIL_PAGE_SIZE)
        .offset((page - 1) * MAIL_PAGE_SIZE)
    )
    return OutboxPage(list(mails), page, pages, total)


async def get_mail(*, session: AsyncSession, mail_id: int) -> OutboxMail | None:
    return await session.get(OutboxMail, mail_id)
