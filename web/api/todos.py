"""To-dos in the JSON API: the user's inbox, and completing a to-do with its outcome."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from i18n import N_
from models.domain import TodoStatus
from models.queries import InboxItem, list_todos, order_of_todo, sees_costs
from models.queries.customers import site_for_todo
from models.queries.todos import InboxFilter
from models.tables import Todo
from web.api import ApiRoute, refused
from web.commands.actions import Refused
from web.commands.completion import TodoCompletion
from web.commands.todos import complete_todo, requested_by, visible_todo
from web.deps import ApiUser, SessionDep, TemporalClient
from web.exports import EXPORT_RESPONSES, ExportQuery, export_response
from web.exports.access import check_api_export, exporter_of
from web.exports.todos import todos_export
from web.forms.errors import invalid_input
from web.schemas import COMPLETIONS, CompletionBody, Id, TodoCompletedOut, TodoOut, errors
from web.schemas.todos import SiteOut, TodoDetailOut
from web.sorting import SortColumn, SortDirection
from web.views import todo_out

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)
OTHER_KIND = N_("This to-do is of kind %(kind)s; the body's kind is %(given)s.")
OUTCOMES = N_("The outcome must be one of: %(allowed)s.")


@router.get(
    "/todos",
    response_model=list[TodoOut],
    responses={**EXPORT_RESPONSES, **errors(403)},
    tags=["to-dos"],
)
async def todos(
    request: Request,
    user: ApiUser,
    session: SessionDep,
    status: TodoStatus = TodoStatus.open,
    kind: str = "",
    order: Annotated[str, Query(description="Part of the order number.")] = "",
    customer: Annotated[str, Query(description="Part of the customer's name.")] = "",
    due: Annotated[str, Query(description="late, day, week (due within) or none.")] = "",
    sort: SortColumn = "",
    direction: SortDirection = "",
    file_format: ExportQuery = None,
) -> Response:
    """The user's to-dos, oldest first, or sorted by `sort` (kind, order, customer, total,
    asked_by, since, due) and `dir`; narrowed by `kind`, `order`, `customer` and `due` (an
    unknown kind, window or column is left out). An approval's `facts` say what decides it
    (its margin only for the roles that may see costs); `about` what tells the to-do apart
    from the order's other to-dos (which payment, milestone, batch, return). With `format`
    (`csv`, `xlsx`), every to-do of the list as filtered (the list stops at 200) as a
    file, an approval's expected margin for the roles that see costs; 403 without the export
    permission; audited."""
    filters = InboxFilter.asked(
        kind=kind, order=order, customer=customer, due=due, sort=sort, direction=direction
    )
    if file_format is not None:
        await check_api_export(session=session, user=user)
        export = await todos_export(
            request=request, session=session, user=user, filters=filters, status=status
        )
        return await export_response(
            export, file_format=file_format, exporter=exporter_of(request, user)
        )
    items = await list_todos(session=session, user=user, status=status, filters=filters)
    costs = sees_costs(user)
    return JSONResponse([todo_out(item).for_viewer(costs) for item in items])


@router.get(
    "/todos/{todo_id}", response_model=TodoDetailOut, responses=errors(404), tags=["to-dos"]
)
async def todo_detail(todo_id: Id, user: ApiUser, session: SessionDep) -> JSONResponse:
    """One to-do assigned to you or of an order in your scope (404 otherwise), as in the
    list; an acceptance (`confirm_acceptance`) also gives its order's `site`: the address the
    goods are installed at and the customer's contacts (name, phone, e-mail)."""
    try:
        todo = await visible_todo(session=session, user=user, todo_id=todo_id)
    except Refused as error:
        raise refused(error) from error
    order = await order_of_todo(session=session, todo=todo)
    costs = sees_costs(user)
    asker = await requested_by(session=session, todo=todo)
    item = todo_out(InboxItem.of(todo, order, asker, sees_costs=costs))
    site = await site_for_todo(session=session, kind=todo.kind, order=order)
    detail = TodoDetailOut.model_validate(
        {**item.model_dump(), "site": SiteOut.model_validate(site) if site else None}
    )
    return JSONResponse(detail.for_viewer(costs))


def completion_of(todo: Todo, body: dict[str, Any]) -> TodoCompletion:
    """What the body says for this to-do, checked by its kind's model: `kind` may be left out
    (it is then the to-do's own, as before kinds were named in the body) but not contradict
    the to-do."""
    kind = body.get("kind", todo.kind)
    if kind != todo.kind:
        raise refused(Refused(422, OTHER_KIND, kind=todo.kind, given=kind))
    model = COMPLETIONS[todo.kind]
    try:
        given = model.model_validate({**body, "kind": kind})
    except ValidationError as error:
        problem = error.errors()[0]
        if problem["loc"] == ("outcome",) and problem["type"] == "literal_error":
            allowed = ", ".join(sorted(get_args(model.model_fields["outcome"].annotation)))
            raise refused(Refused(422, OUTCOMES, allowed=allowed)) from error
        raise refused(invalid_input(error)) from error
    return TodoCompletion.model_validate(given.model_dump(exclude={"kind"}))


@router.post(
    "/todos/{todo_id}/complete",
    response_model=TodoCompletedOut,
    responses=errors(403, 404, 409),
    tags=["to-dos"],
)
async def complete(
    todo_id: Id,
    completion: Annotated[
        CompletionBody,
        Body(
            description="`outcome` plus the to-do kind's fields, by `kind` (which may be left "
            "out: it is then the to-do's own)."
        ),
    ],
    user: ApiUser,
    session: SessionDep,
    client: TemporalClient,
) -> TodoCompletedOut:
    """Complete a to-do with its outcome: 403 not yours, 404 not in your scope, 409 no longer
    open, 422 bad fields or a `kind` that is not the to-do's."""
    try:
        todo = await visible_todo(session=session, user=user, todo_id=todo_id)
        done = await complete_todo(
            session=session,
            user=user,
            todo=todo,
            completion=completion_of(todo, completion),
            client=client,
        )
    except Refused as error:
        raise refused(error) from error
    return TodoCompletedOut(id=todo_id, status="done", stage=done.stage.value)
