"""Administration of departments: the tree, and creating or changing a department."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from i18n import N_
from models.admin.checks import AdminRefusal, at_most, chain_reaches, taken_by_another
from models.tables import Department, User


@dataclass(frozen=True)
class DepartmentChange:
    name: str
    parent_id: int | None
    manager_id: int | None


@dataclass
class DepartmentRow:
    department: Department
    depth: int
    parent_name: str | None
    manager_name: str | None


async def list_departments(*, session: AsyncSession) -> list[DepartmentRow]:
    """The department tree, depth first, siblings by name."""
    manager = aliased(User)
    rows = (
        await session.execute(
            select(Department, manager.full_name)
            .outerjoin(manager, Department.manager_id == manager.id)
            .order_by(Department.name)
        )
    ).all()
    by_id = {d.id: d for d, _ in rows}
    managers = {d.id: name for d, name in rows}
    children: dict[int | None, list[Department]] = {}
    for department, _ in rows:
        parent_id = department.parent_id if department.parent_id in by_id else None
        children.setdefault(parent_id, []).append(department)
    tree: list[DepartmentRow] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for department in children.get(parent, []):
            if department.id in seen:
                continue
            seen.add(department.id)
            parent_name = by_id[parent].name if parent is not None else None
            tree.append(DepartmentRow(department, depth, parent_name, managers[department.id]))
            walk(department.id, depth + 1)

    walk(None, 0)
    # A cycle already in the data (it cannot be made here) would hide its members: show them flat.
    for department, _ in rows:
        if department.id not in seen:
            parent = by_id.get(department.parent_id or -1)
            tree.append(
                DepartmentRow(
                    department, 0, parent.name if parent else None, managers[department.id]
                )
            )
    return tree


async def all_departments(*, session: AsyncSession) -> list[Department]:
    return list(await session.scalars(select(Department).order_by(Department.name)))


async def get_department(*, session: AsyncSession, department_id: int) -> Department | None:
    return await session.get(Department, department_id)


async def _check_parent(
    session: AsyncSession, department: Department | None, parent_id: int
) -> None:
    """The parent exists and is neither the department nor one of its sub-departments."""
    parents = dict((await session.execute(select(Department.id, Department.parent_id))).all())
    if parent_id not in parents:
        raise AdminRefusal(N_("Choose a parent department from the list."))
    if department is not None and chain_reaches(parents, parent_id, department.id):
        raise AdminRefusal(
            N_("A department cannot sit under itself or one of its own sub-departments.")
        )


async def save_department(
    *, session: AsyncSession, department: Department | None, change: DepartmentChange
) -> Department:
    name = at_most(change.name, 100, N_("A department name has at most %(max)s characters."))
    if not name:
        raise AdminRefusal(N_("Enter the department's name."))
    editing_id = department.id if department is not None else None
    if await taken_by_another(session, Department.name, Department.id, name, editing_id):
        raise AdminRefusal(N_("There is already a department called %(name)s."), name=name)
    if change.parent_id is not None:
        await _check_parent(session, department, change.parent_id)
    if change.manager_id is not None and await session.get(User, change.manager_id) is None:
        raise AdminRefusal(N_("Choose a manager from the list."))

    if department is None:
        department = Department()
        session.add(department)
    department.name = name
    department.parent_id = change.parent_id
    department.manager_id = change.manager_id
    await session.commit()
    return department
