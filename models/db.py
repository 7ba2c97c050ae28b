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


async def read_one_view(session: AsyncSession) -> None:
    """From here on the session reads one view of the database, as it is at the next read, until
    the session ends: for a page that only reads, in many queries, an order a workflow step may
    write meanwhile (else its heading said revision 1 over the list of its revisions with 2).
    SQLite's driver begins a transaction only before a write, so each read saw the latest
    commit; PostgreSQL's read committed sees it at every statement."""
    await session.commit()  # ends what was read before (nothing written, loaded objects kept)
    if session.get_bind().dialect.name == "sqlite":
        connection = await session.connection()
        await connection.exec_driver_sql("BEGIN")  # WAL: the snapshot is the next read's
    else:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
