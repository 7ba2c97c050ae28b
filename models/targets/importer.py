"""Targets from a CSV or XLSX file: one target a row (month, username or department, measure,
amount), each row checked, the row numbers of the bad ones said; nothing is saved when one is
bad."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models.tables import Department, User
from models.targets.rules import (
    NEITHER,
    NOT_AN_AMOUNT,
    TargetRefusal,
    parse_amount,
    parse_measure,
    parse_month,
)
from models.targets.store import TargetEntry, TargetsRefused, save_targets

REQUIRED = ("month", "measure", "amount")
NOT_A_FILE = N_("The file must be a CSV or XLSX file with a header row.")
MISSING_COLUMNS = N_(
    "The file has no column %(columns)s (it needs month, username or department,"
    " measure and amount)."
)
UNKNOWN_USER = N_("There is no user %(name)s.")
UNKNOWN_DEPARTMENT = N_("There is no department %(name)s.")
DUPLICATE_ROW = N_("This row repeats row %(row)s.")
ROW_SAYS = N_("Row %(row)s: %(problem)s")
EMPTY = N_("The file has no targets.")
# The file's first row is its header: the first target is row 2, as a spreadsheet numbers it.
FIRST_ROW = 2


class ImportRefused(Exception):
    """Nothing was saved: refusals with the file's row number (None: the whole file's)."""

    def __init__(self, refusals: list[tuple[int | None, TargetRefusal]]) -> None:
        super().__init__("; ".join(f"{row}: {r}" for row, r in refusals))
        self.refusals = refusals

    @property
    def status(self) -> int:
        return 403 if any(r.status == 403 for _, r in self.refusals) else 422


@dataclass(frozen=True)
class ImportedRow:
    number: int
    cells: dict[str, str]


def read_rows(filename: str, content: bytes) -> list[ImportedRow]:
    """The file's rows below its header, keyed by the header's lower-cased names."""
    try:
        table = list(_xlsx(content) if filename.lower().endswith(".xlsx") else _csv(content))
    except (ValueError, KeyError, OSError, UnicodeDecodeError, csv.Error) as error:
        raise ImportRefused([(None, TargetRefusal(NOT_A_FILE))]) from error
    if not table:
        raise ImportRefused([(None, TargetRefusal(NOT_A_FILE))])
    header = [h.strip().lower() for h in table[0]]
    missing = [c for c in REQUIRED if c not in header]
    if "username" not in header and "department" not in header:
        missing.append("username / department")
    if missing:
        raise ImportRefused([(None, TargetRefusal(MISSING_COLUMNS, columns=", ".join(missing)))])
    rows = [
        ImportedRow(FIRST_ROW + i, dict(zip(header, row, strict=False)))
        for i, row in enumerate(table[1:])
        if any(cell.strip() for cell in row)
    ]
    if not rows:
        raise ImportRefused([(None, TargetRefusal(EMPTY))])
    return rows


def _csv(content: bytes) -> Iterator[list[str]]:
    yield from csv.reader(io.StringIO(content.decode("utf-8-sig")))


def _xlsx(content: bytes) -> Iterator[list[str]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield ["" if v is None else _cell(v) for v in values]
    finally:
        workbook.close()


def _cell(value: object) -> str:
    """A cell as text; a month typed as a date in a spreadsheet reads as 2026-11."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m")
    return str(value)


async def import_targets(
    *, session: AsyncSession, user: User, rows: Sequence[ImportedRow], now: datetime
) -> int:
    """Save the rows' targets, all or none; the number saved."""
    users = {u.username: u.id for u in await session.scalars(select(User))}
    departments = {d.name: d.id for d in await session.scalars(select(Department))}
    entries: list[TargetEntry] = []
    numbers: list[int] = []
    refusals: list[tuple[int | None, TargetRefusal]] = []
    first_seen: dict[tuple[str, str, str, int], int] = {}
    for row in rows:
        try:
            entry = _entry(row.cells, users, departments)
        except TargetRefusal as refusal:
            refusals.append((row.number, refusal))
            continue
        if entry.subject in first_seen:
            refusals.append(
                (row.number, TargetRefusal(DUPLICATE_ROW, row=first_seen[entry.subject]))
            )
            continue
        first_seen[entry.subject] = row.number
        entries.append(entry)
        numbers.append(row.number)
    if refusals:
        raise ImportRefused(refusals)
    try:
        await save_targets(session=session, user=user, entries=entries, now=now)
    except TargetsRefused as refused:
        raise ImportRefused(
            [(None if i is None else numbers[i], r) for i, r in refused.refusals]
        ) from refused
    return len(entries)


def _entry(
    cells: dict[str, str], users: dict[str, int], departments: dict[str, int]
) -> TargetEntry:
    username = cells.get("username", "").strip()
    department = cells.get("department", "").strip()
    if bool(username) == bool(department):
        raise TargetRefusal(NEITHER)
    month = parse_month(cells.get("month"))
    measure = parse_measure(cells.get("measure"))
    amount = parse_amount(cells.get("amount"))
    if amount is None:
        raise TargetRefusal(NOT_AN_AMOUNT)
    if username:
        if username not in users:
            raise TargetRefusal(UNKNOWN_USER, name=username)
        return TargetEntry(month, measure, amount, user_id=users[username])
    if department not in departments:
        raise TargetRefusal(UNKNOWN_DEPARTMENT, name=department)
    return TargetEntry(month, measure, amount, department_id=departments[department])
