"""The OpenAPI document describes the API: typed bodies and answers, and every error it gives."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from models.domain import TodoKind
from settings import Settings
from tests.web.test_orders_api import submitted_order, todo_of
from web.api import ApiRoute
from web.app import create_app
from web.commands.todo_kinds import TODO_KINDS
from web.schemas import MAX_ID

ERROR = {"$ref": "#/components/schemas/ErrorOut"}


@pytest.fixture(scope="module")
def document_app():
    # Only the document is read: no database or workflow engine is touched.
    return create_app(
        Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="x", smtp_host=None)
    )


@pytest.fixture(scope="module")
def document(document_app) -> dict[str, Any]:
    return document_app.openapi()


def operations_of(document: dict[str, Any]):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_every_api_route_declares_its_answer(document_app, document):
    # The routes are read from the app itself (through every included router), so a new API
    # router cannot be missed: the document holds exactly the routes served under /api/, and
    # no page (every page router is include_in_schema=False).
    api_routes = [
        route
        for route in iter_route_contexts(document_app.routes)
        if isinstance(route.original_route, APIRoute) and (route.path or "").startswith("/api/")
    ]
    served = {f"{method} {route.path}" for route in api_routes for method in route.methods or ()}
    assert {"GET /api/v1/milestones/due", "GET /api/v1/todos/{todo_id}"} <= served
    assert sorted(name for name, _ in operations_of(document)) == sorted(served)
    untyped = [route.path for route in api_routes if route.response_model is None]
    assert untyped == []
    plain = [route.path for route in api_routes if not isinstance(route.original_route, ApiRoute)]
    assert plain == []  # each documents its errors with the one error schema


def test_every_success_answer_has_a_schema_with_named_fields(document):
    for name, operation in operations_of(document):
        successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        assert len(successes) == 1, name
        (answer,) = successes.values()
        schema = answer["content"]["application/json"]["schema"]
        if schema.get("type") == "array":
            schema = schema["items"]
        assert resolve(document, schema).get("properties"), name


def test_every_error_is_documented_with_the_one_error_schema(document):
    for name, operation in operations_of(document):
        errors = {s: r for s, r in operation["responses"].items() if not s.startswith("2")}
        assert errors, name
        for status, answer in errors.items():
            assert answer["content"]["application/json"]["schema"] == ERROR, (name, status)
    assert document["components"]["schemas"]["ErrorOut"]["required"] == ["detail"]
    # FastAPI's own 422 (a list of problems) is not what the app answers, so it is not shown.
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_each_route_documents_the_statuses_its_shape_gives(document):
    for name, operation in operations_of(document):
        statuses = set(operation["responses"])
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in statuses, name
        if "requestBody" in operation:
            assert "413" in statuses, name
        if operation.get("security") or name == "POST /api/v1/auth/token":
            assert "401" in statuses, name
        if "{number}" in name or "{todo_id}" in name:
            assert "404" in statuses, name
    token = dict(operations_of(document))["POST /api/v1/auth/token"]
    assert "429" in token["responses"]
    submit = dict(operations_of(document))["POST /api/v1/orders/{number}/submit"]
    assert {"403", "409", "503"} <= set(submit["responses"])


def test_the_completion_body_has_one_branch_per_todo_kind_with_its_outcomes(document):
    operation = dict(operations_of(document))["POST /api/v1/todos/{todo_id}/complete"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["discriminator"]["propertyName"] == "kind"
    mapping = schema["discriminator"]["mapping"]
    assert set(mapping) == {kind.value for kind in TodoKind}
    assert len(schema["oneOf"]) == len(TodoKind)
    for kind, ref in mapping.items():
        branch = resolve(document, {"$ref": ref})
        assert branch["properties"]["kind"]["const"] == kind
        if TodoKind(kind) in TODO_KINDS:
            outcome = branch["properties"]["outcome"]
            outcomes = set(TODO_KINDS[TodoKind(kind)].allowed_outcomes)
            assert set(outcome.get("enum") or [outcome.get("const")]) == outcomes
    estimate = resolve(document, {"$ref": mapping["estimate_cost"]})
    assert {"lines", "freight", "installation", "other"} <= set(estimate["properties"])
    dispatch = resolve(document, {"$ref": mapping["confirm_dispatch"]})
    assert {"carrier", "tracking_number"} <= set(dispatch["properties"])


def request_schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    operation = dict(operations_of(document))[name]
    return resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])


def test_the_order_body_is_a_draft_not_a_free_form_object(document):
    for name in ("POST /api/v1/orders", "PATCH /api/v1/orders/{number}"):
        schema = request_schema(document, name)
        line = resolve(document, schema["properties"]["lines"]["items"])
        assert line["properties"]["product_id"]["maximum"] == MAX_ID < 2**63
        assert schema["properties"]["customer_id"]["maximum"] == MAX_ID
    assert {"customer_id", "lines"} <= set(
        request_schema(document, "POST /api/v1/orders")["required"]
    )


def test_the_draft_patch_takes_any_of_a_drafts_fields_and_null_only_where_it_clears(document):
    draft = request_schema(document, "POST /api/v1/orders")
    patch = request_schema(document, "PATCH /api/v1/orders/{number}")
    assert set(patch["properties"]) == set(draft["properties"])
    assert "required" not in patch  # an absent field keeps its value

    def nullable(field: str) -> bool:
        return {"type": "null"} in patch["properties"][field].get("anyOf", [])

    assert [f for f in patch["properties"] if not nullable(f)] == [
        "customer_id",
        "shipping_mode",
        "lines",
    ]
    assert patch["properties"]["lines"]["type"] == "array"


async def test_a_completion_naming_the_todos_kind_is_taken_and_another_kind_refused(api, worker):
    _, number = await submitted_order(api)
    pricing = await api("pricing")
    todo = await todo_of(pricing, number, "estimate_cost")
    url = f"/api/v1/todos/{todo['id']}/complete"
    wrong = await pricing.post(url, json={"kind": "approve", "outcome": "approve"})
    assert wrong.status_code == 422
    assert wrong.json() == {
        "detail": "This to-do is of kind estimate_cost; the body's kind is approve."
    }
    order = (await pricing.get(f"/api/v1/orders/{number}")).json()
    lines = [{"line_id": ln["id"], "unit_cost": ln["standard_cost"]} for ln in order["lines"]]
    done = await pricing.post(
        url, json={"kind": "estimate_cost", "outcome": "estimated", "lines": lines}
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"id": todo["id"], "status": "done", "stage": done.json()["stage"]}
