"""The workflows call activities by reference (name and types) instead of importing them: every
reference must name an activity the worker registers, with that activity's own types."""

from __future__ import annotations

from typing import Any, get_type_hints

from temporalio import activity

from settings import Settings
from worker import activities_for
from workflows import activity_refs
from workflows.activity_refs import Step


def _references() -> dict[str, Step[Any, Any]]:
    found: dict[str, Step[Any, Any]] = {}
    for group in vars(activity_refs).values():
        if isinstance(group, type) and group.__module__ == activity_refs.__name__:
            for attribute, value in vars(group).items():
                if isinstance(value, Step):
                    found[f"{group.__name__}.{attribute}"] = value
    return found


def test_every_activity_reference_names_a_registered_activity_with_its_types(
    session_factory, settings: Settings
) -> None:
    registered = {
        activity._Definition.must_from_callable(method).name: method
        for method in activities_for(session_factory, settings, mailer=None)
    }
    references = _references()
    assert references
    for where, ref in references.items():
        assert ref.name in registered, f"{where} names no registered activity"
        hints = get_type_hints(registered[ref.name])
        returned = hints.pop("return")
        assert list(hints.values()) == [ref.arg_type], f"{where}: input type"
        assert returned is ref.result_type, f"{where}: result type"


def test_each_reference_is_named_as_its_activity() -> None:
    references = _references()
    assert len({ref.name for ref in references.values()}) == len(references)
    for where, ref in references.items():
        assert where.endswith(f".{ref.name}")
