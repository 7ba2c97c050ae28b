"""Recorded histories replay on the current workflow code: a change that would break running
orders (a command added, dropped or reordered without `workflow.patched`) fails here.
Re-record with `.venv/bin/python -m tests.histories.record` (see its docstring)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.histories import record
from worker import WORKFLOWS

HISTORIES = sorted(record.HERE.glob("*.json"))


def replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)


def test_every_path_of_the_order_has_a_recorded_history():
    names = {path.name for path in HISTORIES}
    for scenario, (_, rounds) in record.SCENARIOS.items():
        assert f"{scenario}.json" in names
        for n in range(1, rounds + 1):
            assert f"{scenario}.approval_{n}.json" in names
        if scenario in record.WITH_SHIPMENT:
            assert f"{scenario}.shipment.json" in names
        if scenario in record.WITH_COLLECTION:
            assert f"{scenario}.collection.json" in names
        if scenario in record.WITH_RETURN:
            assert f"{scenario}.return_1.json" in names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
async def test_recorded_history_replays_on_current_code(path: Path):
    result = await replayer().replay_workflow(record.load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_replay_notices_a_history_that_does_not_fit_the_code():
    # The approval round's history replayed as an order: the commands differ at once.
    approval = record.load(record.HERE / "approve_path.approval_1.json")
    order = record.load(record.HERE / "approve_path.json")
    mixed = type(order)(order.workflow_id, [order.events[0], *approval.events[1:]])
    result = await replayer().replay_workflow(mixed, raise_on_replay_failure=False)
    assert result.replay_failure is not None


@pytest.mark.own_test_server
async def test_freshly_recorded_histories_replay(env, session_factory, settings, tmp_path):
    written = await record.record(env, session_factory, settings, tmp_path)
    assert sorted(p.name for p in written) == [p.name for p in HISTORIES]

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for path in written:
            yield record.load(path)

    results = await replayer().replay_workflows(histories(), raise_on_replay_failure=False)
    assert results.replay_failures == {}
