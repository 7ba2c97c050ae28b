"""Sending a person's action to a workflow as an update: its refusals in HTTP terms, its id
derived from the action, and asking the engine whether an action a database check refused was in
fact already taken."""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from models.domain import TODO_NOT_OPEN, Refusal, TodoDone
from workflows import refusals

REFUSAL_STATUS = {
    refusals.NOT_OPEN: 409,
    refusals.NOT_ASSIGNEE: 403,
    refusals.SELF_APPROVAL: 403,
    refusals.INVALID: 422,
}
UNREACHABLE = "The workflow engine is not reachable; try again shortly."
TODO_GONE = TODO_NOT_OPEN

A = TypeVar("A", bound=BaseModel)
# A workflow's update method (`OrderWorkflow.approve_actual_costs`): one argument, a TodoDone.
UpdateMethod = UpdateMethodMultiParam[[Any, A], TodoDone]


class Refused(Refusal):
    """An action refused with an HTTP status and a message a person understands."""

    def __init__(self, status: int, template: str, **params: object) -> None:
        super().__init__(template, **params)
        self.status = status

    @property
    def message(self) -> str:
        return str(self)

    @classmethod
    def of(cls, status: int, refusal: Refusal) -> Refused:
        return cls(status, refusal.template, **refusal.params)


def refuse(refusal: Refusal | None, *, status: int = 422) -> None:
    """Refuse the action when its input model gave a refusal (the check its workflow's validator
    runs too)."""
    if refusal is not None:
        raise Refused.of(status, refusal)


def action_id(action: str, *parts: object) -> str:
    """An update id derived from an action: what it is and everything it carries. The same
    action sent again (its answer was lost) gets the same id, and the engine takes it once."""
    body = json.dumps(
        [p.model_dump(mode="json") if isinstance(p, BaseModel) else p for p in parts],
        sort_keys=True,
        default=str,
    )
    return f"{action}/{hashlib.sha256(body.encode()).hexdigest()[:32]}"


async def send_action(
    client: Client,
    to_workflow: str,
    update: UpdateMethod[A],
    argument: A,
    *,
    update_id: str,
    gone: Refused,
    refusal: Refused | None = None,
) -> TodoDone:
    """Send a person's action under its update id. When a check against the database refused
    it (`refusal`), that check may be looking at this very action's own effect (its answer was
    lost and it is sent again): the engine is asked, and the refusal stands only if it never
    took the action."""
    if refusal is not None:
        return await redelivered(client, to_workflow, update_id, refusal)
    return await send_update(client, to_workflow, update, argument, gone=gone, update_id=update_id)


async def redelivered(
    client: Client, to_workflow: str, update_id: str, refusal: Refused
) -> TodoDone:
    """A check against the database refused the action. If the engine has already taken this
    very action (the person is sending it again because its answer was lost), its result;
    otherwise the refusal."""
    handle: WorkflowUpdateHandle[TodoDone] = client.get_workflow_handle(
        to_workflow
    ).get_update_handle(update_id, result_type=TodoDone)
    try:
        return await handle.result()
    except WorkflowUpdateFailedError as failure:
        raise refusal_of(failure) from failure
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:  # not taken before: the refusal stands
            raise refusal from error
        raise Refused(503, UNREACHABLE) from error


async def send_update(
    client: Client,
    to_workflow: str,
    update: UpdateMethod[A],
    argument: A,
    *,
    gone: Refused,
    update_id: str,
) -> TodoDone:
    """Send a person's decision to a workflow under the action's update id; its validator's
    refusal comes back with the HTTP status of its kind, `gone` when the workflow is no longer
    running."""
    handle = client.get_workflow_handle(to_workflow)
    try:
        try:
            return await handle.execute_update(update, argument, id=update_id)
        except WorkflowUpdateFailedError:
            # The database's checks passed and the workflow refused. A worker's cached copy of
            # the workflow can be ahead of its history: an earlier delivery of this action ran
            # its handler in a workflow task the engine lost when it died (seen once in the
            # fault test: a to-do open in the database, "no longer open" in the copy). A signal
            # makes the worker take a real workflow task, which brings the copy back in line
            # with the history; then the validator is asked once more, and a refusal stands.
            await handle.signal("refresh")
            return await handle.execute_update(update, argument, id=update_id)
    except WorkflowUpdateFailedError as failure:
        raise refusal_of(failure) from failure
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:  # its workflow has already ended
            raise gone from error
        raise Refused(503, UNREACHABLE) from error


def refusal_of(failure: WorkflowUpdateFailedError) -> Refused:
    """The workflow's refusal in the person's terms: the template and fields its input model
    gave (so the page can translate it), else its message as it stands."""
    cause = failure.cause
    if not isinstance(cause, ApplicationError):
        return Refused(409, "The order could not take this step.")
    status = REFUSAL_STATUS.get(cause.type or "", 409)
    details = cause.details
    if len(details) == 2 and isinstance(details[0], str) and isinstance(details[1], dict):
        return Refused(status, details[0], **details[1])
    return Refused(status, cause.message.replace("%", "%%"))
