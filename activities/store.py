"""The database side every step activity shares: its one transaction, its order, its recorder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from temporalio.exceptions import ApplicationError

from activities.steps import Clock, StepRecorder
from i18n import DEFAULT_TIME_ZONE
from models.db import SessionFactory
from models.links import DecisionLinks
from models.tables import Order, OrderLine


def utc_now() -> datetime:
    return datetime.now(UTC)


# An order by id or number, with or without its lines: built once (steps run many a second).
_ORDER_QUERIES = {
    (with_lines, by_id): (
        select(Order).options(selectinload(Order.lines).selectinload(OrderLine.product))
        if with_lines
        else select(Order)
    ).where((Order.id if by_id else Order.number) == bindparam("key"))
    for with_lines in (True, False)
    for by_id in (True, False)
}


class StepStore:
    """Constructed once per worker and given to each class of step activities."""

    def __init__(
        self,
        session_factory: SessionFactory,
        *,
        base_url: str,
        currency: str = "CNY",
        deliver_mail: bool = False,
        clock: Clock = utc_now,
        links: DecisionLinks | None = None,
        write_lock: asyncio.Lock | None = None,
        time_zone: str = DEFAULT_TIME_ZONE,
    ) -> None:
        self.session_factory = session_factory
        self.time_zone = time_zone  # O2C_TIME_ZONE, unless an administrator saved another
        self.links = links
        # SQLite has one writer at a time: steps of this process take turns here rather than
        # in SQLite's busy handler, which sleeps in growing steps of up to 100 ms.
        self.write_lock = write_lock
        self.deliver_mail = deliver_mail
        self.base_url = base_url
        self.currency = currency
        self.clock = clock

    @asynccontextmanager
    async def step(self) -> AsyncIterator[AsyncSession]:
        """The session of one step (one transaction), taking its turn to write."""
        if self.write_lock is None:
            async with self.session_factory() as session:
                yield session
            return
        async with self.write_lock, self.session_factory() as session:
            yield session

    def recorder(self, session: AsyncSession) -> StepRecorder:
        return StepRecorder(
            session,
            now=self.clock(),
            base_url=self.base_url,
            currency=self.currency,
            deliver_mail=self.deliver_mail,
            links=self.links,
            time_zone=self.time_zone,
        )

    async def order(
        self,
        session: AsyncSession,
        *,
        order_id: int | None = None,
        number: str | None = None,
        with_lines: bool = True,
    ) -> Order:
        """The order with its customer and owner; its lines and products only when the step
        works on them (most steps don't, and loading them is most of a step's cost)."""
        query = _ORDER_QUERIES[with_lines, order_id is not None]
        order = await session.scalar(query, {"key": order_id or number})
        if order is None:
            raise ApplicationError(f"No order {number or order_id}", non_retryable=True)
        return order
