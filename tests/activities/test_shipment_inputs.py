"""Each shipment activity takes its own input, and still reads the one input all of them took
before (ShipmentStep with 26 fields): steps scheduled by running workflows carry that."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from workflows.activity_refs import ShipmentSteps, Step

HISTORIES = Path(__file__).parent.parent / "histories"
WID = "order-SO-2026-00042/shipment"

# The single input as the shipment workflow serialised it: every field, with its default.
OLD_DEFAULTS: dict[str, Any] = {
    "actor_id": None,
    "contact_id": None,
    "todo_key": None,
    "milestones": [],
    "carrier": "",
    "tracking_number": "",
    "dispatch_round": 0,
    "code": None,
    "actual_date": None,
    "planned_date": None,
    "reason": "",
    "outcome": "",
    "signed_by": "",
    "exception_kind": None,
    "number": 0,
    "reship": False,
    "open_plan": False,
    "open_dispatch": False,
    "open_arrival": False,
    "open_acceptance": False,
    "open_exception": False,
    "held": False,
}
DONE = [{"code": "dispatch", "planned_date": "2026-03-02", "actual_date": "2026-03-02"}]
# What the workflow set for each step (the rest kept its default).
OLD_STEPS: dict[str, dict[str, Any]] = {
    "start_shipment": {"todo_key": f"{WID}/plan"},
    "plan_shipment": {
        "todo_key": f"{WID}/plan",
        "actor_id": 9,
        "milestones": [{"code": "arrival", "planned_date": "2026-03-09"}],
        "held": True,
    },
    "release_hold": {"actor_id": 9, "reason": "deposit paid", "open_dispatch": True},
    "dispatch": {
        "todo_key": f"{WID}/dispatch/1",
        "actor_id": 10,
        "carrier": "SF Express",
        "tracking_number": "SF1234567890",
        "dispatch_round": 1,
        "actual_date": "2026-03-02",
        "milestones": DONE,
    },
    "mark_late": {"milestones": [{"code": "picking", "planned_date": "2026-03-01"}]},
    "confirm_milestone": {
        "actor_id": 9,
        "code": "picking",
        "actual_date": "2026-03-02",
        "milestones": [{"code": "picking", "planned_date": "2026-03-01"}],
    },
    "replan_milestone": {
        "actor_id": 9,
        "code": "arrival",
        "planned_date": "2026-03-12",
        "reason": "port closed",
    },
    "confirm_arrival": {
        "todo_key": f"{WID}/arrival/1",
        "contact_id": 3,
        "actual_date": "2026-03-05",
        "dispatch_round": 1,
        "milestones": DONE,
        "open_acceptance": True,
    },
    "record_acceptance": {
        "todo_key": f"{WID}/acceptance/1",
        "actor_id": 11,
        "outcome": "defect",
        "reason": "scratched",
        "number": 1,
        "exception_kind": "defect",
    },
    "raise_exception": {
        "actor_id": 9,
        "exception_kind": "missing_parts",
        "reason": "two bolts",
        "number": 2,
    },
    "resolve_exception": {
        "todo_key": f"{WID}/exception/2",
        "actor_id": 9,
        "reason": "sent again",
        "reship": True,
        "dispatch_round": 2,
        "number": 2,
    },
}


def _steps() -> dict[str, Step[Any, Any]]:
    return {name: ref for name, ref in vars(ShipmentSteps).items() if isinstance(ref, Step)}


def _read(ref: Step[Any, Any], data: bytes) -> Any:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=data)
    [value] = pydantic_data_converter.payload_converter.from_payloads([payload], [ref.arg_type])
    return value


def _same(value: Any, recorded: dict[str, Any]) -> None:
    """Every field the new input has holds what the old payload carried."""
    kept = value.model_dump(mode="json")
    for field, dumped in kept.items():
        if field not in recorded:  # added since: a step scheduled before it has its default
            assert dumped == type(value).model_fields[field].get_default(
                call_default_factory=True
            ), field
            continue
        old = recorded[field]
        if field == "milestones":
            old = [{"actual_date": None, "late": False, **m} for m in old]
        assert dumped == old, field


def test_every_shipment_step_has_its_own_input() -> None:
    steps = _steps()
    # every step there was when ShipmentStep was split, and the ones added since
    assert set(OLD_STEPS) <= set(steps)
    # a re-plan after a change records a plan, as plan_shipment does: the same input
    assert steps["replan_shipment"].arg_type is steps["plan_shipment"].arg_type
    own = {name: ref.arg_type for name, ref in steps.items() if name != "replan_shipment"}
    assert len(set(own.values())) == len(own)


@pytest.mark.parametrize("name", sorted(OLD_STEPS))
def test_a_step_scheduled_with_the_old_input_is_read_by_its_activity(name: str) -> None:
    old = {
        "order_id": 42,
        "workflow_id": WID,
        "step_key": f"{WID}/{name}",
        **OLD_DEFAULTS,
        **OLD_STEPS[name],
    }

    value = _read(_steps()[name], json.dumps(old).encode())

    assert value.step_key == f"{WID}/{name}"
    _same(value, old)


def test_recorded_shipment_activities_are_read_by_their_own_inputs() -> None:
    steps = _steps()
    read = 0
    for path in sorted(HISTORIES.glob("*.json")):
        for event in json.loads(path.read_text())["history"]["events"]:
            scheduled = event.get("activityTaskScheduledEventAttributes")
            if scheduled is None or scheduled["activityType"]["name"] not in steps:
                continue
            data = base64.b64decode(scheduled["input"]["payloads"][0]["data"])
            ref = steps[scheduled["activityType"]["name"]]

            _same(_read(ref, data), json.loads(data))
            read += 1
    assert read >= 3  # plan_shipment, dispatch and confirm_arrival are recorded at least


def test_a_date_in_the_old_input_stays_a_date() -> None:
    old = {"order_id": 42, "workflow_id": WID, "step_key": "k", **OLD_DEFAULTS}
    old.update(OLD_STEPS["dispatch"])

    value = _read(ShipmentSteps.dispatch, json.dumps(old).encode())

    assert value.actual_date == date(2026, 3, 2)
    assert value.milestones[0].actual_date == date(2026, 3, 2)
