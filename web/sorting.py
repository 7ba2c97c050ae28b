"""Sortable lists in the web layer: the `sort` and `dir` query parameters, and the links of a
list's column headers, each keeping the list's filters, sorting by its column (the other way
round when it sorts by it already) and going back to the first page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query

from models.queries.sorting import SortOrder

# The query parameters of a sortable list: the column, and asc or desc.
SortColumn = Annotated[str, Query(description="The column to sort by; any other: the usual order.")]
SortDirection = Annotated[str, Query(alias="dir", description="asc (the default) or desc.")]


@dataclass(frozen=True)
class SortLinks:
    path: str
    order: SortOrder
    # The list's filters as the reader set them, kept in every link (blank ones left out).
    params: Mapping[str, str] = field(default_factory=dict)
    # The order the list has when none is asked for, shown on its column's header.
    usual: SortOrder = SortOrder()

    @property
    def shown(self) -> SortOrder:
        return self.order if self.order.column else self.usual

    def href(self, column: str) -> str:
        ascending_now = self.shown.column == column and not self.shown.descending
        return self._url(column=column, direction="desc" if ascending_now else "asc")

    def state(self, column: str) -> str:
        """The header's aria-sort."""
        if self.shown.column != column:
            return "none"
        return "descending" if self.shown.descending else "ascending"

    def mark(self, column: str) -> str:
        return {"ascending": "▲", "descending": "▼"}.get(self.state(column), "")

    @property
    def chosen(self) -> str:
        """The chosen order as it follows a list's own link (`&sort=...&dir=...`), or ""."""
        if not self.order.column:
            return ""
        return "&" + urlencode({"sort": self.order.column, "dir": self.order.direction})

    @property
    def query(self) -> str:
        """The filters and the chosen order, for the pager's links (`...&page=2` follows)."""
        return self._query(self.order.column, self.order.direction if self.order.column else "")

    def _url(self, *, column: str, direction: str) -> str:
        return f"{self.path}?{self._query(column, direction)}"

    def _query(self, column: str, direction: str) -> str:
        kept = {name: value for name, value in self.params.items() if value}
        if column:
            kept |= {"sort": column, "dir": direction}
        return urlencode(kept)
