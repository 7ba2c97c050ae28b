"""What the order's workflows share: the book of open to-dos that validators check, and how a
step runs its database activity and hands its mail to the outbox sender."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from models.domain import (
    TODO_NOT_OPEN,
    TODO_NOT_YOURS,
    Actor,
    Assignee,
    OpenTodo,
    SendMail,
    StepResult,
)
from workflows.activity_refs import NotifySteps, Step
from workflows.refusals import INVALID, NOT_ASSIGNEE, NOT_OPEN, SELF_APPROVAL

__all__ = ["INVALID", "NOT_ASSIGNEE", "NOT_OPEN", "SELF_APPROVAL", "StepRunner", "TodoBook"]

A = TypeVar("A")
R = TypeVar("R", bound=StepResult)

DB_STEP_TIMEOUT = timedelta(seconds=30)
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
)
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10)
)

# A person's action is an update, and an update is durable only once the engine has accepted
# it. From this patch on, a step run by an update handler is a regular activity: the engine
# schedules it in the same workflow task that accepts the update, so the database never holds
# an effect the history lacks (a local activity commits before that task is saved, and a
# server dying in between left the database ahead of the workflow for good). Steps of the main
# path and of signals stay local: their workflow task is redone after a crash, and the step,
# idempotent by its key, recognises what it already wrote.
ACCEPTED_BEFORE_WRITTEN = "accepted-before-written"


class TodoBook:
    """The open to-dos of a workflow, so a validator can refuse without any I/O."""

    def __init__(self) -> None:
        self._open: dict[str, OpenTodo] = {}

    def add(self, todos: list[OpenTodo]) -> None:
        for todo in todos:
            self._open[todo.key] = todo

    def check(self, key: str, actor: Actor) -> OpenTodo:
        todo = self._open.get(key)
        if todo is None:
            raise ApplicationError(TODO_NOT_OPEN, type=NOT_OPEN)
        if not any(a.includes(actor) for a in todo.assignees):
            raise ApplicationError(TODO_NOT_YOURS, type=NOT_ASSIGNEE)
        return todo

    def take(self, key: str, actor: Actor) -> OpenTodo:
        """Check and close in one go, at the start of a handler: a second update for the same
        to-do that passed its validator in the same workflow task is refused here."""
        todo = self.check(key, actor)
        del self._open[key]
        return todo

    def add_assignees(self, key: str, assignees: list[Assignee]) -> None:
        """People added to an open to-do (an escalation): they may complete it too."""
        todo = self._open.get(key)
        if todo is not None:
            known = todo.assignees
            todo.assignees = known + [a for a in assignees if a not in known]

    def open_todos(self) -> list[OpenTodo]:
        """What is open, to carry over continue-as-new."""
        return list(self._open.values())

    def pop(self, key: str) -> OpenTodo | None:
        """Take the to-do out of this book (another workflow completes it)."""
        return self._open.pop(key, None)

    def discard(self, key: str) -> None:
        self._open.pop(key, None)

    def discard_all(self) -> None:
        self._open.clear()

    def __contains__(self, key: str) -> bool:
        return key in self._open


class StepRunner:
    """Runs a step's database activity (one short transaction) and sends the mail it queued
    through its own activity, without waiting for the mail server. The step is a local
    activity, except in an update handler, where it waits for the engine to accept the update
    (ACCEPTED_BEFORE_WRITTEN)."""

    def __init__(self, todos: TodoBook) -> None:
        self.todos = todos
        self._mail: list[Awaitable[Any]] = []

    async def run(self, step: Step[A, R], arg: A) -> R:
        accepted_first = workflow.current_update_info() is not None and workflow.patched(
            ACCEPTED_BEFORE_WRITTEN
        )
        execute = workflow.execute_activity if accepted_first else workflow.execute_local_activity
        result: R = await execute(
            step.name,
            arg,
            result_type=step.result_type,
            start_to_close_timeout=DB_STEP_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        self.todos.add(result.opened)
        if result.mail_ids:
            self._mail.append(
                workflow.start_activity(
                    NotifySteps.send_mail.name,
                    SendMail(mail_ids=result.mail_ids),
                    result_type=NotifySteps.send_mail.result_type,
                    start_to_close_timeout=timedelta(minutes=2),
                    retry_policy=MAIL_RETRY,
                )
            )
        return result

    async def mail_sent(self) -> None:
        """Wait for the outbox sender before the workflow ends."""
        for handle in self._mail:
            await handle
        self._mail.clear()
