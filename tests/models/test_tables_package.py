"""The tables package: one module per area, one metadata that the migrations build exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import models.tables as tables
from models.tables import Base
from tests.conftest import migrate

AREAS = {
    "core": {
        "departments",
        "users",
        "customers",
        "contacts",
        "products",
        "todos",
        "todo_assignees",
        "outbox",
        "company_settings",
    },
    "orders": {
        "order_number_counters",
        "orders",
        "order_lines",
        "payment_plan_items",
        "timeline_events",
    },
    "approval": {"approval_rounds", "approval_steps", "approval_policies", "decision_links"},
    "shipment": {
        "stock_reservations",
        "milestones",
        "dispatches",
        "shipment_exceptions",
        "contact_links",
    },
    "collection": {
        "installments",
        "payments",
        "payment_allocations",
        "invoices",
        "collection_policies",
    },
    "costs": {"cost_batches", "actual_costs", "order_cost_variances", "variance_policies"},
    "cancellation": {"cancellations", "refunds", "credit_notes"},
    "changes": {"order_change_requests", "order_revisions"},
    "returns": {"order_returns", "order_return_lines"},
    "targets": {"targets"},
    "audit": {"export_audits"},
    "permissions": {"role_permissions"},
    "waits": {"wait_histograms"},
}


def mapped_classes() -> list[type]:
    return [mapper.class_ for mapper in Base.registry.mappers]


@pytest.mark.parametrize("area", sorted(AREAS))
def test_each_area_module_holds_its_tables(area: str) -> None:
    module = f"models.tables.{area}"
    held = {cls.__tablename__ for cls in mapped_classes() if cls.__module__ == module}
    assert held == AREAS[area]


def test_every_table_is_in_the_one_metadata_and_re_exported() -> None:
    assert set(Base.metadata.tables) == set().union(*AREAS.values())
    for cls in mapped_classes():
        assert getattr(tables, cls.__name__) is cls
        assert cls.__name__ in tables.__all__


async def test_the_migrations_build_exactly_the_declared_schema(tmp_path: Path) -> None:
    path = tmp_path / "o2c.db"
    await asyncio.to_thread(migrate, f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
