"""Recorded histories replay on the current workflow code: a change that would break running
orders (a command added, dropped or reordered without `workflow.patched`) fails here.
Re-record with `.venv/bin/python -m tests.histories.record` (see its docstring)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.histories import record
from worker import WORKFLOWS

HISTORIES = sorted(record.HERE.glob("*.json"))


def replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)


def test_every_path_of_the_order_has_a_recorded_history():
    names = {path.name for path in HISTORIES}
    assert record.SCENARIOS.keys() >= record.TWINS
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


def update_sequenced_after_a_signal(history: WorkflowHistory) -> bool:
    """Whether an update of this history was accepted in a workflow task that a signal joined
    after it was scheduled (the update's sequencing event is that signal).

    The time-skipping test server hands the worker such an update ahead of the signal, while the
    history it writes sequences the update after it: a signal handler's command (the order's
    search attributes) then comes after the update's acceptance in the history, and before it
    when replayed, and the server's own history does not replay. A real server (the dev server,
    `temporal server start-dev`) hands them over in the history's order and its histories replay:
    measured 6 of 6 runs of a signal and an update queued in either order, against every such run
    on the test server."""
    by_id = {event.event_id: event for event in history.events}
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            continue
        accepted = event.workflow_execution_update_accepted_event_attributes
        sequenced = by_id.get(accepted.accepted_request_sequencing_event_id)
        if sequenced and sequenced.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            return True
    return False


@workflow.defn(name="Toy", sandboxed=False)
class SignalAndUpdate:
    """The smallest workflow with a signal handler that issues a command and an update:
    tests/histories/test_server/update_after_signal.json is its history on the test server with
    an update queued before a signal while no worker ran."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.signal
    def flag(self, value: bool) -> None:
        workflow.upsert_search_attributes([SearchAttributeKey.for_bool("Overdue").value_set(value)])

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.update
    async def bump(self) -> int:
        return 1


async def test_the_test_servers_update_after_a_signal_is_told_from_a_fault_of_the_code():
    artefact = record.load(record.HERE / "test_server" / "update_after_signal.json")
    replayed = await Replayer(workflows=[SignalAndUpdate]).replay_workflow(
        artefact, raise_on_replay_failure=False
    )
    assert "Nondeterminism" in str(replayed.replay_failure)  # the server's history, as written
    assert update_sequenced_after_a_signal(artefact)
    assert not [p.name for p in HISTORIES if update_sequenced_after_a_signal(record.load(p))]


async def record_and_replay(env, session_factory, settings, out: Path) -> dict[str, Exception]:
    """Record every scenario into out and replay it; the failures by file name. A twin scenario
    (record.TWINS) would record its twin's history again, so it is left out."""
    out.mkdir()
    written = await record.record(env, session_factory, settings, out, leave_out=record.TWINS)
    twins = {p.name for p in HISTORIES if p.name.split(".")[0] in record.TWINS}
    assert sorted(p.name for p in written) == [p.name for p in HISTORIES if p.name not in twins]
    failures = {}
    for path in written:
        result = await replayer().replay_workflow(record.load(path), raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures[path.name] = result.replay_failure
    return failures


@pytest.mark.own_test_server
async def test_freshly_recorded_histories_replay(env, session_factory, settings, tmp_path):
    failures = await record_and_replay(env, session_factory, settings, tmp_path / "first")
    if failures:
        # Only the test server's own ordering defect (above) earns a second recording; any other
        # failure is the code's, and fails here.
        artefacts = {
            name
            for name in failures
            if update_sequenced_after_a_signal(record.load(tmp_path / "first" / name))
        }
        assert artefacts == set(failures), failures
        failures = await record_and_replay(env, session_factory, settings, tmp_path / "second")
    assert failures == {}
