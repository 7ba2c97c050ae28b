"""A group's histogram rows as one text, built by the database: a report that reads thousands of
buckets then takes one row per stage and department or kind and person instead of one per
bucket (each row the driver hands over is an object Python allocates, and collects)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class packed_histogram(FunctionElement[str]):  # used like a SQL aggregate function
    """`packed_histogram(bucket, waits, seconds)`: the group's rows as `bucket waits seconds`
    after one another, separated by spaces, in no particular order."""

    type = String()
    inherit_cache = True
    name = "packed_histogram"


def _columns(element: packed_histogram, compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(column, **kw) for column in element.clauses]


@compiles(packed_histogram, "sqlite")
def _in_sqlite(element: packed_histogram, compiler: SQLCompiler, **kw: Any) -> str:
    bucket, waits, seconds = _columns(element, compiler, **kw)
    return f"group_concat({bucket} || ' ' || {waits} || ' ' || {seconds}, ' ')"


@compiles(packed_histogram)
def _elsewhere(element: packed_histogram, compiler: SQLCompiler, **kw: Any) -> str:
    bucket, waits, seconds = _columns(element, compiler, **kw)
    return f"string_agg(concat_ws(' ', {bucket}, {waits}, {seconds}), ' ')"


def unpacked(text: str) -> zip[tuple[int, int, int]]:
    """The (bucket, waits, seconds) of a packed histogram."""
    numbers = iter([int(number) for number in text.split()])
    return zip(numbers, numbers, numbers, strict=True)
