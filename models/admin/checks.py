"""The admin's shared checks: the refusal, lengths, e-mail addresses, unique names, no loops."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from models.domain import Refusal

# Deliberately plain: one @, no spaces, a dotted domain. Mail servers decide the rest.
_EMAIL = re.compile(
    r"^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


class AdminRefusal(Refusal):
    """An admin edit that breaks a rule (its message marked with N_ for the catalog)."""


def is_email(value: str) -> bool:
    return len(value) <= 200 and bool(_EMAIL.match(value))


def at_most(value: str, max_length: int, too_long: str) -> str:
    if len(value) > max_length:
        raise AdminRefusal(too_long, max=max_length)
    return value


def plain_number(number: Decimal) -> str:
    """A stored number as a person would type it back: 6 not 6.000, 1200.5 not 1200.50."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


async def taken_by_another(
    session: AsyncSession,
    name: InstrumentedAttribute[str],
    row_id: InstrumentedAttribute[int],
    value: str,
    editing_id: int | None,
) -> bool:
    """Whether another row than the one being edited (None: a new one) already has this name,
    ignoring case."""
    taken = await session.scalar(select(row_id).where(func.lower(name) == value.lower()))
    return taken is not None and (editing_id is None or taken != editing_id)


def chain_reaches(links: Mapping[int, int | None], start: int | None, target: int) -> bool:
    """Whether following `links` up from `start` (manager to manager, parent to parent) arrives
    at `target`; a loop already in the data ends the walk."""
    seen: set[int] = set()
    current = start
    while current is not None and current not in seen:
        if current == target:
            return True
        seen.add(current)
        current = links.get(current)
    return False
