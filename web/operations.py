"""Where the commands lived before they moved to web.commands (one module per area); kept only
while the pages and the API move their imports, then removed."""

from __future__ import annotations

from web.commands.actions import (
    REFUSAL_STATUS,
    TODO_GONE,
    Refused,
    action_id,
    redelivered,
    send_action,
)
from web.commands.completion import CostItemIn, TodoCompletion
from web.commands.fulfilment import (
    ACCEPTED,
    EXCEPTION_ROLES,
    OWN_CONFIRMATION,
    QUEUE_STATUSES,
    SHIPMENT_QUEUE_ROLES,
    SHIPMENT_ROLES,
    ExceptionRequest,
    HoldReleaseRequest,
    MilestoneDate,
    MilestoneDone,
    MilestoneNewDate,
    confirm_milestone,
    confirmable_milestone,
    may_raise_exception,
    may_see_shipment_queue,
    may_steer_shipment,
    milestone_codes,
    order_milestone,
    raise_exception,
    release_hold,
    replan_milestone,
    shipment_queue,
    shipment_workflow_id,
    utc_today,
)
from web.commands.orders import (
    edit_draft,
    new_draft,
    parse_draft,
    require_order_entry,
    require_owner,
    route_again,
    submit_order,
)
from web.commands.todo_kinds import TODO_KINDS
from web.commands.todos import complete_todo, visible_todo

OUTCOMES = {kind: set(declared.allowed_outcomes) for kind, declared in TODO_KINDS.items()}

__all__ = [
    "ACCEPTED",
    "EXCEPTION_ROLES",
    "SHIPMENT_QUEUE_ROLES",
    "SHIPMENT_ROLES",
    "confirmable_milestone",
    "order_milestone",
    "utc_today",
    "OUTCOMES",
    "OWN_CONFIRMATION",
    "QUEUE_STATUSES",
    "REFUSAL_STATUS",
    "TODO_GONE",
    "CostItemIn",
    "ExceptionRequest",
    "HoldReleaseRequest",
    "MilestoneDate",
    "MilestoneDone",
    "MilestoneNewDate",
    "Refused",
    "TodoCompletion",
    "action_id",
    "complete_todo",
    "confirm_milestone",
    "edit_draft",
    "may_raise_exception",
    "may_see_shipment_queue",
    "may_steer_shipment",
    "milestone_codes",
    "new_draft",
    "parse_draft",
    "raise_exception",
    "redelivered",
    "release_hold",
    "replan_milestone",
    "require_order_entry",
    "require_owner",
    "route_again",
    "send_action",
    "shipment_queue",
    "shipment_workflow_id",
    "submit_order",
    "visible_todo",
]
