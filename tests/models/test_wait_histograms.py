"""Where orders wait counts each wait once, when it ends: a to-do when its step completes it, a
stage when its step records the event that moves the order on, in the step's own transaction
(a retried step counts nothing again, a step that failed counted nothing); an upgraded
database's histograms, rebuilt from the to-dos and timelines as the migration does, are the ones
the steps keep; and the figures read from them are exact counts with p50 and p90 within 2 %."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from activities.steps import StepRecorder
from models.domain import TodoKind
from models.reports.statistics_period import Period
from models.reports.wait_buckets import (
    DAY,
    MONTH,
    QUARTER,
    WITHIN_PERCENT,
    YEAR,
    Histogram,
    bucket_of,
    period_spans,
)
from models.reports.wait_counts import EVERY_DEPARTMENT, rebuild_wait_histograms
from models.reports.waits import waits_report
from models.tables import Customer, Order, Todo, User, WaitHistogram
from tests.models.test_postgres import URL as PG_URL
from tests.models.test_postgres import pg_factory, pg_url  # noqa: F401 - fixtures
from tests.web.test_waits_report import DONE, NOW, OWNERS, TIMELINES, ZONE, utc, write_waits


def recorder(session, now: datetime) -> StepRecorder:
    return StepRecorder(
        session, now=now, base_url="http://testserver", currency="CNY", deliver_mail=False
    )


async def histograms(session_factory) -> list[tuple]:
    async with session_factory() as session:
        rows = await session.execute(select(WaitHistogram).order_by(*WaitHistogram.__table__.c))
        return [
            (h.span, h.starts, h.measure, h.department_id, h.name, h.user_id, h.bucket, h.waits,
             h.seconds)
            for (h,) in rows
        ]  # fmt: skip


async def new_orders(session_factory) -> dict[str, Order]:
    async with session_factory() as session:
        users = {u.username: u for u in await session.scalars(select(User))}
        customer = await session.scalar(select(Customer).order_by(Customer.id).limit(1))
        orders = {}
        for name, owner in OWNERS.items():
            at = utc(TIMELINES[name][0][0])
            orders[name] = Order(
                number=f"SO-2026-8100{name[1]}", customer_id=customer.id,
                owner_id=users[owner].id, department_id=users[owner].department_id,
                shipping_mode="domestic", stage="fulfilment", created_at=at, updated_at=at,
            )  # fmt: skip
            session.add(orders[name])
        await session.commit()
        return orders


async def step_steps(session_factory) -> None:
    """test_waits_report's to-dos and timelines, written by the steps at their moments."""
    orders = await new_orders(session_factory)
    async with session_factory() as session:
        users = {u.username: u.id for u in await session.scalars(select(User))}
    steps = []  # (moment, what the step does)
    for name, timeline in TIMELINES.items():
        for n, (when, kind) in enumerate(timeline):
            steps.append((utc(when), "event", (f"{name}/event/{n}", orders[name], kind)))
    for n, (name, kind, by, created, hours, status) in enumerate(DONE):
        steps.append((utc(created), "open", (f"done/{n}", orders[name], kind)))
        end = utc(created) + timedelta(hours=hours)
        steps.append((end, status, (f"done/{n}", users[by])))
    for moment, what, args in sorted(steps, key=lambda s: s[0]):
        async with session_factory() as session:
            rec = recorder(session, moment)
            if what == "event":
                key, order, kind = args
                await rec.add_event(key=key, order=order, kind=kind, actor_id=None)
            elif what == "open":
                key, order, kind = args
                await rec.open_todo(key=key, order=order, workflow_id="w", kind=TodoKind(kind),
                                    assignees=[], due_in=None, mail=False)  # fmt: skip
            elif what == "done":
                await rec.close_todo(args[0], outcome="approved", by_user_id=args[1])
            else:
                todo = await session.scalar(select(Todo).where(Todo.key == args[0]))
                await rec.cancel_todos([todo])
            await session.commit()


async def test_an_upgraded_database_counts_the_waits_the_steps_count(session_factory):
    await step_steps(session_factory)
    live = await histograms(session_factory)
    # 7 to-dos done in March, 1 in February (each for its department and every department);
    # 8 stages ended (costing 3, approval 3, revising, confirmed); each in its day, month,
    # quarter and year.
    assert sum(row[7] for row in live if row[0] == YEAR) == 8 * 2 + 8
    async with session_factory() as session:
        await session.run_sync(lambda s: rebuild_wait_histograms(s.connection(), default_zone=ZONE))
        await session.commit()
    assert await histograms(session_factory) == live


async def test_a_retried_step_counts_its_to_do_and_its_stage_once(session_factory):
    orders = await new_orders(session_factory)
    order = orders["W1"]
    opened, done = utc("2026-03-02T09:00"), utc("2026-03-02T12:00")
    async with session_factory() as session:
        rec = recorder(session, opened)
        await rec.add_event(key="e/submitted", order=order, kind="submitted", actor_id=None)
        await rec.open_todo(key="t", order=order, workflow_id="w", kind=TodoKind.estimate_cost,
                            assignees=[], due_in=None, mail=False)  # fmt: skip
        await session.commit()
    async with session_factory() as session:  # the step fails after its writes: nothing kept
        rec = recorder(session, done)
        await rec.close_todo("t", outcome="done", by_user_id=order.owner_id)
        await rec.add_event(key="e/estimated", order=order, kind="estimated", actor_id=None)
        await session.rollback()
    for _ in range(2):  # the step, then the step retried after it was committed
        async with session_factory() as session:
            rec = recorder(session, done)
            await rec.close_todo("t", outcome="done", by_user_id=order.owner_id)
            await rec.add_event(key="e/estimated", order=order, kind="estimated", actor_id=None)
            await session.commit()
    rows = await histograms(session_factory)
    east = order.department_id
    assert {(r[0], r[2], r[4], r[3], r[7], r[8]) for r in rows if r[0] in (YEAR, DAY)} == {
        (YEAR, "todo", "estimate_cost", east, 1, 3 * 3600),
        (YEAR, "todo", "estimate_cost", EVERY_DEPARTMENT, 1, 3 * 3600),
        (YEAR, "stage", "costing", east, 1, 3 * 3600),
        (DAY, "todo", "estimate_cost", east, 1, 3 * 3600),
        (DAY, "todo", "estimate_cost", EVERY_DEPARTMENT, 1, 3 * 3600),
        (DAY, "stage", "costing", east, 1, 3 * 3600),
    }


@pytest.mark.skipif(not PG_URL, reason="no PostgreSQL: set O2C_TEST_POSTGRES_URL")
async def test_on_postgresql_the_steps_count_as_the_rebuild_and_the_report_reads_them(
    pg_factory,  # noqa: F811
):
    await step_steps(pg_factory)
    live = await histograms(pg_factory)
    async with pg_factory() as session:
        await session.run_sync(lambda s: rebuild_wait_histograms(s.connection(), default_zone=ZONE))
        await session.commit()
    assert await histograms(pg_factory) == live
    async with pg_factory() as session:
        director = await session.scalar(select(User).where(User.username == "director"))
        report = await waits_report(session=session, user=director, now=NOW, period=Period(
            first=date(2026, 3, 1), last=date(2026, 3, 31), time_zone=ZONE))  # fmt: skip
    approve = next(row for row in report.todo_kinds if row.name == "approve")
    assert (approve.figures.count, approve.figures.p50_hours, approve.figures.p90_hours) == (
        5, 3.0, 10.0)  # fmt: skip
    assert [(s.name, s.figures.count) for s in report.stages] == [
        ("costing", 3), ("approval", 3), ("revising", 1), ("confirmed", 1)]  # fmt: skip


def exact(values: list[int], percent: int) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


def test_percentiles_are_found_by_rank_within_two_percent_and_exact_for_equal_waits():
    rng = random.Random(19)
    for size in (1, 2, 5, 10, 99, 1000):
        values = [int(rng.lognormvariate(9, 1.5)) for _ in range(size)]
        histogram = Histogram()
        for value in values:
            histogram.add(bucket_of(value), 1, value)
        assert histogram.count == size
        for percent, found in zip((50, 90), histogram.percentiles(50, 90), strict=True):
            true = exact(values, percent)
            assert abs(found - true) <= true * WITHIN_PERCENT / 100
    equal = Histogram()
    for value in (10_800, 10_800, 36_000):  # 3 h twice and 10 h
        equal.add(bucket_of(value), 1, value)
    assert equal.percentiles(50, 90) == [10_800.0, 36_000.0]


def test_a_period_is_read_as_its_fewest_whole_spans():
    today = date(2026, 12, 5)
    # The year to date, nothing counted after today: the year.
    assert period_spans(date(2026, 1, 1), today, nothing_after=today) == (
        [(YEAR, date(2026, 1, 1))], [])  # fmt: skip
    # Twelve months from July: the last two quarters of 2026, and 2027 to date is its year.
    assert period_spans(date(2026, 7, 1), date(2027, 6, 15), nothing_after=date(2027, 6, 15)) == (
        [(QUARTER, date(2026, 7, 1)), (QUARTER, date(2026, 10, 1)), (YEAR, date(2027, 1, 1))],
        [],
    )
    # Waits counted after the period: it ends on its own last day; from March 30 the days, May
    # to the 2nd too, April whole.
    assert period_spans(date(2026, 3, 30), date(2026, 5, 2), nothing_after=today) == ([
        (DAY, date(2026, 3, 30)), (DAY, date(2026, 3, 31)), (MONTH, date(2026, 4, 1)),
        (DAY, date(2026, 5, 1)), (DAY, date(2026, 5, 2)),
    ], [])  # fmt: skip
    # From the 4th to the 29th of a month of 30 days: the month less its four other days
    # (read like 12 days, not 26); from the 15th, the 16 days.
    assert period_spans(date(2026, 4, 4), date(2026, 4, 29), nothing_after=today) == (
        [(MONTH, date(2026, 4, 1))],
        [(DAY, date(2026, 4, d)) for d in (1, 2, 3, 30)],
    )
    assert period_spans(date(2026, 4, 15), date(2026, 4, 30), nothing_after=today) == (
        [(DAY, date(2026, 4, d)) for d in range(15, 31)],
        [],
    )


async def test_a_period_from_the_third_counts_march_less_its_first_two_days(session_factory):
    async with session_factory() as session:
        await write_waits(session)
        director = await session.scalar(select(User).where(User.username == "director"))
        period = Period(first=date(2026, 3, 3), last=date(2026, 3, 31), time_zone=ZONE)
        report = await waits_report(session=session, user=director, now=NOW, period=period)
    figures = {
        row.name: (row.figures.count, row.figures.p50_hours, row.figures.p90_hours)
        for row in report.todo_kinds + report.stages
    }
    # Left out, ended on March 2 in Shanghai: W1's approval of 1 h (19:00) and its estimate
    # (22:00), W1's costing (22:00). Approvals 3, 10, 2, 4: p50 the 2nd, p90 the 4th.
    assert figures == {
        "approve": (4, 3.0, 10.0),
        "estimate_cost": (1, 7.0, 7.0),
        "costing": (2, 1.0, 7.0),  # W2's 7 and 1
        "approval": (3, 4.0, 10.0),  # W1's 10, W2's 2 and 4
        "revising": (1, 24.0, 24.0),
        "confirmed": (1, 24.0, 24.0),
    }
