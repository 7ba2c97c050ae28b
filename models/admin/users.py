"""Administration of users: the list, and creating, changing and (de)activating a user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from i18n import N_
from models.admin.checks import AdminRefusal, at_most, chain_reaches, is_email, taken_by_another
from models.domain import Role
from models.passwords import hash_password
from models.queries.sorting import SortOrder, sorted_rows, text_key
from models.tables import Department, User

MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class UserChange:
    """A user as entered: texts trimmed, the password as typed."""

    username: str
    full_name: str
    email: str
    role: str
    department_id: int | None
    manager_id: int | None
    active: bool
    password: str


@dataclass
class UserRow:
    user: User
    department_name: str
    manager_name: str | None


# The user list's columns a person may sort by (a short list, sorted in Python).
USER_SORTS: dict[str, Callable[[UserRow], Any]] = {
    "username": lambda row: text_key(row.user.username),
    "name": lambda row: text_key(row.user.full_name),
    "role": lambda row: row.user.role,
    "department": lambda row: text_key(row.department_name),
    "manager": lambda row: text_key(row.manager_name),
    "active": lambda row: not row.user.active,  # the active first
}


async def list_users(*, session: AsyncSession, sort: SortOrder | None = None) -> list[UserRow]:
    """Every user, by username unless sorted by another column."""
    manager = aliased(User)
    rows = await session.execute(
        select(User, Department.name, manager.full_name)
        .join(Department, User.department_id == Department.id)
        .outerjoin(manager, User.manager_id == manager.id)
        .order_by(User.username)
    )
    found = [UserRow(user, department, boss) for user, department, boss in rows.unique()]
    return sorted_rows(found, sort or SortOrder(), USER_SORTS)


async def get_user(*, session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def all_users(*, session: AsyncSession) -> list[User]:
    """Everyone who can be picked as a manager, by name."""
    return list(await session.scalars(select(User).order_by(User.full_name)))


async def _check_identity(session: AsyncSession, user: User | None, change: UserChange) -> None:
    """The username (unique, ignoring case), the full name and the e-mail address."""
    username = change.username
    if not username:
        raise AdminRefusal(N_("Enter a username."))
    if len(username) > 50 or any(c.isspace() for c in username):
        raise AdminRefusal(N_("A username has at most 50 characters and no spaces."))
    editing_id = user.id if user is not None else None
    if await taken_by_another(session, User.username, User.id, username, editing_id):
        raise AdminRefusal(N_("The username %(username)s is already taken."), username=username)
    if not at_most(change.full_name, 100, N_("A name has at most %(max)s characters.")):
        raise AdminRefusal(N_("Enter the person's full name."))
    if not is_email(change.email):
        raise AdminRefusal(N_("Enter a valid e-mail address (like name@example.com)."))


async def _checked_department_id(session: AsyncSession, change: UserChange) -> int:
    """The role (one of the list) and the department's id (one that exists)."""
    if change.role not in Role.__members__:
        raise AdminRefusal(N_("Choose a role from the list."))
    department_id = change.department_id
    if department_id is None or await session.get(Department, department_id) is None:
        raise AdminRefusal(N_("Choose a department from the list."))
    return department_id


async def _check_manager(session: AsyncSession, user: User | None, manager_id: int) -> None:
    """The manager exists, and is neither the user nor someone who reports to them."""
    manager = await session.get(User, manager_id)
    if manager is None:
        raise AdminRefusal(N_("Choose a manager from the list."))
    if user is None:
        return
    if manager.id == user.id:
        raise AdminRefusal(N_("A user cannot be their own manager."))
    managers = dict((await session.execute(select(User.id, User.manager_id))).all())
    if chain_reaches(managers, manager.id, user.id):
        raise AdminRefusal(
            N_("%(manager)s already reports to this user; managers cannot go round in a circle."),
            manager=manager.full_name,
        )


def _check_not_deactivating_self(actor: User, user: User | None, active: bool) -> None:
    if not active and user is not None and user.id == actor.id:
        raise AdminRefusal(N_("You cannot deactivate yourself."))


def _check_own_account_and_password(actor: User, user: User | None, change: UserChange) -> None:
    """An administrator keeps their own account active and their role; a new user, or a
    password being changed, needs MIN_PASSWORD_LENGTH characters."""
    _check_not_deactivating_self(actor, user, change.active)
    if user is not None and user.id == actor.id and change.role != Role.admin.value:
        raise AdminRefusal(N_("You cannot take away your own administrator role."))
    password = change.password
    if (user is None or password) and len(password) < MIN_PASSWORD_LENGTH:
        raise AdminRefusal(
            N_("The password needs at least %(min)s characters."), min=MIN_PASSWORD_LENGTH
        )


async def save_user(
    *, session: AsyncSession, actor: User, user: User | None, change: UserChange
) -> User:
    """Create a user (`user` None) or change one. A blank password on an edit keeps the old one."""
    await _check_identity(session, user, change)
    department_id = await _checked_department_id(session, change)
    if change.manager_id is not None:
        await _check_manager(session, user, change.manager_id)
    _check_own_account_and_password(actor, user, change)

    if user is None:
        user = User(password_hash=hash_password(change.password))
        session.add(user)
    elif change.password:
        user.password_hash = hash_password(change.password)
    user.username = change.username
    user.full_name = change.full_name
    user.email = change.email
    user.role = change.role
    user.department_id = department_id
    user.manager_id = change.manager_id
    user.active = change.active
    await session.commit()
    return user


async def set_user_active(*, session: AsyncSession, actor: User, user: User, active: bool) -> User:
    _check_not_deactivating_self(actor, user, active)
    user.active = active
    if not active:  # their sessions and tokens end with it, and stay ended if re-activated
        user.session_version += 1
    await session.commit()
    return user
