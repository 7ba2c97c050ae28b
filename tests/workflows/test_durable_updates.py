"""A person's action reaches the database only once the engine has accepted it: in every update
handler the step that writes is scheduled by the engine with the acceptance, never run as a
local activity that commits before the acceptance is saved (a server dying in between left the
database ahead of the history, for good)."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from tests.histories import record
from worker import build_worker

WRITING_STEPS_BY_WORKFLOW = ("", "/approval/1", "/shipment", "/collection")


def accepted_with(events: list[HistoryEvent]) -> dict[str, list[HistoryEvent]]:
    """Each accepted update's id, with the commands its acceptance was saved with: the events
    after it up to the next workflow task."""
    batches: dict[str, list[HistoryEvent]] = {}
    current: list[HistoryEvent] | None = None
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            current = batches.setdefault(
                event.workflow_execution_update_accepted_event_attributes.protocol_instance_id, []
            )
        elif event.event_type in WORKFLOW_TASK_EVENTS:
            current = None
        elif current is not None:
            current.append(event)
    return batches


WORKFLOW_TASK_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
}


def is_local_step(event: HistoryEvent) -> bool:
    return (
        event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == "core_local_activity"
    )


@pytest.mark.own_test_server
async def test_every_persons_action_is_written_only_after_the_engine_accepted_it(
    env, session_factory, settings
):
    record.TASK_QUEUE.set(settings.task_queue)
    async with build_worker(env.client, session_factory, settings):
        order = await record.closed_path(env, session_factory)
        workflow_id = f"order-{order.number}"
        await env.client.get_workflow_handle(workflow_id).result()
    seen = 0
    for suffix in WRITING_STEPS_BY_WORKFLOW:
        history = await env.client.get_workflow_handle(workflow_id + suffix).fetch_history()
        for update_id, saved_with in accepted_with(list(history.events)).items():
            where = f"{workflow_id + suffix}, update {update_id}"
            assert not any(map(is_local_step, saved_with)), f"{where}: written before accepted"
            assert any(
                e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED for e in saved_with
            ), f"{where}: its step was not scheduled with the acceptance"
            seen += 1
    # estimate, approve, plan, dispatch, arrival, payment registered and confirmed, costs
    # recorded and approved, variance reviewed and approved
    assert seen >= 10
