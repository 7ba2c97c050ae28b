"""The order list's export: the list's columns (cost and margin for those who see costs) over
every page of the list as filtered, in its order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_, labels, translations
from models.dates import as_utc
from models.queries import sees_costs
from models.queries.orders import OrderFilter, stream_orders
from models.tables import User
from web.company_zone import company_zone
from web.exports import Cell, Export
from web.templating import locale_of

ORDER_COLUMNS = (
    N_("Order"),
    N_("Customer"),
    N_("Owner"),
    N_("Department"),
    N_("Stage"),
    N_("Total"),
    N_("Created"),
)
COST_COLUMNS = (N_("Expected cost"), N_("Expected margin"))


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The company's calendar day of a moment (SQLite gives it back without its zone: UTC)."""
    return as_utc(moment).astimezone(zone).date()


async def orders_export(
    *,
    request: Request,
    session: AsyncSession,
    user: User,
    filters: OrderFilter,
    shown: dict[str, Any],
) -> Export:
    gettext = translations(locale_of(request, user)).gettext
    zone = ZoneInfo(await company_zone(request.app).current())
    costs = sees_costs(user)
    headers = [gettext(h) for h in ORDER_COLUMNS + (COST_COLUMNS if costs else ())]

    async def rows() -> AsyncIterator[Sequence[Cell]]:
        async for order in stream_orders(session=session, user=user, filters=filters):
            row: list[Cell] = [
                order.number,
                order.customer.name,
                order.owner.full_name,
                order.department.name,
                gettext(labels.STAGES[order.stage]),
                order.total,
                local_date(order.created_at, zone),
            ]
            if costs:
                row += [order.expected_cost, order.expected_margin]
            yield row

    return Export("orders", headers, rows(), filters=shown)
