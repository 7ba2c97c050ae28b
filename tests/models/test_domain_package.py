"""The domain package: one module per area, everything re-exported, payloads unchanged."""

from __future__ import annotations

import ast
import importlib
import inspect
from datetime import date
from decimal import Decimal

import pytest
from pydantic import BaseModel
from temporalio.contrib.pydantic import pydantic_data_converter

import models.domain as domain
from models.domain import (
    Actor,
    CostCategory,
    CostItem,
    CostRecording,
    MilestoneCode,
    OrderWorkflowInput,
    PaymentRegistration,
    PlannedMilestone,
    PlanShipment,
    Role,
    RouteAgain,
    TodoDone,
)

ACTOR = Actor(user_id=7, role=Role.ops, managed_department_ids=[3])

# One workflow input or update per area, as a caller would send it.
PAYLOADS: dict[str, BaseModel] = {
    "core": TodoDone(todo_key="order-SO-1/approve-1", stage=domain.Stage.approval),
    "orders": OrderWorkflowInput(order_number="SO-2026-00042", submitted_by=5),
    "approval": RouteAgain(actor=ACTOR),
    "shipment": PlanShipment(
        todo_key="plan-1",
        actor=ACTOR,
        milestones=[PlannedMilestone(code=MilestoneCode.dispatch, planned_date=date(2026, 3, 2))],
    ),
    "collection": PaymentRegistration(
        actor=ACTOR,
        amount=Decimal("1250.50"),
        received_on=date(2026, 3, 9),
        method="transfer",
        reference="TT-0091",
    ),
    "costs": CostRecording(
        actor=ACTOR,
        todo_key="costs-1",
        items=[
            CostItem(
                category=CostCategory.freight,
                amount=Decimal("310.00"),
                supplier_payment_reference="SP-17",
            )
        ],
        final=True,
    ),
}


@pytest.mark.parametrize("area", sorted(PAYLOADS))
def test_each_area_module_holds_its_types_and_the_package_exposes_them(area: str) -> None:
    model = type(PAYLOADS[area])
    module = importlib.import_module(f"models.domain.{area}")

    assert model.__module__ == f"models.domain.{area}"
    assert getattr(module, model.__name__) is model
    assert getattr(domain, model.__name__) is model


@pytest.mark.parametrize("area", sorted(PAYLOADS))
def test_workflow_payloads_round_trip_through_the_data_converter_unchanged(area: str) -> None:
    value = PAYLOADS[area]
    converter = pydantic_data_converter.payload_converter

    [payload] = converter.to_payloads([value])
    [back] = converter.from_payloads([payload], [type(value)])

    assert back == value
    assert payload.data == value.model_dump_json().encode()


def test_every_exported_name_is_defined_in_one_area_module() -> None:
    for name in domain.__all__:
        value = getattr(domain, name)
        home = getattr(value, "__module__", None)
        if inspect.isclass(value):
            assert home is not None and home.startswith("models.domain."), name


@pytest.mark.parametrize("area", ["core", "orders", "approval", "shipment", "collection", "costs"])
def test_domain_modules_import_only_stdlib_pydantic_and_their_siblings(area: str) -> None:
    # The workflow sandbox passes these modules through: nothing with I/O may come in with them.
    module = importlib.import_module(f"models.domain.{area}")
    tree = ast.parse(inspect.getsource(module))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }

    siblings = {m for m in imported if m.startswith("models.")}
    assert imported - siblings <= {
        "__future__",
        "collections.abc",
        "datetime",
        "decimal",
        "enum",
        "typing",
        "pydantic",
    }
    assert all(m.startswith("models.domain.") for m in siblings)
    if area == "core":
        assert siblings == set()


def test_every_domain_model_is_complete_when_the_package_is_imported() -> None:
    # A model left to rebuild itself on first use (a field type defined further down) fails in
    # the workflow sandbox, which cannot see the area module's namespace.
    incomplete = [
        name
        for name in domain.__all__
        if inspect.isclass(value := getattr(domain, name))
        and issubclass(value, BaseModel)
        and not value.__pydantic_complete__
    ]
    assert incomplete == []
