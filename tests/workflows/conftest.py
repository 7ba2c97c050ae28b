"""The workflow tests' worker: the real workflows and activities on the test's task queue."""

from __future__ import annotations

import pytest

from worker import build_worker


@pytest.fixture
async def worker(env, session_factory, settings):
    async with build_worker(env.client, session_factory, settings) as running:
        yield running
