"""The inbox's export: the to-dos reaching the reader as the inbox filters and sorts them, every
one of them (the inbox shows the first 200), with an approval's expected margin for the roles
that see costs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_, labels, translations
from models.dates import as_utc
from models.domain import TodoStatus
from models.queries import sees_costs
from models.queries.todos import InboxFilter, stream_todos
from models.tables import User
from web.company_zone import company_zone
from web.exports import Cell, Export, audit_filters
from web.templating import locale_of

TODO_COLUMNS = (
    N_("What is asked"),
    N_("Order"),
    N_("Customer"),
    N_("Total"),
    N_("Asked by"),
    N_("Since"),
    N_("Due"),
    N_("Late"),
)
MARGIN_COLUMNS = (N_("Expected margin"), N_("Expected margin %"))


def local_time(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A moment as the company's clock shows it (SQLite gives it back without its zone: UTC)."""
    if moment is None:
        return None
    return as_utc(moment).astimezone(zone)


async def todos_export(
    *,
    request: Request,
    session: AsyncSession,
    user: User,
    filters: InboxFilter,
    status: TodoStatus = TodoStatus.open,
) -> Export:
    gettext = translations(locale_of(request, user)).gettext
    zone = ZoneInfo(await company_zone(request.app).current())
    costs = sees_costs(user)
    headers = [gettext(h) for h in TODO_COLUMNS + (MARGIN_COLUMNS if costs else ())]
    yes, no = gettext("Yes"), gettext("No")

    async def rows() -> AsyncIterator[Sequence[Cell]]:
        items = stream_todos(session=session, user=user, status=status, filters=filters)
        async for item in items:
            row: list[Cell] = [
                gettext(labels.TODO_KINDS.get(item.kind, item.kind)),
                item.order_number,
                item.customer,
                item.order_total,
                item.requested_by,
                local_time(item.created_at, zone),
                local_time(item.due_at, zone),
                yes if item.overdue else no,
            ]
            if costs:
                facts = item.facts
                row += [
                    facts.expected_margin if facts else None,
                    facts.expected_margin_percent if facts else None,
                ]
            yield row

    return Export(
        "todos",
        headers,
        rows(),
        filters=audit_filters(
            {
                "kind": filters.kind,
                "order": filters.order,
                "customer": filters.customer,
                "due": filters.due,
            },
            filters.sort,
        ),
    )
