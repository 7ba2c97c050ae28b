"""The same code on PostgreSQL (O2C_TEST_POSTGRES_URL, started by .ci/run): migrations, order
numbers under concurrency, and an order through its workflow."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator

import pytest
from alembic import command
from sqlalchemy import make_url, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from models.db import SessionFactory, create_engine, create_session_factory
from models.drafts import DraftLine, DraftOrder, create_draft
from models.queries import list_todos
from models.seed import seed_demo
from models.tables import Order, User
from settings import Settings
from tests import helpers
from tests.conftest import DEMO_PASSWORD, alembic_config
from tests.models.test_db import a_commit_meanwhile_is_not_seen_until_the_view_ends
from tests.workflows.test_order import decide
from tests.workflows.test_order import estimate as give_estimate
from worker import build_worker

URL = os.environ.get("O2C_TEST_POSTGRES_URL")
# Each test gets a database of its own (pg_url), so the tests may run on any pytest worker.
pytestmark = pytest.mark.skipif(
    not URL, reason="no PostgreSQL: set O2C_TEST_POSTGRES_URL (.ci/run starts one when installed)"
)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A database of the test's own, dropped after it: a connection left over from an earlier test
    cannot touch it (a shared schema reset once met an earlier test's alembic_version in CI)."""
    assert URL
    name = f"o2c_test_{os.getpid()}_{secrets.token_hex(4)}"
    server = create_async_engine(URL, isolation_level="AUTOCOMMIT")
    async with server.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with server.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await server.dispose()


@pytest.fixture
async def pg_factory(pg_url: str) -> AsyncIterator[SessionFactory]:
    await asyncio.to_thread(command.upgrade, alembic_config(pg_url), "head")
    engine = create_engine(pg_url)
    factory = create_session_factory(engine)
    async with factory() as session:
        await seed_demo(session, DEMO_PASSWORD)
    # Workflow ids on the shared test server must not repeat across tests and runs.
    async with factory() as session:
        await session.execute(
            text("INSERT INTO order_number_counters (year, last) VALUES (:y, :n)"),
            {"y": 2026, "n": int.from_bytes(os.urandom(3), "big") * 10},
        )
        await session.commit()
    yield factory
    await engine.dispose()


async def test_migrations_go_down_and_up_again(pg_url):
    config = alembic_config(pg_url)
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, "head")
    engine = create_engine(pg_url)
    async with engine.connect() as connection:
        tables = set(
            await connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        )
    await engine.dispose()
    assert {"orders", "todos", "todo_assignees", "departments", "users", "outbox"} <= tables


async def test_concurrent_drafts_get_unique_sequential_numbers(pg_factory):
    async with pg_factory() as session:
        owner = await session.scalar(select(User).where(User.username == "sales"))

    async def one() -> str:
        async with pg_factory() as session:
            order = await create_draft(
                session=session,
                user=owner,
                draft=DraftOrder(customer_id=1, lines=[DraftLine(product_id=3, quantity=1)]),
            )
            return order.number

    numbers = await asyncio.gather(*(one() for _ in range(10)))
    sequence = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert sequence == list(range(sequence[0], sequence[0] + 10))


async def inbox(factory: SessionFactory, username: str) -> list[tuple[int, str]]:
    async with factory() as session:
        user = await session.scalar(select(User).where(User.username == username))
        return [(item.id, item.kind) for item in await list_todos(session=session, user=user)]


async def test_order_runs_through_its_workflow_on_postgresql(env, pg_url, pg_factory, settings):
    settings = Settings(**{**settings.model_dump(), "database_url": pg_url})
    async with build_worker(env.client, pg_factory, settings):
        order = await helpers.draft(pg_factory)
        handle = await helpers.submit(env.client, pg_factory, order, settings.task_queue)
        [estimate] = await helpers.open_todos(pg_factory, order, "estimate_cost")
        # The inbox reaches pricing by role (no department managed: an empty list bound).
        assert await inbox(pg_factory, "pricing") == [(estimate.id, "estimate_cost")]
        await give_estimate(env.client, pg_factory, order)
        [approve] = await helpers.open_todos(pg_factory, order, "approve")
        # ... and the sales manager as the manager of the owner's department.
        assert (approve.id, "approve") in await inbox(pg_factory, "sales_manager")
        await decide(env.client, pg_factory, order, "sales_manager")
        await helpers.confirmed(handle, pg_factory, order)
        # the shared test server keeps no order running past its test
        await env.client.get_workflow_handle(f"{handle.id}/shipment").terminate("test over")
        await handle.terminate("test over")
    async with pg_factory() as session:
        saved = await session.get(Order, order.id)
        assert saved.stage == "fulfilment" and saved.expected_cost is not None
    assert estimate.kind == "estimate_cost"


async def test_a_page_reads_one_view_though_a_step_commits_meanwhile_on_postgresql(pg_factory):
    await a_commit_meanwhile_is_not_seen_until_the_view_ends(pg_factory)
