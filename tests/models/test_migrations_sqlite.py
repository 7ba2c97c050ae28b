"""Every migration goes down and up again on SQLite, the database `make run` uses (PostgreSQL's
run is in test_postgres.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from tests.conftest import alembic_config


def tables_of(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_every_migration_goes_down_to_nothing_and_up_again(tmp_path):
    path = tmp_path / "o2c.db"
    config = alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, "head")
    at_head = tables_of(path)
    command.downgrade(config, "base")
    assert tables_of(path) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert tables_of(path) == at_head
    assert {"orders", "targets", "role_permissions", "wait_histograms", "export_audits"} <= at_head
