"""Each wait counted in the histograms of where orders wait (models/tables/waits.py) when it
ends: a to-do when its step completes it, a stage when its step records the event that moves
the order on. Both run in the step's own transaction and only when the step writes the to-do's
completion or the event (a retried step finds them written and counts nothing). And the
histograms rebuilt from the to-dos and timelines, for a database written otherwise (the
migration that adds them, the benchmark's company, a test's hand-built data)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby, product
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Insert,
    Result,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.dates import as_utc
from models.db import DIALECT_INSERTS
from models.domain import TodoStatus
from models.reports.wait_buckets import bucket_of, spans_of
from models.reports.wait_spells import STAGE_ENTERED, stage_spells
from models.tables import CompanySettings, Order, TimelineEvent, Todo, WaitHistogram

STAGE, TODO = "stage", "todo"
NOBODY = 0  # a stage's user_id, and a to-do's completed by no one
# A to-do is counted twice: for its order's department (a sales manager's tree) and for every
# department at once (everyone's scope), which is a fifth of the rows to read.
EVERY_DEPARTMENT = 0
ORDERS_AT_ONCE = 5_000  # a rebuild's batch

_TABLE = WaitHistogram.__table__
_KEY = ["span", "starts", "measure", "department_id", "name", "user_id", "bucket"]
_STAGE_KINDS = list(STAGE_ENTERED)


def _adding(insert: Any) -> Any:
    """Insert the cells, adding to the cells already there (ON CONFLICT: each dialect's own
    Insert)."""
    added = insert(_TABLE)
    return added.on_conflict_do_update(
        index_elements=_KEY,
        set_={
            "waits": _TABLE.c.waits + added.excluded.waits,
            "seconds": _TABLE.c.seconds + added.excluded.seconds,
        },
    )


_ADD: dict[str, Insert] = {dialect: _adding(insert) for dialect, insert in DIALECT_INSERTS.items()}
_ORDER_DEPARTMENT = select(Order.department_id).where(Order.id == bindparam("order_id"))
_STAGE_EVENTS = (
    select(TimelineEvent.key, TimelineEvent.at, TimelineEvent.kind)
    .where(TimelineEvent.order_id == bindparam("order_id"), TimelineEvent.kind.in_(_STAGE_KINDS))
    .order_by(TimelineEvent.at, TimelineEvent.id)
)


@dataclass(frozen=True)
class Wait:
    """One wait that ended: a stage of an order or a to-do, on an order of `department_id`."""

    measure: str
    name: str
    department_id: int
    user_id: int
    ended: datetime
    seconds: float


Cells = dict[tuple[Any, ...], list[int]]


def count_into(cells: Cells, waits: Iterable[Wait], zone: ZoneInfo) -> None:
    """Each wait counted, to the second, in its bucket and the four spans of its day (a to-do
    also for every department)."""
    for wait in waits:
        seconds = round(wait.seconds)
        bucket = bucket_of(seconds)
        day = as_utc(wait.ended).astimezone(zone).date()
        departments = [wait.department_id]
        if wait.measure == TODO:
            departments.append(EVERY_DEPARTMENT)
        for (span, starts), department_id in product(spans_of(day), departments):
            key = (span, starts, wait.measure, department_id, wait.name, wait.user_id, bucket)
            cell = cells.get(key)
            if cell is None:
                cells[key] = [1, seconds]
            else:
                cell[0] += 1
                cell[1] += seconds


def _rows(cells: Cells) -> list[dict[str, Any]]:
    return [
        {**dict(zip(_KEY, key, strict=True)), "waits": waits, "seconds": seconds}
        for key, (waits, seconds) in cells.items()
    ]


def todo_wait(
    kind: str, by_id: int | None, department_id: int, created: datetime, completed: datetime
) -> Wait:
    return Wait(
        measure=TODO,
        name=kind,
        department_id=department_id,
        user_id=by_id or NOBODY,
        ended=completed,
        seconds=(as_utc(completed) - as_utc(created)).total_seconds(),
    )


async def _add(session: AsyncSession, waits: list[Wait], time_zone: str) -> None:
    cells: Cells = {}
    count_into(cells, waits, ZoneInfo(time_zone))
    assert session.bind is not None  # the session factory binds every session to the engine
    await session.execute(_ADD[session.bind.dialect.name], _rows(cells))


async def count_todo_wait(session: AsyncSession, todo: Todo, *, time_zone: str) -> None:
    """Count a to-do its step has just completed."""
    department_id = await session.scalar(_ORDER_DEPARTMENT, {"order_id": todo.order_id})
    assert department_id is not None and todo.completed_at is not None  # a completed order's
    wait = todo_wait(
        todo.kind, todo.completed_by_id, department_id, todo.created_at, todo.completed_at
    )
    await _add(session, [wait], time_zone)


async def count_stage_wait(
    session: AsyncSession,
    added: Result[Any],
    key: str,
    order: Order,
    kind: str,
    *,
    zone: Callable[[], Awaitable[str]],
) -> None:
    """Count the stage an order has just left, when the step's insert of its timeline event
    `key` (of `kind`) wrote it (`added`; a retried step's writes nothing) and the event moved
    the order to another stage. `zone` gives the company's time zone."""
    if kind not in STAGE_ENTERED or not cast(CursorResult[Any], added).rowcount:
        return
    events = (await session.execute(_STAGE_EVENTS, {"order_id": order.id})).all()
    before = stage_spells((at, k) for event, at, k in events if event != key)
    after = stage_spells((at, k) for _, at, k in events)
    if len(after) > len(before):
        spell = after[-1]
        wait = Wait(STAGE, spell.stage.value, order.department_id, NOBODY, spell.ended,
                    spell.seconds)  # fmt: skip
        await _add(session, [wait], await zone())


def _done_todos(connection: Connection, orders: ColumnElement[bool]) -> Iterator[Wait]:
    found = connection.execute(
        select(Todo.kind, Todo.completed_by_id, Order.department_id, Todo.created_at,
               Todo.completed_at)
        .join(Order, Order.id == Todo.order_id)
        .where(orders, Todo.status == TodoStatus.done.value, Todo.completed_at.is_not(None))
    )  # fmt: skip
    for kind, by_id, department_id, created, completed in found:
        yield todo_wait(kind, by_id, department_id, created, completed or created)


def _stage_waits(connection: Connection, orders: ColumnElement[bool]) -> Iterator[Wait]:
    found = connection.execute(
        select(TimelineEvent.order_id, Order.department_id, TimelineEvent.at, TimelineEvent.kind)
        .join(Order, Order.id == TimelineEvent.order_id)
        .where(orders, TimelineEvent.kind.in_(_STAGE_KINDS))
        .order_by(TimelineEvent.order_id, TimelineEvent.at, TimelineEvent.id)
    ).all()
    for (_, department_id), events in groupby(found, key=lambda row: (row[0], row[1])):
        for spell in stage_spells((at, kind) for _, _, at, kind in events):
            yield Wait(STAGE, spell.stage.value, department_id, NOBODY, spell.ended,
                       spell.seconds)  # fmt: skip


def rebuild_wait_histograms(connection: Connection, *, default_zone: str) -> None:
    """Count again every wait the to-dos and timelines hold, in the company's time zone (the
    one an administrator saved, else `default_zone`, O2C_TIME_ZONE): the orders a few thousand
    at a time (a rebuild of 100,000 orders holds one batch's cells)."""
    connection.execute(delete(WaitHistogram))
    add = _ADD[connection.dialect.name]
    saved = connection.scalar(select(CompanySettings.time_zone).where(CompanySettings.id == 1))
    zone = ZoneInfo(saved or default_zone)
    last = connection.scalar(select(func.max(Order.id))) or 0
    for first in range(0, last + 1, ORDERS_AT_ONCE):
        orders = Order.id.between(first, first + ORDERS_AT_ONCE - 1)
        cells: Cells = {}
        count_into(cells, _done_todos(connection, orders), zone)
        count_into(cells, _stage_waits(connection, orders), zone)
        if cells:
            connection.execute(add, _rows(cells))
