"""Where orders wait: over a period, the time orders spent in each stage and to-dos took of each
kind (p50, p90), by department and by person, and the open to-dos waiting longest.

A stage counts in the period it ended in, by the order's department; a to-do in the period it
was completed in, by who completed it and their department. Orders are those the user sees
(the order list's scope)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from i18n import N_
from models.domain import Role, TodoStatus
from models.queries import order_scope
from models.reports.seconds_between import seconds_between
from models.reports.statistics_period import Period, ReportRefusal
from models.reports.wait_spells import (
    MEASURED_STAGES,
    STAGE_ENTERED,
    WaitFigures,
    stage_spells,
    wait_figures,
)
from models.tables import Department, Order, TimelineEvent, Todo, TodoAssignee, User

WAITS_ROLES = frozenset({Role.ops_manager, Role.sales_manager, Role.director})
NOT_FOR_YOUR_ROLE = N_(
    "Where orders wait is for operations managers, sales managers and directors."
)
OPEN_LISTED = 20  # the open to-dos listed, the longest waiting first


def check_may_see_waits(user: User) -> None:
    if Role(user.role) not in WAITS_ROLES:
        raise ReportRefusal(NOT_FOR_YOUR_ROLE)


@dataclass(frozen=True)
class Breakdown:
    """One department's or one person's waits."""

    label: str
    figures: WaitFigures


@dataclass(frozen=True)
class WaitRow:
    """One stage (its code) or to-do kind: every wait of it, then by department and person
    (a stage has no person: nobody's to-do is the whole stage)."""

    name: str
    figures: WaitFigures
    by_department: list[Breakdown]
    by_assignee: list[Breakdown]


@dataclass(frozen=True)
class OpenAssignee:
    user: str | None
    role: str | None
    department: str | None


@dataclass(frozen=True)
class WaitingTodo:
    todo_id: int
    kind: str
    order_number: str
    since: datetime
    waited_hours: float
    assignees: list[OpenAssignee]


@dataclass(frozen=True)
class WaitsReport:
    period: Period
    stages: list[WaitRow]
    todo_kinds: list[WaitRow]
    open_todos: list[WaitingTodo]


# A wait: what waited (stage or kind), the department, the person (or None), in seconds.
Sample = tuple[str, str, str | None, float]


async def waits_report(
    *, session: AsyncSession, user: User, period: Period, now: datetime
) -> WaitsReport:
    check_may_see_waits(user)
    scope = await order_scope(session=session, user=user)
    stage_rank = {stage.value: n for n, stage in enumerate(MEASURED_STAGES)}
    return WaitsReport(
        period=period,
        stages=_rows(await _stage_samples(session, scope, period), stage_rank),
        todo_kinds=_rows(await _todo_samples(session, scope, period), {}),
        open_todos=await _waiting_todos(session, scope, now),
    )


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _stage_samples(
    session: AsyncSession, scope: ColumnElement[bool], period: Period
) -> list[Sample]:
    begin, end = period.bounds()
    kinds = list(STAGE_ENTERED)
    moved = select(TimelineEvent.order_id).where(
        TimelineEvent.kind.in_(kinds), TimelineEvent.at >= begin, TimelineEvent.at < end
    )
    found = await session.execute(
        select(TimelineEvent.order_id, Department.name, TimelineEvent.at, TimelineEvent.kind)
        .join(Order, Order.id == TimelineEvent.order_id)
        .join(Department, Department.id == Order.department_id)
        .where(scope, TimelineEvent.kind.in_(kinds), TimelineEvent.order_id.in_(moved))
        .order_by(TimelineEvent.order_id, TimelineEvent.at, TimelineEvent.id)
    )
    events: dict[tuple[int, str], list[tuple[datetime, str]]] = defaultdict(list)
    naive = False
    for order_id, department, at, kind in found:
        events[(order_id, department)].append((at, kind))
        naive = at.tzinfo is None
    if naive:  # SQLite hands moments back without their zone (UTC): the bounds likewise
        begin, end = begin.replace(tzinfo=None), end.replace(tzinfo=None)
    return [
        (spell.stage.value, department, None, spell.seconds)
        for (_, department), timeline in events.items()
        for spell in stage_spells(timeline)
        if begin <= spell.ended < end
    ]


async def _todo_samples(
    session: AsyncSession, scope: ColumnElement[bool], period: Period
) -> list[Sample]:
    """Each to-do completed in the period: its kind, who completed it and their department,
    and how long it took (computed by the database: one number a to-do)."""
    begin, end = period.bounds()
    query = select(
        Todo.kind, Todo.completed_by_id, seconds_between(Todo.created_at, Todo.completed_at)
    ).where(
        Todo.status == TodoStatus.done.value,
        Todo.completed_at >= begin,
        Todo.completed_at < end,
    )
    if scope is not true():  # everyone's: the to-dos alone, from their covering index
        query = query.join(Order, Order.id == Todo.order_id).where(scope)
    people: dict[int | None, tuple[str, str | None]] = {
        person_id: (department, name)
        for person_id, name, department in await session.execute(
            select(User.id, User.full_name, Department.name).join(
                Department, Department.id == User.department_id
            )
        )
    }
    nobody = ("", None)
    return [
        (kind, *people.get(person_id, nobody), seconds)
        for kind, person_id, seconds in await session.execute(query)
        if seconds is not None
    ]


def _breakdown(samples: Iterable[tuple[str | None, float]]) -> list[Breakdown]:
    """Per label (people or departments), the slowest p90 first; waits without one left out."""
    grouped: dict[str, list[float]] = defaultdict(list)
    for label, seconds in samples:
        if label:
            grouped[label].append(seconds)
    found = [Breakdown(label=k, figures=wait_figures(v)) for k, v in grouped.items()]
    return sorted(found, key=lambda b: (-b.figures.p90_hours, b.label))


def _rows(samples: list[Sample], rank: dict[str, int]) -> list[WaitRow]:
    """A row per stage (in the order's path) or per kind (the slowest p90 first)."""
    grouped: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        grouped[sample[0]].append(sample)
    rows = [
        WaitRow(
            name=name,
            figures=wait_figures([s[3] for s in waits]),
            by_department=_breakdown((s[1], s[3]) for s in waits),
            by_assignee=_breakdown((s[2], s[3]) for s in waits),
        )
        for name, waits in grouped.items()
    ]
    if rank:
        return sorted(rows, key=lambda r: rank.get(r.name, len(rank)))
    return sorted(rows, key=lambda r: (-r.figures.p90_hours, r.name))


async def _waiting_todos(
    session: AsyncSession, scope: ColumnElement[bool], now: datetime
) -> list[WaitingTodo]:
    found = (
        await session.execute(
            select(Todo.id, Todo.kind, Order.number, Todo.created_at)
            .join(Order, Order.id == Todo.order_id)
            .where(scope, Todo.status == TodoStatus.open.value)
            .order_by(Todo.created_at, Todo.id)
            .limit(OPEN_LISTED)
        )
    ).all()
    assignees = await _open_assignees(session, [row[0] for row in found])
    return [
        WaitingTodo(
            todo_id=todo_id,
            kind=kind,
            order_number=number,
            since=_aware(created),
            waited_hours=round((now - _aware(created)).total_seconds() / 3600, 2),
            assignees=assignees.get(todo_id, []),
        )
        for todo_id, kind, number, created in found
    ]


async def _open_assignees(
    session: AsyncSession, todo_ids: list[int]
) -> dict[int, list[OpenAssignee]]:
    person = aliased(User)
    found = await session.execute(
        select(TodoAssignee.todo_id, person.full_name, TodoAssignee.role, Department.name)
        .outerjoin(person, person.id == TodoAssignee.user_id)
        .outerjoin(Department, Department.id == TodoAssignee.department_id)
        .where(TodoAssignee.todo_id.in_(todo_ids), TodoAssignee.status == TodoStatus.open.value)
        .order_by(TodoAssignee.id)
    )
    assignees: dict[int, list[OpenAssignee]] = defaultdict(list)
    for todo_id, name, role, department in found:
        assignees[todo_id].append(OpenAssignee(user=name, role=role, department=department))
    return assignees


def waits_rows(report: WaitsReport) -> list[dict[str, str | int | float]]:
    """The report's figures as flat records (what, breakdown, who, count, p50, p90), for an
    export: each stage and kind in all, by department and by person."""
    records: list[dict[str, str | int | float]] = []
    for what, rows in (("stage", report.stages), ("todo_kind", report.todo_kinds)):
        for row in rows:
            parts = [("all", Breakdown(label="", figures=row.figures))]
            parts += [("department", b) for b in row.by_department]
            parts += [("assignee", b) for b in row.by_assignee]
            records += [
                {
                    "what": what,
                    "name": row.name,
                    "by": by,
                    "label": part.label,
                    "count": part.figures.count,
                    "p50_hours": part.figures.p50_hours,
                    "p90_hours": part.figures.p90_hours,
                }
                for by, part in parts
            ]
    return records
