"""Exporting a list or report as CSV or XLSX, streamed, and written to the audit log.

A list adds its export in a few lines: translated column headers and an async iterator of
rows (plain values: str, int, Decimal, date, datetime, None), then `export_response`. CSV goes
out row by row as the rows come; XLSX is written by openpyxl's write-only workbook to a
temporary file (a few rows in memory at a time) and streamed from there. The audit row (who,
when, which list, the filters, how many rows) is written once every row is out.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query
from openpyxl import Workbook  # type: ignore[import-untyped]
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response, StreamingResponse

from models.db import SessionFactory
from models.exports import record_export
from models.queries.sorting import SortOrder

Cell = str | int | float | Decimal | date | datetime | None
Rows = AsyncIterator[Sequence[Cell]]
BATCH = 1000  # rows written at a time
PAGING = frozenset({"page", "per_page"})
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The responses an export route declares (OpenAPI): the file, in the format asked for.
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the list; with `format`, the file",
        "content": {CSV_TYPE.split(";")[0]: {}, XLSX_TYPE: {}},
    }
}


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


# A list's API route exports when given `format` (DESIGN: the JSON API contract).
ExportQuery = Annotated[
    ExportFormat | None,
    Query(alias="format", description="export every row of the list as a file: csv or xlsx"),
]


@dataclass(frozen=True)
class Export:
    """What a list exports: its name in the audit log (and the file's), its filters as given
    (for the audit log), the headers in the reader's language, and its rows."""

    list_name: str
    headers: list[str]
    rows: Rows
    filters: dict[str, Any] = field(default_factory=dict)


def audit_filters(shown: Mapping[str, Any], sort: SortOrder | None = None) -> dict[str, Any]:
    """A list's filters as the audit log keeps them: those given, with the chosen order; the
    paging left out (an export holds every page)."""
    kept = {k: v for k, v in shown.items() if v not in (None, "") and k not in PAGING}
    if sort is not None and sort.column:
        kept |= {"sort": sort.column, "dir": sort.direction}
    return kept


@dataclass(frozen=True)
class Exporter:
    """Who exports, and where the audit row goes (a session of its own: the rows stream after
    the route has returned)."""

    user_id: int
    session_factory: SessionFactory


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _sheet_value(value: Cell) -> Cell:
    # Excel has no time zones: an aware moment is written as the wall-clock time it was given in.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _file_name(export: Export, file_format: ExportFormat) -> str:
    return f"{export.list_name}-{datetime.now(UTC).date().isoformat()}.{file_format.value}"


async def _audit(exporter: Exporter, export: Export, file_format: ExportFormat, rows: int) -> None:
    async with exporter.session_factory() as session:
        await record_export(
            session=session,
            user_id=exporter.user_id,
            list_name=export.list_name,
            file_format=file_format.value,
            filters=export.filters,
            rows=rows,
        )


async def _csv_chunks(export: Export, exporter: Exporter) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The byte-order mark lets spreadsheet programs read the file as UTF-8 (Chinese text).
    writer.writerow(export.headers)
    yield "\ufeff" + buffer.getvalue()
    count = 0
    async for row in export.rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_text(v) for v in row])
        count += 1
        yield buffer.getvalue()
    await _audit(exporter, export, ExportFormat.csv, count)


def _append(sheet: Any, rows: list[Sequence[Cell]]) -> None:
    for row in rows:
        sheet.append([_sheet_value(v) for v in row])


async def _xlsx_file(export: Export) -> tuple[str, int]:
    """Writes the rows to a temporary XLSX file; its path and the number of rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(export.list_name[:31])
    sheet.append(export.headers)
    count, batch = 0, []
    async for row in export.rows:
        batch.append(row)
        if len(batch) == BATCH:
            await asyncio.to_thread(_append, sheet, batch)
            count, batch = count + len(batch), []
    await asyncio.to_thread(_append, sheet, batch)
    count += len(batch)
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="o2c-export-")
    os.close(handle)
    try:
        await asyncio.to_thread(workbook.save, path)
    except BaseException:
        os.unlink(path)
        raise
    return path, count


async def export_response(
    export: Export, *, file_format: ExportFormat, exporter: Exporter
) -> Response:
    """The export as a file download, in the format asked for; audited."""
    name = _file_name(export, file_format)
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if file_format is ExportFormat.csv:
        return StreamingResponse(
            _csv_chunks(export, exporter), media_type=CSV_TYPE, headers=disposition
        )
    path, count = await _xlsx_file(export)
    await _audit(exporter, export, file_format, count)
    return FileResponse(
        path,
        media_type=XLSX_TYPE,
        filename=name,
        background=BackgroundTask(os.unlink, path),
    )
