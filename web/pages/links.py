"""Deciding an approval from the link in its e-mail, without logging in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse

from i18n import N_, translations
from models.dates import as_utc
from models.domain import APPROVAL_KINDS, TodoStatus
from models.links import DecisionLinks
from models.queries import actor_for, approval_rounds, get_todo, is_assignee, order_of_todo
from models.queries import sees_costs as may_see_costs
from models.tables import ApprovalStep, DecisionLink, Todo, User
from settings import Settings
from web.commands.actions import Refused
from web.commands.completion import TodoCompletion
from web.commands.todos import complete_todo
from web.deps import SessionDep, SettingsDep, TemporalClient
from web.pages.common import page_router
from web.templating import locale_of, render_for_link
from web.views import order_detail

router = page_router()

NOT_VALID = N_("This link is not valid.")
EXPIRED = N_("This link has expired. Sign in and decide the approval from your to-dos.")
USED = N_("This link has already been used.")
ALREADY_DECIDED = N_("This approval is already decided; nothing to do.")
INACTIVE = N_("This link no longer works: the account it was sent to is inactive.")
NOT_ASSIGNED = N_("This to-do is not assigned to you.")


class LinkRefused(Refused):
    """A link that cannot be used (now); `person` is its recipient when the link is genuine, so
    the page speaks their language."""

    def __init__(self, status: int, template: str, *, person: User | None = None) -> None:
        super().__init__(status, template)
        self.person = person


@dataclass(frozen=True)
class UsableLink:
    """A genuine, unused, unexpired link of an active person to an open approval of theirs."""

    link: DecisionLink
    todo: Todo
    person: User


async def usable_link(
    *, session: AsyncSession, links: DecisionLinks, token: str, now: datetime
) -> UsableLink:
    """The link a token stands for, if it may decide its to-do now; LinkRefused otherwise.
    Nothing is changed either way."""
    link = await links.find(session, token)
    todo = await get_todo(session=session, todo_id=link.todo_id) if link else None
    person = await session.get(User, link.user_id) if link else None
    if link is None or todo is None or person is None or todo.kind not in APPROVAL_KINDS:
        raise LinkRefused(404, NOT_VALID)
    if not person.active:
        raise LinkRefused(403, INACTIVE, person=person)
    if link.used_at is not None:
        raise LinkRefused(409, USED, person=person)
    if as_utc(link.expires_at) <= now:
        raise LinkRefused(410, EXPIRED, person=person)
    if todo.status != TodoStatus.open.value:
        raise LinkRefused(409, ALREADY_DECIDED, person=person)
    # Reassigned since the mail went out (or the link was not this person's to begin with).
    if not is_assignee(todo, await actor_for(session=session, user=person)):
        raise LinkRefused(403, NOT_ASSIGNED, person=person)
    return UsableLink(link=link, todo=todo, person=person)


def _render(
    request: Request,
    template: str,
    *,
    person: User | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return render_for_link(
        request, template, recipient=person, status_code=status_code, person=person, **context
    )


def _refused_page(request: Request, refusal: LinkRefused) -> HTMLResponse:
    return _render(
        request,
        "links/refused.html",
        person=refusal.person,
        status_code=refusal.status,
        status=refusal.status,
        message=refusal.template,
    )


async def _decision_form(
    request: Request,
    *,
    session: AsyncSession,
    settings: Settings,
    token: str,
    usable: UsableLink,
    error: str | None = None,
    status_code: int = 200,
    values: FormData | None = None,
) -> HTMLResponse:
    order = await order_of_todo(session=session, todo=usable.todo)
    detail = await order_detail(session=session, user=usable.person, order=order, settings=settings)
    steps: list[ApprovalStep] = [
        step
        for approval in await approval_rounds(session=session, order=order)
        for step in approval.steps
        if step.todo_id == usable.todo.id
    ]
    return _render(
        request,
        "links/decide.html",
        person=usable.person,
        status_code=status_code,
        token=token,
        todo=usable.todo,
        step=steps[-1] if steps else None,
        order=detail,
        sees_costs=may_see_costs(usable.person),
        expires_at=usable.link.expires_at,
        error=error,
        values=dict(values or {}),
    )


def _links(request: Request) -> DecisionLinks:
    links: DecisionLinks = request.app.state.decision_links
    return links


@router.get("/decide/{token}")
async def decision_page(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    try:
        usable = await usable_link(
            session=session, links=_links(request), token=token, now=datetime.now(UTC)
        )
    except LinkRefused as refusal:
        return _refused_page(request, refusal)
    return await _decision_form(
        request, session=session, settings=settings, token=token, usable=usable
    )


@router.post("/decide/{token}")
async def decide_by_link(
    request: Request,
    token: str,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
) -> HTMLResponse:
    form = await request.form()
    try:
        usable = await usable_link(
            session=session, links=_links(request), token=token, now=datetime.now(UTC)
        )
    except LinkRefused as refusal:
        return _refused_page(request, refusal)
    completion = TodoCompletion(
        outcome=str(form.get("outcome") or ""), comment=str(form.get("comment") or "")
    )
    try:
        # The inbox's path: the same checks, then the workflow's update, whose validator
        # checks once more against the workflow's own state.
        await complete_todo(
            session=session,
            user=usable.person,
            todo=usable.todo,
            completion=completion,
            client=client,
        )
    except Refused as refusal:
        await session.refresh(usable.todo)
        if usable.todo.status != TodoStatus.open.value:  # someone else was quicker
            return _refused_page(request, LinkRefused(409, ALREADY_DECIDED, person=usable.person))
        gettext = translations(locale_of(request, usable.person)).gettext
        return await _decision_form(
            request,
            session=session,
            settings=settings,
            token=token,
            usable=usable,
            error=refusal.translated(gettext),
            status_code=refusal.status,
            values=form,
        )
    order = await order_of_todo(session=session, todo=usable.todo)
    usable.link.used_at = datetime.now(UTC)
    await session.commit()
    return _render(
        request,
        "links/done.html",
        person=usable.person,
        outcome=completion.outcome,
        number=order.number,
    )
