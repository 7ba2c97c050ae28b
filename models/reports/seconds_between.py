"""The seconds from one stored moment to another, computed by the database: a report that
measures hundreds of thousands of waits then reads one number per wait instead of two moments
to parse (SQLite keeps moments as text in UTC; PostgreSQL as timestamps)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):  # used like a SQL function
    """`seconds_between(start, end)`: end - start in seconds, as a float."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


def _moments(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    start, end = list(element.clauses)
    return compiler.process(start, **kw), compiler.process(end, **kw)


@compiles(seconds_between, "sqlite")
def _in_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _moments(element, compiler, **kw)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between)
def _elsewhere(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _moments(element, compiler, **kw)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"
