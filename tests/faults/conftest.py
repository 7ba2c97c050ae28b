"""The stack of the fault-injection tests: real processes, killed at the end whatever happens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.faults import TEMPORAL, Stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """The dev server, the worker and the web app on free ports over files in tmp_path (not
    started yet); every process still running is killed when the test ends."""
    if TEMPORAL is None:
        pytest.skip("the temporal CLI is not installed (`make install` brings it)")
    stack = Stack(tmp_path)
    try:
        yield stack
    finally:
        stack.close()
