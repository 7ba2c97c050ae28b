"""The demo company: departments, one user per role, customers and products. Seeds once."""

from __future__ import annotations

import asyncio
import secrets
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.db import SessionFactory, create_engine, create_session_factory
from models.passwords import hash_password
from models.tables import Contact, Customer, Department, Product, User
from settings import Settings, get_settings

DEPARTMENTS = [
    # name, parent, manager login
    ("Sales", None, "director"),
    ("East China office", "Sales", "sales_manager"),
    ("North China office", "Sales", "sales_manager2"),
    ("International sales", "Sales", "director"),
    ("Pricing", None, "pricing"),
    ("Business Operations", None, "ops_manager"),
    ("Warehouse", None, "warehouse"),
    ("Service", None, "service"),
    ("Finance", None, "finance"),
    ("Administration", None, "admin"),
]

USERS = [
    # login, full name, role, department, manager login. No language: until a user chooses one in
    # their profile, the pages follow the login page's pick or the browser (web/templating.py).
    ("director", "Zhou Wei", "director", "Sales", None),
    (
        "sales_manager",
        "Li Na",
        "sales_manager",
        "East China office",
        "director",
    ),
    (
        "sales_manager2",
        "Zhao Lei",
        "sales_manager",
        "North China office",
        "director",
    ),
    ("sales", "Wang Fang", "sales", "East China office", "sales_manager"),
    ("sales2", "Chen Jie", "sales", "North China office", "sales_manager2"),
    (
        "follower",
        "Liu Yang",
        "follower",
        "East China office",
        "sales_manager",
    ),
    ("pricing", "Sun Li", "pricing", "Pricing", "director"),
    (
        "ops_manager",
        "Ma Jun",
        "ops_manager",
        "Business Operations",
        "director",
    ),
    ("ops", "Hu Min", "ops", "Business Operations", "ops_manager"),
    ("warehouse", "Guo Qiang", "warehouse", "Warehouse", "ops_manager"),
    ("service", "He Tao", "service", "Service", "ops_manager"),
    ("finance", "Lin Xue", "finance", "Finance", "director"),
    ("admin", "Admin", "admin", "Administration", None),
]

CUSTOMERS = [
    # name, level, region, industry, credit limit, tax number, contact, e-mail, the language of
    # the contact's mail
    (
        "Shanghai Precision Machinery Co.",
        "A",
        "East China",
        "Manufacturing",
        "2000000",
        "91310000MA1FL0001X",
        "Xu Ming",
        "xu.ming@shpm.example.com",
        "en",
    ),
    (
        "Hangzhou Green Foods Ltd.",
        "B",
        "East China",
        "Food",
        "500000",
        "91330100MA2CD0002Y",
        "Yang Ling",
        "yang.ling@hzgf.example.com",
        "zh_CN",  # her mail is written in Simplified Chinese
    ),
    (
        "Beijing Northern Logistics",
        "A",
        "North China",
        "Logistics",
        "1500000",
        "91110000MA0EF0003Z",
        "Qian Hao",
        "qian.hao@bjnl.example.com",
        "en",
    ),
    (
        "Tianjin Port Equipment",
        "C",
        "North China",
        "Equipment",
        "200000",
        "91120000MA0GH0004W",
        "Deng Yu",
        "deng.yu@tjpe.example.com",
        "en",
    ),
    (
        "Saigon Industrial Supply",
        "B",
        "Overseas",
        "Distribution",
        "800000",
        "VN0312345678",
        "Nguyen An",
        "an.nguyen@sis.example.com",
        "en",
    ),
]

PRODUCTS = [
    # code, name, category, unit, list price, standard cost, stock, needs installation
    ("CNC-200", "CNC milling machine CNC-200", "Machines", "set", "380000", "260000", "6", True),
    ("LATHE-50", "Precision lathe L-50", "Machines", "set", "120000", "84000", "10", True),
    ("PUMP-10", "Hydraulic pump HP-10", "Components", "pcs", "8500", "5100", "120", False),
    ("VALVE-3", "Control valve CV-3", "Components", "pcs", "1200", "650", "800", False),
    ("SENSOR-7", "Pressure sensor PS-7", "Components", "pcs", "450", "210", "2000", False),
    ("BELT-90", "Conveyor belt CB-90 (per metre)", "Consumables", "m", "95", "52", "5000", False),
    ("OIL-20", "Hydraulic oil HO-20", "Consumables", "barrel", "1600", "1100", "300", False),
    ("ROBOT-1", "Palletising robot PR-1", "Machines", "set", "520000", "390000", "3", True),
]


def demo_password(settings: Settings) -> str:
    """O2C_DEMO_PASSWORD when set, else one generated once and kept in .data."""
    if settings.demo_password:
        return settings.demo_password
    path = settings.data_dir / "demo_password"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(9))
    return path.read_text().strip()


async def seed_demo(session: AsyncSession, password: str) -> bool:
    """Create the demo company unless there are users already; True when it seeded."""
    if await session.scalar(select(func.count()).select_from(User)):
        return False
    departments: dict[str, Department] = {}
    for name, parent, _ in DEPARTMENTS:
        department = Department(name=name, parent_id=departments[parent].id if parent else None)
        session.add(department)
        await session.flush()
        departments[name] = department
    password_hash = hash_password(password)
    users: dict[str, User] = {}
    for login, full_name, role, department_name, manager in USERS:
        user = User(
            username=login,
            full_name=full_name,
            email=f"{login}@o2c.example.com",
            password_hash=password_hash,
            role=role,
            department_id=departments[department_name].id,
            manager_id=users[manager].id if manager else None,
            active=True,
        )
        session.add(user)
        await session.flush()
        users[login] = user
    for name, _, manager in DEPARTMENTS:
        departments[name].manager_id = users[manager].id
    for name, level, region, industry, limit, tax, contact, email, language in CUSTOMERS:
        session.add(
            Customer(
                name=name,
                level=level,
                region=region,
                industry=industry,
                credit_limit=Decimal(limit),
                tax_number=tax,
                invoice_title=name,
                address=f"{region}, {name}",
                contacts=[Contact(name=contact, email=email, language=language)],
            )
        )
    for code, name, category, unit, price, cost, stock, install in PRODUCTS:
        session.add(
            Product(
                code=code,
                name=name,
                category=category,
                unit=unit,
                list_price=Decimal(price),
                standard_cost=Decimal(cost),
                stock_on_hand=Decimal(stock),
                reserved=Decimal("0"),
                needs_installation=install,
            )
        )
    await session.commit()
    return True


async def seed(settings: Settings, session_factory: SessionFactory | None = None) -> str:
    engine = None
    if session_factory is None:
        engine = create_engine(settings.database_url)
        session_factory = create_session_factory(engine)
    password = demo_password(settings)
    async with session_factory() as session:
        created = await seed_demo(session, password)
    if engine is not None:
        await engine.dispose()
    lines = ["Demo company " + ("seeded." if created else "already there (not seeded again).")]
    lines.append("Logins: " + ", ".join(u[0] for u in USERS))
    lines.append(f"Password for every demo login: {password}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(asyncio.run(seed(get_settings())))  # noqa: T201 - a command's output
