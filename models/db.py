"""The database engine and session factory, for SQLite by default and PostgreSQL by setting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]

# INSERT with ON CONFLICT, per dialect (both databases have it; SQLAlchemy spells it per dialect).
# (Any: their Insert classes both have on_conflict_do_nothing, but no common base declares it.)
DialectInsert = Callable[..., Any]
DIALECT_INSERTS: dict[str, DialectInsert] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


def dialect_insert(session: AsyncSession) -> DialectInsert:
    """The session's database's INSERT, which knows ON CONFLICT."""
    assert session.bind is not None  # the session factory binds every session to the engine
    return DIALECT_INSERTS[session.bind.dialect.name]


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets the web app read while the worker writes; NORMAL sync is safe under WAL.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=20, max_overflow=10, pool_pre_ping=True)


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
