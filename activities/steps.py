"""What a step records in its transaction (to-dos, timeline, mail), each idempotent by key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import FromClause, Insert, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import DEFAULT_TIME_ZONE, Formatter, translations
from i18n.labels import EVENTS, TODO_KINDS
from models.company import company_time_zone
from models.db import DIALECT_INSERTS, dialect_insert
from models.domain import APPROVAL_KINDS, Assignee, OpenTodo, Role, Stage, TodoKind, TodoStatus
from models.links import DecisionLinks
from models.reports.wait_counts import count_stage_wait, count_todo_wait
from models.tables import Department, Order, OutboxMail, TimelineEvent, Todo, TodoAssignee, User
from notifications.mail import render

Clock = Callable[[], datetime]
# The values of a mail that are moments (datetimes), written in the recipient's language.
MAIL_MOMENTS = ("due_at", "decide_until", "reminder", "arrival_until")
# A mail's comment said in each recipient's language: given their formatter and gettext.
Said = Callable[[Formatter, Callable[[str], str]], str]
# An assignment as a dictionary key: (user id, role, department id) of each assignee.
_Assignment = tuple[tuple[int | None, Role | None, int | None], ...]

# Built once: constructing a statement costs more than running it (the steps run thousands a
# minute when many milestones fall due together).
_TODO_BY_KEY = select(Todo).where(Todo.key == bindparam("key"))
_MAIL_BY_KEY = select(OutboxMail.id).where(OutboxMail.key == bindparam("key"))
_PEOPLE = (
    select(User)
    .where(
        User.active.is_(True),
        or_(
            User.id.in_(bindparam("user_ids", expanding=True)),
            User.role.in_(bindparam("roles", expanding=True)),
            User.id.in_(
                select(Department.manager_id).where(
                    Department.id.in_(bindparam("departments", expanding=True))
                )
            ),
        ),
    )
    .order_by(User.id)
)
# "Insert unless a row has this key": one statement where select-then-insert took two.
_NEW_EVENT = {
    dialect: insert(TimelineEvent.__table__).on_conflict_do_nothing(index_elements=["key"])
    for dialect, insert in DIALECT_INSERTS.items()
}
_NEW_MAIL = {
    dialect: insert(OutboxMail.__table__)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(OutboxMail.__table__.c.id)
    for dialect, insert in DIALECT_INSERTS.items()
}


def _for_dialect(session: AsyncSession, statements: dict[str, Insert]) -> Insert:
    assert session.bind is not None  # the session factory binds every session to the engine
    return statements[session.bind.dialect.name]


async def insert_once(
    session: AsyncSession, table: FromClause, values: dict[str, Any], *, unique: Sequence[str]
) -> None:
    """Insert the row unless one with the same `unique` columns exists (a retried step)."""
    await session.execute(
        dialect_insert(session)(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique))
    )


def amount_text(value: Decimal) -> str:
    """An amount as the timeline and mails show it: thousands grouped, two decimals."""
    return f"{value:,.2f}"


class Recipient(Protocol):
    """Whom a mail goes to: a user, or a customer's contact (who has no account)."""

    @property
    def id(self) -> int: ...
    @property
    def full_name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def locale(self) -> str | None: ...


# Values for a mail that is queued now (not for one a retried step already queued).
Fresh = Callable[[], Awaitable[dict[str, Any]]]


class StepRecorder:
    """One step of one order, recorded in one session (committed by the caller)."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        now: datetime,
        base_url: str,
        currency: str,
        deliver_mail: bool,
        links: DecisionLinks | None = None,
        time_zone: str = DEFAULT_TIME_ZONE,
    ) -> None:
        self.session = session
        self.links = links
        self.now = now
        self.base_url = base_url.rstrip("/")
        self.currency = currency
        self.deliver_mail = deliver_mail
        # Mails the send_mail activity must deliver; empty when mail is only kept in the outbox.
        self.mail_ids: list[int] = []
        self.opened: list[OpenTodo] = []
        self._totals: dict[tuple[int, str], str] = {}  # (order id, locale) -> formatted total
        self._people: dict[_Assignment, list[User]] = {}  # assignments -> the people they reach
        self._default_zone = time_zone
        self._time_zone: str | None = None  # the company's, read once per step

    async def open_todo(
        self,
        *,
        key: str,
        order: Order,
        workflow_id: str,
        kind: TodoKind,
        assignees: Sequence[Assignee],
        due_in: timedelta | None,
        requested_by_id: int | None = None,
        facts: dict[str, Any] | None = None,
        mail: bool = True,
    ) -> Todo:
        """Open the to-do once per key and mail its people (unless the step's own mail already
        tells them)."""
        todo = await self.session.scalar(_TODO_BY_KEY, {"key": key})
        if todo is None:
            todo = Todo(
                key=key,
                order_id=order.id,
                workflow_id=workflow_id,
                kind=kind.value,
                status=TodoStatus.open.value,
                requested_by_id=requested_by_id,
                created_at=self.now,
                due_at=self.now + due_in if due_in else None,
                facts=facts,
                assignees=[
                    TodoAssignee(
                        user_id=a.user_id,
                        role=a.role.value if a.role else None,
                        department_id=a.department_id,
                        status=TodoStatus.open.value,
                        created_at=self.now,
                    )
                    for a in assignees
                ],
            )
            self.session.add(todo)
            await self.session.flush()
        self.opened.append(OpenTodo(key=key, kind=kind, assignees=list(assignees)))
        if mail:
            await self.mail_todo(todo, order=order, users=await self.people(assignees))
        return todo

    async def mail_todo(
        self,
        todo: Todo,
        *,
        order: Order,
        users: Sequence[User],
        key_suffix: str = "",
        **notes: Any,
    ) -> None:
        """Tell each person about the to-do; an approval's mail also carries their own link to
        decide it from the mail."""
        links = self.links if todo.kind in APPROVAL_KINDS else None
        for user in users:

            async def decide_link(user: User = user) -> dict[str, Any]:
                assert links is not None  # only an approval's mail carries a decide link
                token = await links.issue(
                    self.session, todo_id=todo.id, user_id=user.id, now=self.now
                )
                return {
                    "decide_link": f"{self.base_url}/decide/{token}",
                    "decide_until": self.now + links.lifetime,
                }

            await self.queue_mail(
                key=f"{todo.key}/mail/{user.id}{key_suffix}",
                user=user,
                template="todo_opened",
                order=order,
                what=TODO_KINDS[todo.kind],
                link=f"{self.base_url}/todos/{todo.id}",
                due_at=todo.due_at,
                fresh=decide_link if links is not None else None,
                **notes,
            )

    async def close_todo(
        self, key: str, *, outcome: str, by_user_id: int | None, comment: str | None = None
    ) -> Todo:
        todo = await self.session.scalar(_TODO_BY_KEY, {"key": key})
        if todo is None:
            raise LookupError(f"no to-do {key}")
        if todo.status == TodoStatus.open.value:
            todo.status = TodoStatus.done.value
            todo.outcome = outcome
            todo.comment = comment or None
            todo.completed_at = self.now
            todo.completed_by_id = by_user_id
            await self._close_assignees([todo.id], TodoStatus.done)
            await count_todo_wait(self.session, todo, time_zone=await self.time_zone())
        return todo

    async def cancel_todos(self, todos: Sequence[Todo]) -> None:
        open_ids = [t.id for t in todos if t.status == TodoStatus.open.value]
        if not open_ids:
            return
        await self.session.execute(
            update(Todo)
            .where(Todo.id.in_(open_ids))
            .values(status=TodoStatus.cancelled.value, outcome="cancelled", completed_at=self.now)
        )
        await self._close_assignees(open_ids, TodoStatus.cancelled)

    async def _close_assignees(self, todo_ids: list[int], status: TodoStatus) -> None:
        await self.session.execute(
            update(TodoAssignee)
            .where(TodoAssignee.todo_id.in_(todo_ids))
            .values(status=status.value)
        )

    async def add_event(
        self, *, key: str, order: Order, kind: str, actor_id: int | None, **details: Any
    ) -> None:
        added = await self.session.execute(
            _for_dialect(self.session, _NEW_EVENT),
            {
                "key": key,
                "order_id": order.id,
                "at": self.now,
                "actor_id": actor_id,
                "kind": kind,
                "details": {k: str(v) for k, v in details.items() if v is not None},
            },
        )
        await count_stage_wait(self.session, added, key, order, kind, zone=self.time_zone)

    def set_stage(self, order: Order, stage: Stage) -> None:
        order.stage = stage.value
        order.updated_at = self.now

    async def notify(
        self,
        *,
        key: str,
        users: Sequence[Recipient],
        order: Order,
        event: str,
        comment: str | Said = "",
        with_link: bool = True,
        fresh: Fresh | None = None,
    ) -> None:
        """Tell people of an event of the order; with a link to the order page unless they
        cannot open it (a customer's contact has no account). A comment that is a function is
        said in each recipient's language."""
        for user in users:
            await self.queue_mail(
                key=f"{key}/mail/{user.id}",
                user=user,
                template="order_event",
                order=order,
                what=EVENTS[event],
                link=f"{self.base_url}/orders/{order.number}" if with_link else "",
                comment=comment,
                fresh=fresh,
            )

    async def queue_mail(
        self,
        *,
        key: str,
        user: Recipient,
        template: str,
        order: Order,
        what: str,
        fresh: Fresh | None = None,
        **values: Any,
    ) -> None:
        """Queue the mail once per key. `fresh` gives the values only a new mail needs (a
        single-use link is issued for the mail that carries it, never for a retry)."""
        if fresh is not None:  # a retry must find the mail before it issues another link
            existing = await self.session.scalar(_MAIL_BY_KEY, {"key": key})
            if existing is not None:
                self._deliver(existing)
                return
        if fresh is not None:
            values.update(await fresh())
        locale = user.locale or "en"
        fmt = Formatter(locale, self.currency, await self.time_zone())
        for moment in MAIL_MOMENTS:  # in the company's zone, named: a mail has no page around it
            if moment in values:
                values[moment] = fmt.datetime_with_zone(values[moment]) if values[moment] else ""
        if callable(values.get("comment")):
            values["comment"] = values["comment"](fmt, translations(locale).gettext)
        subject, body = render(
            template,
            locale=locale,
            recipient_name=user.full_name,
            order_number=order.number,
            customer=order.customer.name,
            total=self._total(order, fmt),
            what=translations(locale).gettext(what),
            **values,
        )
        mail_id = await self.session.scalar(
            _for_dialect(self.session, _NEW_MAIL),
            {
                "key": key,
                "to_address": user.email,
                "subject": subject,
                "body": body,
                "created_at": self.now,
            },
        )
        if mail_id is None and self.deliver_mail:  # a retried step: the mail is queued already
            mail_id = await self.session.scalar(_MAIL_BY_KEY, {"key": key})
        self._deliver(mail_id)

    async def time_zone(self) -> str:
        """The company's time zone, which mail shows times in."""
        if self._time_zone is None:
            self._time_zone = await company_time_zone(
                session=self.session, default=self._default_zone
            )
        return self._time_zone

    def _deliver(self, mail_id: int | None) -> None:
        """The send_mail activity delivers it, when mail is delivered at all."""
        if self.deliver_mail and mail_id is not None:
            self.mail_ids.append(mail_id)

    def _total(self, order: Order, fmt: Formatter) -> str:
        key = (order.id, fmt.locale)
        if key not in self._totals:
            self._totals[key] = fmt.money(order.total)
        return self._totals[key]

    async def people(self, assignees: Sequence[Assignee]) -> list[User]:
        """The active people an assignment reaches (looked up once per step)."""
        key = tuple((a.user_id, a.role, a.department_id) for a in assignees)
        if key not in self._people:
            self._people[key] = await self._lookup_people(assignees)
        return self._people[key]

    async def _lookup_people(self, assignees: Sequence[Assignee]) -> list[User]:
        user_ids = [a.user_id for a in assignees if a.user_id is not None]
        roles = [a.role.value for a in assignees if a.role is not None]
        departments = [a.department_id for a in assignees if a.department_id is not None]
        if not (user_ids or roles or departments):
            return []
        result = await self.session.scalars(
            _PEOPLE, {"user_ids": user_ids, "roles": roles, "departments": departments}
        )
        return list(result.unique())
