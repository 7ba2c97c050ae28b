"""The declaration of every to-do kind: complete, typed, and the one place a completion is read
from; and a workflow's refusal reaches the person with its template, so it can be translated."""

from __future__ import annotations

from typing import get_type_hints

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from models.domain import Refusal, TodoKind
from web.commands.actions import refusal_of
from web.commands.todo_kinds import CLOSES_BY_ITSELF, TODO_KINDS
from workflows.refusals import INVALID, NOT_OPEN, refused


def test_every_kind_of_to_do_is_declared_or_closes_by_itself():
    assert set(TODO_KINDS) | CLOSES_BY_ITSELF == set(TodoKind)
    assert not set(TODO_KINDS) & CLOSES_BY_ITSELF
    assert all(kind == declared.kind for kind, declared in TODO_KINDS.items())


@pytest.mark.parametrize("kind", sorted(TODO_KINDS))
def test_a_kind_sends_a_workflow_update_that_takes_its_declared_input(kind):
    declared = TODO_KINDS[kind]
    handler = declared.update
    definition = getattr(handler, "_defn", None)  # what @workflow.update leaves on the method
    assert definition is not None and definition.name == handler.__name__, handler
    parameter = [t for name, t in get_type_hints(handler).items() if name != "return"]
    assert parameter == [declared.argument]
    assert declared.allowed_outcomes, kind


def test_a_validators_refusal_comes_back_as_its_template_and_fields():
    error = refused(Refusal("Item %(number)s: give the supplier payment reference.", number=2))
    said = refusal_of(WorkflowUpdateFailedError(error))
    assert (said.status, said.template, said.params) == (
        422,
        "Item %(number)s: give the supplier payment reference.",
        {"number": 2},
    )
    assert str(said) == "Item 2: give the supplier payment reference."
    assert error.type == INVALID


def test_a_refusal_without_a_template_is_its_message_as_it_stands():
    error = ApplicationError("50% of it is gone.", type=NOT_OPEN)
    said = refusal_of(WorkflowUpdateFailedError(error))
    assert (said.status, str(said)) == (409, "50% of it is gone.")
