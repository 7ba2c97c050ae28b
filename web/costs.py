"""Moved to web.commands.costs; kept only while importers move, then removed."""

from __future__ import annotations

from typing import Any

from web.commands import costs as moved


def __getattr__(name: str) -> Any:
    return getattr(moved, name)
