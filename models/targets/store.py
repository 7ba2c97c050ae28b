"""Who sets whose targets (a sales manager their department tree and its people, a director
everyone), a month's targets of that tree, and saving a list of targets all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models.domain import ORDER_ENTRY_ROLES, Role
from models.queries import managed_department_ids
from models.reports.sums import sum_as_money
from models.tables import Department, Target, User
from models.targets.rules import (
    BELOW_PEOPLE,
    DepartmentNode,
    TargetRefusal,
    default_targets,
)

TARGET_SETTERS = frozenset({Role.sales_manager, Role.director})
NOT_FOR_YOUR_ROLE = N_(
    "Targets are set by sales managers for their department tree and by directors."
)
PERSON_OUTSIDE = N_("%(name)s is not in your department tree: you cannot set their target.")
DEPARTMENT_OUTSIDE = N_("%(name)s is not in your department tree: you cannot set its target.")
NO_SUCH_PERSON = N_("There is no person %(name)s.")
NO_SUCH_DEPARTMENT = N_("There is no department %(name)s.")
GIVEN_TWICE = N_("This target is given twice.")


@dataclass(frozen=True)
class TargetEntry:
    """One target to save: a person's (`user_id`) or a department's (`department_id`); an
    amount of None removes it (a department then has its default again)."""

    month: str
    measure: str
    amount: Decimal | None
    user_id: int | None = None
    department_id: int | None = None

    @property
    def subject(self) -> tuple[str, str, str, int]:
        if self.user_id is not None:
            return (self.month, self.measure, "person", self.user_id)
        return (self.month, self.measure, "department", self.department_id or 0)


class TargetsRefused(Exception):
    """Nothing was saved: each refusal with the index of the entry it is about (None: not one
    entry's, e.g. a department whose people's targets went above its own)."""

    def __init__(self, refusals: list[tuple[int | None, TargetRefusal]]) -> None:
        super().__init__("; ".join(str(r) for _, r in refusals))
        self.refusals = refusals

    @property
    def status(self) -> int:
        return 403 if any(r.status == 403 for _, r in self.refusals) else 422


@dataclass
class TargetTree:
    """The departments whose targets a user sets, depth first, and their people."""

    departments: list[Department]
    depth: dict[int, int]
    people: dict[int, list[User]]
    all_departments: list[Department] = field(default_factory=list)

    @property
    def person_ids(self) -> set[int]:
        return {p.id for people in self.people.values() for p in people}

    @property
    def department_ids(self) -> set[int]:
        return {d.id for d in self.departments}


def may_set_targets(user: User) -> bool:
    return Role(user.role) in TARGET_SETTERS


def check_may_set_targets(user: User) -> None:
    if not may_set_targets(user):
        raise TargetRefusal(NOT_FOR_YOUR_ROLE, status=403)


async def target_tree(*, session: AsyncSession, user: User) -> TargetTree:
    """A sales manager's departments (those they manage, their own) with every department below,
    a director's every department with people who enter orders; depth first, by name."""
    check_may_set_targets(user)
    everything = list(await session.scalars(select(Department).order_by(Department.name)))
    people = list(
        await session.scalars(
            select(User)
            .where(User.role.in_([r.value for r in ORDER_ENTRY_ROLES]), User.active.is_(True))
            .order_by(User.full_name)
        )
    )
    by_department: dict[int, list[User]] = {}
    for person in people:
        by_department.setdefault(person.department_id, []).append(person)
    children: dict[int | None, list[Department]] = {}
    for department in everything:
        children.setdefault(department.parent_id, []).append(department)
    if Role(user.role) == Role.director:
        roots = children.get(None, [])
    else:
        mine = {*await managed_department_ids(session=session, user=user), user.department_id}
        roots = [d for d in everything if d.id in mine and not _below(d, mine, everything)]
    tree = TargetTree([], {}, {}, everything)
    for root in roots:
        _walk(root, 0, children, by_department, tree)
    if Role(user.role) == Role.director:
        _drop_peopleless(tree, children)
    return tree


def _below(department: Department, ids: set[int], everything: list[Department]) -> bool:
    """Whether a department lies below another of `ids` (so it is not a root of its own)."""
    parents = {d.id: d.parent_id for d in everything}
    parent = parents.get(department.id)
    while parent is not None:
        if parent in ids:
            return True
        parent = parents.get(parent)
    return False


def _walk(
    department: Department,
    depth: int,
    children: dict[int | None, list[Department]],
    people: dict[int, list[User]],
    tree: TargetTree,
) -> None:
    tree.departments.append(department)
    tree.depth[department.id] = depth
    tree.people[department.id] = people.get(department.id, [])
    for child in children.get(department.id, []):
        _walk(child, depth + 1, children, people, tree)


def _drop_peopleless(tree: TargetTree, children: dict[int | None, list[Department]]) -> None:
    """Leave out the departments with nobody who enters orders in their whole tree (pricing,
    the warehouse, ...): they have no targets."""

    def staffed(department: Department) -> bool:
        return bool(tree.people.get(department.id)) or any(
            staffed(c) for c in children.get(department.id, [])
        )

    tree.departments = [d for d in tree.departments if staffed(d)]


@dataclass
class MonthTargets:
    """A month's targets: each person's, each department's own (`explicit`) and its default
    (the sum of its people's and sub-departments'), per measure."""

    month: str
    people: dict[tuple[str, int], Decimal]
    explicit: dict[tuple[str, int], Decimal]
    defaults: dict[str, dict[int, Decimal]]

    def department(self, measure: str, department_id: int) -> Decimal:
        """The department's target: its own when set, else its default."""
        own = self.explicit.get((measure, department_id))
        return own if own is not None else self.defaults[measure].get(department_id, ZERO)


ZERO = Decimal("0.00")


async def month_targets(
    *, session: AsyncSession, month: str, departments: Sequence[Department]
) -> MonthTargets:
    """The month's targets over the whole company (a department's default counts every
    sub-department, in one's tree or not)."""
    rows = list(await session.scalars(select(Target).where(Target.month == month)))
    people = {(t.measure, t.user_id): t.amount for t in rows if t.user_id is not None}
    explicit = {(t.measure, t.department_id): t.amount for t in rows if t.department_id}
    homes: dict[int, int] = {
        user_id: home
        for user_id, home in await session.execute(select(User.id, User.department_id))
    }
    nodes = [DepartmentNode(d.id, d.parent_id) for d in departments]
    defaults: dict[str, dict[int, Decimal]] = {}
    for measure in ("confirmed", "collected"):
        sums: dict[int, Decimal] = {}
        for (m, user_id), amount in people.items():
            if m == measure:
                home = homes[user_id]
                sums[home] = sums.get(home, ZERO) + sum_as_money(amount)
        own = {d: sum_as_money(a) for (m, d), a in explicit.items() if m == measure}
        defaults[measure] = default_targets(nodes, sums, own)
    return MonthTargets(
        month=month,
        people={k: sum_as_money(v) for k, v in people.items()},
        explicit={k: sum_as_money(v) for k, v in explicit.items()},
        defaults=defaults,
    )


async def save_targets(
    *, session: AsyncSession, user: User, entries: Sequence[TargetEntry], now: datetime
) -> None:
    """Save every entry or none: each must be in the user's tree and given once, and no
    department's own target may end up below the sum of its people's and sub-departments'."""
    tree = await target_tree(session=session, user=user)
    refusals = await _out_of_tree(session, tree, entries)
    if refusals:
        raise TargetsRefused(refusals)
    for entry in entries:
        await _apply(session, user, entry, now)
    await session.flush()
    refusals = await _below_people(session, tree, entries)
    if refusals:
        await session.rollback()
        raise TargetsRefused(refusals)
    await session.commit()


async def _out_of_tree(
    session: AsyncSession, tree: TargetTree, entries: Sequence[TargetEntry]
) -> list[tuple[int | None, TargetRefusal]]:
    refusals: list[tuple[int | None, TargetRefusal]] = []
    seen: set[tuple[str, str, str, int]] = set()
    people, departments = tree.person_ids, tree.department_ids
    for index, entry in enumerate(entries):
        if entry.subject in seen:
            refusals.append((index, TargetRefusal(GIVEN_TWICE)))
        seen.add(entry.subject)
        if entry.user_id is not None and entry.user_id not in people:
            person = await session.get(User, entry.user_id)
            refusals.append((index, _outside(PERSON_OUTSIDE, NO_SUCH_PERSON, person, entry)))
        if entry.department_id is not None and entry.department_id not in departments:
            found = await session.get(Department, entry.department_id)
            refusals.append((index, _outside(DEPARTMENT_OUTSIDE, NO_SUCH_DEPARTMENT, found, entry)))
    return refusals


def _outside(
    outside: str, unknown: str, found: User | Department | None, entry: TargetEntry
) -> TargetRefusal:
    if found is None:
        return TargetRefusal(unknown, name=str(entry.user_id or entry.department_id))
    name = found.full_name if isinstance(found, User) else found.name
    return TargetRefusal(outside, status=403, name=name)


async def _apply(session: AsyncSession, user: User, entry: TargetEntry, now: datetime) -> None:
    """Replace the person's or department's target of that month and measure."""
    whose = (
        Target.user_id == entry.user_id
        if entry.user_id is not None
        else Target.department_id == entry.department_id
    )
    await session.execute(
        delete(Target).where(Target.month == entry.month, Target.measure == entry.measure, whose)
    )
    if entry.amount is not None:
        session.add(
            Target(
                month=entry.month,
                measure=entry.measure,
                user_id=entry.user_id,
                department_id=entry.department_id,
                amount=entry.amount,
                set_by_id=user.id,
                set_at=now,
            )
        )


async def _below_people(
    session: AsyncSession, tree: TargetTree, entries: Sequence[TargetEntry]
) -> list[tuple[int | None, TargetRefusal]]:
    """The departments whose own target is now below their default, each said once, at the
    entry that set it when there is one."""
    refusals: list[tuple[int | None, TargetRefusal]] = []
    names = {d.id: d.name for d in tree.all_departments}
    for month in sorted({e.month for e in entries}):
        targets = await month_targets(
            session=session, month=month, departments=tree.all_departments
        )
        for (measure, department_id), own in sorted(targets.explicit.items()):
            minimum = targets.defaults[measure].get(department_id, ZERO)
            if own >= minimum:
                continue
            at = next(
                (
                    i
                    for i, e in enumerate(entries)
                    if (e.month, e.measure, e.department_id) == (month, measure, department_id)
                ),
                None,
            )
            refusal = TargetRefusal(
                BELOW_PEOPLE[measure], department=names[department_id], minimum=f"{minimum:,}"
            )
            refusals.append((at, refusal))
    return refusals
