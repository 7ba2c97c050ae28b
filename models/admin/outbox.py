"""The mail outbox as the administrator reads it: every mail, newest first, a page at a time;
found by its recipient or the order it is about, sorted by a column."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import SQLColumnExpression, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.queries.orders import LIKE_ESCAPE, containing
from models.queries.sorting import SortOrder, sql_order
from models.tables import OutboxMail

MAIL_PAGE_SIZE = 50
# The outbox's columns a person may sort by.
OUTBOX_SORTS: dict[str, SQLColumnExpression[Any]] = {
    "to": func.lower(OutboxMail.to_address),
    "subject": OutboxMail.subject,
    "created": OutboxMail.created_at,
    "sent": OutboxMail.sent_at,
}


@dataclass(frozen=True)
class OutboxSearch:
    recipient: str = ""  # part of the address it goes to
    order: str = ""  # part of the order number its subject names
    sort: SortOrder = field(default_factory=SortOrder)


@dataclass
class OutboxPage:
    mails: list[OutboxMail]
    page: int
    pages: int
    total: int


async def list_outbox(
    *, session: AsyncSession, page: int = 1, search: OutboxSearch | None = None
) -> OutboxPage:
    """Newest first (or as sorted), MAIL_PAGE_SIZE to a page. Every mail about an order names
    its number in the subject, so the order is found there."""
    search = search or OutboxSearch()
    query = select(OutboxMail)
    if search.recipient.strip():
        pattern = containing(search.recipient.strip())
        query = query.where(OutboxMail.to_address.ilike(pattern, escape=LIKE_ESCAPE))
    if search.order.strip():
        pattern = containing(search.order.strip())
        query = query.where(OutboxMail.subject.ilike(pattern, escape=LIKE_ESCAPE))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / MAIL_PAGE_SIZE))
    page = min(max(1, page), pages)
    newest_first: list[SQLColumnExpression[Any]] = [
        OutboxMail.created_at.desc(),
        OutboxMail.id.desc(),
    ]
    if search.sort.column:
        newest_first = sql_order(search.sort, OUTBOX_SORTS, *newest_first)
    mails = await session.scalars(
        query.order_by(*newest_first).limit(MAIL_PAGE_SIZE).offset((page - 1) * MAIL_PAGE_SIZE)
    )
    return OutboxPage(list(mails), page, pages, total)


async def get_mail(*, session: AsyncSession, mail_id: int) -> OutboxMail | None:
    return await session.get(OutboxMail, mail_id)
