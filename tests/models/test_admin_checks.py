"""The admin's shared checks: walking manager and parent chains, and plain numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.admin.checks import chain_reaches, plain_number

# 1 reports to 2, 2 to 3, 3 to no one; 4 and 5 report to each other (a loop already in the data).
LINKS: dict[int, int | None] = {1: 2, 2: 3, 3: None, 4: 5, 5: 4}


@pytest.mark.parametrize(
    ("start", "target", "reaches"),
    [
        (1, 1, True),  # the start itself counts
        (1, 3, True),
        (3, 1, False),  # links go up only
        (None, 1, False),
        (4, 1, False),  # a loop ends the walk
        (4, 5, True),
        (9, 9, True),  # an id with no links is still where the walk starts
    ],
)
def test_a_chain_reaches_only_what_lies_above_its_start(
    start: int | None, target: int, reaches: bool
) -> None:
    assert chain_reaches(LINKS, start, target) is reaches


@pytest.mark.parametrize(
    ("number", "typed"),
    [("6.000", "6"), ("1200.50", "1200.5"), ("0.000", "0"), ("120", "120"), ("0.125", "0.125")],
)
def test_a_stored_number_reads_as_a_person_would_type_it(number: str, typed: str) -> None:
    assert plain_number(Decimal(number)) == typed
