"""What the JSON API's routers share: ApiRoute, which documents the errors every route can
answer, the Idempotency-Key header, and a command's refusal as the HTTP error it answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import Header, HTTPException, params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute

from models.domain import TodoDone
from models.tables import Order
from web.commands.actions import Refused
from web.deps import api_user, get_temporal, scoped_order
from web.schemas import MoneyActionOut, errors

# What a route answers that its signature does not show: the sign-in's wrong password and its
# throttle (the function itself lives with the sign-in code).
UNSEEN_ERRORS: dict[str, tuple[int, ...]] = {"/api/v1/auth/token": (401, 429)}


def _tree(dependant: Dependant) -> list[Dependant]:
    """The route and everything it depends on, however deep."""
    found, waiting = [], [dependant]
    while waiting:
        current = waiting.pop()
        found.append(current)
        waiting.extend(current.dependencies)
    return found


def shape_errors(path: str, endpoint: Callable[..., Any], dependencies: Sequence[Any]) -> set[int]:
    """The statuses a route answers because of what it takes and depends on: 401 without a
    valid token, 404 for an order outside the user's scope, 422 for a parameter or body that
    does not validate, 400 for a body that does not parse and 413 for one past the size limit,
    503 while the workflow engine is unreachable."""
    dependant = get_dependant(path=path, call=endpoint)
    for dependency in dependencies:
        if isinstance(dependency, params.Depends) and dependency.dependency is not None:
            dependant.dependencies.append(get_dependant(path=path, call=dependency.dependency))
    tree = _tree(dependant)
    calls = {part.call for part in tree}
    has_body = any(part.body_params for part in tree)
    statuses = set(UNSEEN_ERRORS.get(path, ()))
    if api_user in calls:
        statuses.add(401)
    if scoped_order in calls:
        statuses.add(404)
    if get_temporal in calls:
        statuses.add(503)
    if has_body:
        statuses |= {400, 413}
    if has_body or any(
        part.path_params or part.query_params or part.header_params or part.cookie_params
        for part in tree
    ):
        statuses.add(422)
    return statuses


class ApiRoute(APIRoute):
    """A route of the JSON API whose OpenAPI names every error status it can answer, each with
    the one error body, {"detail": "..."} (FastAPI's default 422 schema, a list of problems, is
    not what the app answers). The statuses that follow from the route's shape are found here;
    a route adds its business refusals (403, 404, 409, ...) with `responses=errors(...)`."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        responses: dict[int | str, dict[str, Any]] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        **kwargs: Any,
    ) -> None:
        found = errors(*sorted(shape_errors(path, endpoint, dependencies or [])))
        super().__init__(
            path,
            endpoint,
            responses={**found, **(responses or {})},
            dependencies=dependencies,
            **kwargs,
        )


# An action sent again after its answer was lost (503, a timeout, a dropped connection) is the
# same action and gets the same answer; two identical payments, invoice applications, cost
# batches or exception reports meant as two carry different keys.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Makes this request one action however often it is sent; identical "
        "requests without a key are one action too.",
    ),
]


class RefusedHTTP(HTTPException):
    """A command's refusal as the HTTP error it answers; the app's handler says its message
    in the caller's language (Accept-Language; English by default)."""

    def __init__(self, refusal: Refused) -> None:
        super().__init__(refusal.status, refusal.message)
        self.refusal = refusal


def refused(error: Refused) -> HTTPException:
    return RefusedHTTP(error)


async def finance_todo(order: Order, action: Awaitable[TodoDone]) -> MoneyActionOut:
    """Run the action that asks finance for something; a refusal answers with its status."""
    try:
        done = await action
    except Refused as error:
        raise refused(error) from error
    return MoneyActionOut(number=order.number, todo_key=done.todo_key, stage=done.stage.value)
