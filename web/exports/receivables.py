"""The receivables list's and the aging report's exports: every order with money open as the
list filters and sorts it (read a batch of orders at a time), and the open money per customer
by aging bucket with its total row."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_, translations
from models.reports.receivables import ReceivableFilter, aging, receivables
from models.tables import User
from web.exports import BATCH, Cell, Export
from web.templating import locale_of
from workflows.rules import AGING_BUCKETS

RECEIVABLE_COLUMNS = (
    N_("Order"),
    N_("Customer"),
    N_("Owner"),
    N_("Total"),
    N_("Value returned"),
    N_("Net total"),
    N_("Paid"),
    N_("Outstanding"),
    N_("Next due"),
    N_("Days overdue"),
    N_("Overdue amount"),
)
BUCKET_NAMES = {
    "not_due": N_("Not yet due"),
    "1-30": N_("1–30 days overdue"),
    "31-60": N_("31–60 days overdue"),
    "61-90": N_("61–90 days overdue"),
    "over_90": N_("Over 90 days overdue"),
}


async def receivables_export(
    *,
    request: Request,
    session: AsyncSession,
    user: User,
    today: date,
    filters: ReceivableFilter,
    shown: dict[str, Any],
) -> Export:
    gettext = translations(locale_of(request, user)).gettext

    async def rows() -> AsyncIterator[Sequence[Cell]]:
        page = 1
        while True:
            batch = dataclasses.replace(filters, page=page, per_page=BATCH)
            result = await receivables(session=session, user=user, today=today, filters=batch)
            for r in result.rows:
                yield [
                    r.order_number,
                    r.customer,
                    r.owner,
                    r.total,
                    r.returned,
                    r.net_total,
                    r.paid,
                    r.outstanding,
                    r.next_due_on,
                    r.overdue_days,
                    r.overdue_amount,
                ]
            if page >= result.pages:
                return
            page += 1

    headers = [gettext(h) for h in RECEIVABLE_COLUMNS]
    return Export("receivables", headers, rows(), filters=shown)


async def aging_export(
    *,
    request: Request,
    session: AsyncSession,
    user: User,
    today: date,
    customer_id: int | None,
    owner_id: int | None,
) -> Export:
    gettext = translations(locale_of(request, user)).gettext
    report = await aging(
        session=session, user=user, today=today, customer_id=customer_id, owner_id=owner_id
    )
    headers = [
        gettext("Customer"),
        *(gettext(BUCKET_NAMES.get(b, b)) for b in AGING_BUCKETS),
        gettext("Total"),
        gettext("Value returned"),
    ]

    async def rows() -> AsyncIterator[Sequence[Cell]]:
        for row in [*report.rows, report.total]:
            name = row.customer if row.customer_id is not None else gettext("Total")
            yield [name, *(row.buckets.get(b) for b in AGING_BUCKETS), row.total, row.returned]

    shown = {"customer_id": customer_id, "owner_id": owner_id}
    return Export(
        "aging", headers, rows(), filters={k: v for k, v in shown.items() if v is not None}
    )
