"""Pydantic's validation problems as one sentence a person reads, for the API's 422 and the
pages' forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError


def first_error(error: ValidationError) -> str:
    """One readable sentence for the first problem pydantic found."""
    return first_problem(error.errors())


def first_problem(problems: Sequence[Mapping[str, Any]]) -> str:
    """One readable sentence for the first of pydantic's problems (a model's, or a request's
    from FastAPI, whose locations start with body/query/path)."""
    problem = problems[0]
    message = str(problem["msg"]).removeprefix("Value error, ")
    if problem["type"] == "value_error":
        return message  # our own sentences say what is wrong; kept whole so they translate
    loc = [p for p in problem["loc"] if p not in ("body", "query", "path")]
    if len(loc) >= 3 and loc[0] in ("lines", "payment_plan") and isinstance(loc[1], int):
        what = "Line" if loc[0] == "lines" else "Installment"
        return f"{what} {loc[1] + 1}, {'.'.join(map(str, loc[2:]))}: {message}"
    where = ".".join(map(str, loc))
    return f"{where}: {message}" if where else message
