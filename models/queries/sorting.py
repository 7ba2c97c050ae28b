"""A list sorted by the column its reader picks (`?sort=<column>&dir=asc|desc`): only the
list's own columns; any other value, or none, gives the list's usual order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import SQLColumnExpression

Row = TypeVar("Row")


@dataclass(frozen=True)
class SortOrder:
    column: str = ""  # "": the list's usual order
    descending: bool = False

    @classmethod
    def of(cls, column: str | None, direction: str | None, columns: Iterable[str]) -> SortOrder:
        """The order asked for, when `column` is one of the list's; else the usual order."""
        if not column or column not in set(columns):
            return cls()
        return cls(column, (direction or "").strip().lower() == "desc")

    @property
    def direction(self) -> str:
        return "desc" if self.descending else "asc"


def sql_order(
    order: SortOrder,
    columns: Mapping[str, SQLColumnExpression[Any]],
    *then: SQLColumnExpression[Any],
) -> list[SQLColumnExpression[Any]]:
    """ORDER BY the chosen column, rows without a value last either way, then `then` (which
    makes the order stable from one page to the next)."""
    chosen = columns[order.column]
    return [chosen.is_(None), chosen.desc() if order.descending else chosen.asc(), *then]


def sorted_rows(
    rows: Iterable[Row], order: SortOrder, keys: Mapping[str, Callable[[Row], Any]]
) -> list[Row]:
    """A short list that is not paged, sorted in Python: rows without a value last either way,
    equal rows in the order they came (the list's usual order)."""
    listed = list(rows)
    if not order.column:
        return listed
    key = keys[order.column]
    present = [row for row in listed if key(row) is not None]
    missing = [row for row in listed if key(row) is None]
    return sorted(present, key=key, reverse=order.descending) + missing


def text_key(value: str | None) -> str | None:
    """Names sorted as people read them, not by upper and lower case."""
    return value.casefold() if value else None
