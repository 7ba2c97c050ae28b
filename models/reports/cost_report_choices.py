"""What the cost variance report can be filtered by: the people who own orders and the
department tree."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.domain import ORDER_ENTRY_ROLES
from models.reports.cost_report import check_may_see_cost_report
from models.tables import Department, User


@dataclass(frozen=True)
class DepartmentChoice:
    id: int
    name: str
    depth: int  # 0 for a top department, 1 for its sub-departments, ...


async def report_owners(*, session: AsyncSession, user: User) -> list[User]:
    """The people who own orders (the owner filter's choices)."""
    check_may_see_cost_report(user)
    query = select(User).where(User.role.in_([r.value for r in ORDER_ENTRY_ROLES]))
    return list((await session.scalars(query.order_by(User.full_name))).unique())


async def report_departments(*, session: AsyncSession, user: User) -> list[DepartmentChoice]:
    """Every department as a tree: each followed by its sub-departments, by name at each
    level (the department filter's choices; one includes those below it)."""
    check_may_see_cost_report(user)
    departments = list(await session.scalars(select(Department).order_by(Department.name)))
    children: dict[int | None, list[Department]] = {}
    for department in departments:
        children.setdefault(department.parent_id, []).append(department)
    choices: list[DepartmentChoice] = []

    def visit(parent_id: int | None, depth: int) -> None:
        for department in children.get(parent_id, []):
            choices.append(DepartmentChoice(department.id, department.name, depth))
            visit(department.id, depth + 1)

    visit(None, 0)
    return choices
