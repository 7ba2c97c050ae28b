"""Where orders wait: over a period, the time orders spent in each stage and to-dos took of each
kind (p50, p90), by department and by person, and the open to-dos waiting longest.

A stage counts in the period it ended in, by the order's department; a to-do in the period it
was completed in, by who completed it and their department. Orders are those the user sees
(the order list's scope).

Each wait is counted when it ends (models/reports/wait_counts.py) in the histograms of
models/tables/waits.py, by the company's day, month, quarter and year: a period is read as a few
spans' histograms (a year to date is one) instead of every to-do and timeline event in it. The
counts are exact; p50 and p90 are found by rank among the counted waits and given as the mean of
the waits in their bucket, within WITHIN_PERCENT (2 %) of the wait at that rank."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from i18n import N_
from models.dates import as_utc
from models.domain import Role, TodoStatus
from models.queries import order_scope
from models.queries.scope import department_subtree, managed_department_ids
from models.reports.packed_histogram import packed_histogram, unpacked
from models.reports.statistics_period import Period, ReportRefusal
from models.reports.wait_buckets import (
    DAY,
    WITHIN_PERCENT,
    Histogram,
    Span,
    WaitFigures,
    period_spans,
    wait_figures,
)
from models.reports.wait_counts import EVERY_DEPARTMENT, STAGE, TODO
from models.reports.wait_spells import MEASURED_STAGES
from models.tables import Department, Order, Todo, TodoAssignee, User, WaitHistogram

WAITS_ROLES = frozenset({Role.ops_manager, Role.sales_manager, Role.director})
NOT_FOR_YOUR_ROLE = N_(
    "Where orders wait is for operations managers, sales managers and directors."
)
OPEN_LISTED = 20  # the open to-dos listed, the longest waiting first
# The spans that make up a period, and the days taken away from them (period_spans).
Spans = tuple[list[Span], list[Span]]


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
    within_percent: int = WITHIN_PERCENT  # how close p50 and p90 are to the exact figures


async def waits_report(
    *, session: AsyncSession, user: User, period: Period, now: datetime
) -> WaitsReport:
    check_may_see_waits(user)
    scope = await order_scope(session=session, user=user)
    departments = await _departments_seen(session, user)
    spans = await _spans(session, period)
    stage_rank = {stage.value: n for n, stage in enumerate(MEASURED_STAGES)}
    return WaitsReport(
        period=period,
        stages=(await _stage_waits(session, spans, departments)).rows(stage_rank),
        todo_kinds=(await _todo_waits(session, spans, departments)).rows({}),
        open_todos=await _waiting_todos(session, scope, now),
    )


async def _departments_seen(session: AsyncSession, user: User) -> list[int] | None:
    """The departments whose orders' waits the user sees, as the order list: a sales manager
    their tree; None for everyone's (operations managers and directors see every submitted
    order, and only submitted orders have waits)."""
    if Role(user.role) != Role.sales_manager:
        return None
    managed = await managed_department_ids(session=session, user=user)
    return await department_subtree(session=session, roots=[*managed, user.department_id])


async def _spans(session: AsyncSession, period: Period) -> Spans:
    """The spans of the histograms that make up the period (none when nothing is counted)."""
    latest = await session.scalar(
        select(func.max(WaitHistogram.starts)).where(WaitHistogram.span == DAY)
    )
    if latest is None:
        return [], []
    return period_spans(period.first, period.last, nothing_after=latest)


def _counted(
    measure: str,
    by: InstrumentedAttribute[int],
    spans: list[Span],
    *,
    departments: list[int] | None,
) -> Select[int, str, str]:
    """Per department or person (`by`) and stage or kind: the histogram of the period's waits,
    packed; grouped in the table's order, by department too. A to-do is also counted for every
    department at once, which everyone's scope reads."""
    table = WaitHistogram
    query = select(
        by, table.name, packed_histogram(table.bucket, table.waits, table.seconds)
    ).where(
        or_(*(and_(table.span == span, table.starts == starts) for span, starts in spans)),
        table.measure == measure,
    )
    if departments is not None:  # a person's to-dos of several departments: added up after
        query = query.where(table.department_id.in_(departments))
    elif measure == TODO:
        query = query.where(table.department_id == EVERY_DEPARTMENT)
    return query.group_by(table.department_id, table.name, by)


class _Waits:
    """The histograms of each stage or kind: in all, by department and by person."""

    def __init__(self) -> None:
        self.all: dict[str, Histogram] = defaultdict(Histogram)
        self.departments: dict[str, dict[str, Histogram]] = defaultdict(dict)
        self.people: dict[str, dict[str, Histogram]] = defaultdict(dict)

    def add(self, name: str, labels: tuple[str, str | None], packed: str, sign: int) -> None:
        """One department's or person's histogram of a stage or kind (`packed`), counted in
        all and under its labels (a wait without a department or a person in all alone);
        taken away with `sign` -1."""
        histograms = [self.all[name]]
        for label, breakdown in zip(labels, (self.departments, self.people), strict=True):
            if label:
                histograms.append(breakdown[name].setdefault(label, Histogram()))
        for bucket, waits, seconds in unpacked(packed):
            for histogram in histograms:
                histogram.add(bucket, sign * waits, sign * seconds)

    def rows(self, rank: dict[str, int]) -> list[WaitRow]:
        """A row per stage (in the order's path) or per kind (the slowest p90 first)."""
        rows = [
            WaitRow(
                name=name,
                figures=wait_figures(histogram),
                by_department=_breakdown(self.departments[name]),
                by_assignee=_breakdown(self.people[name]),
            )
            for name, histogram in self.all.items()
            if histogram.count  # none left once the days outside the period are taken away
        ]
        if rank:
            return sorted(rows, key=lambda r: rank.get(r.name, len(rank)))
        return sorted(rows, key=lambda r: (-r.figures.p90_hours, r.name))


def _breakdown(histograms: dict[str, Histogram]) -> list[Breakdown]:
    """Per label (people or departments), the slowest p90 first."""
    found = [Breakdown(label=k, figures=wait_figures(v)) for k, v in histograms.items() if v.count]
    return sorted(found, key=lambda b: (-b.figures.p90_hours, b.label))


async def _read(
    session: AsyncSession,
    query: Callable[[list[Span]], Select[int, str, str]],
    spans: Spans,
    labels: Callable[[int], tuple[str, str | None]],
) -> _Waits:
    """The period's histograms: its spans' added up, less the days taken away."""
    waits = _Waits()
    added, taken = spans
    for found, sign in ((added, 1), (taken, -1)):
        if found:
            for key, name, packed in await session.execute(query(found)):
                waits.add(name, labels(key), packed, sign)
    return waits


async def _stage_waits(
    session: AsyncSession, spans: Spans, departments: list[int] | None
) -> _Waits:
    """Each stage that ended in the period, by the order's department."""
    names: dict[int, str] = {
        department_id: name
        for department_id, name in await session.execute(select(Department.id, Department.name))
    }
    return await _read(
        session,
        partial(_counted, STAGE, WaitHistogram.department_id, departments=departments),
        spans,
        lambda department_id: (names.get(department_id, ""), None),
    )


async def _todo_waits(session: AsyncSession, spans: Spans, departments: list[int] | None) -> _Waits:
    """Each to-do completed in the period, by who completed it and their department."""
    people: dict[int, tuple[str, str | None]] = {
        person_id: (department, name)
        for person_id, name, department in await session.execute(
            select(User.id, User.full_name, Department.name).join(
                Department, Department.id == User.department_id
            )
        )
    }
    nobody = ("", None)
    return await _read(
        session,
        partial(_counted, TODO, WaitHistogram.user_id, departments=departments),
        spans,
        lambda user_id: people.get(user_id, nobody),
    )


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
            since=as_utc(created),
            waited_hours=round((now - as_utc(created)).total_seconds() / 3600, 2),
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
