"""Administration: the rules and the SQL behind editing users, departments and master data.

Each `save_*` function takes the values a person entered (web.forms.admin reads them from the
form), checks every rule before it writes anything, and either commits the whole change or raises
`AdminRefusal` with a message for the person, leaving the database as it was. An id chosen from a
list is None when none was chosen; 0, which no row has, stands for a choice that named no row.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from i18n import N_
from models.domain import Refusal, Role
from models.passwords import hash_password
from models.tables import Contact, Customer, Department, OutboxMail, Product, User

MIN_PASSWORD_LENGTH = 8
CUSTOMER_LEVELS = ("A", "B", "C", "D")
MAIL_PAGE_SIZE = 50
# Deliberately plain: one @, no spaces, a dotted domain. Mail servers decide the rest.
_EMAIL = re.compile(
    r"^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


class AdminRefusal(Refusal):
    """An admin edit that breaks a rule (its message marked with N_ for the catalog)."""


def is_email(value: str) -> bool:
    return len(value) <= 200 and bool(_EMAIL.match(value))


def _at_most(value: str, max_length: int, too_long: str) -> str:
    if len(value) > max_length:
        raise AdminRefusal(too_long, max=max_length)
    return value


def plain_number(number: Decimal) -> str:
    """A stored number as a person would type it back: 6 not 6.000, 1200.50 as is."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Users ------------------------------------------------------------------------------------------


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


async def list_users(*, session: AsyncSession) -> list[UserRow]:
    manager = aliased(User)
    rows = await session.execute(
        select(User, Department.name, manager.full_name)
        .join(Department, User.department_id == Department.id)
        .outerjoin(manager, User.manager_id == manager.id)
        .order_by(User.username)
    )
    return [UserRow(user, department, boss) for user, department, boss in rows.unique()]


async def get_user(*, session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def all_users(*, session: AsyncSession) -> list[User]:
    """Everyone who can be picked as a manager, by name."""
    return list(await session.scalars(select(User).order_by(User.full_name)))


async def _manager_chain_reaches(session: AsyncSession, start: User, target_id: int) -> bool:
    """Whether following managers up from `start` arrives at `target_id`."""
    managers = dict((await session.execute(select(User.id, User.manager_id))).all())
    seen: set[int] = set()
    current: int | None = start.id
    while current is not None and current not in seen:
        if current == target_id:
            return True
        seen.add(current)
        current = managers.get(current)
    return False


async def save_user(
    *, session: AsyncSession, actor: User, user: User | None, change: UserChange
) -> User:
    """Create a user (`user` None) or change one. A blank password on an edit keeps the old one."""
    username = change.username
    if not username:
        raise AdminRefusal(N_("Enter a username."))
    if len(username) > 50 or any(c.isspace() for c in username):
        raise AdminRefusal(N_("A username has at most 50 characters and no spaces."))
    taken = await session.scalar(
        select(User.id).where(func.lower(User.username) == username.lower())
    )
    if taken is not None and (user is None or taken != user.id):
        raise AdminRefusal(N_("The username %(username)s is already taken."), username=username)
    full_name = _at_most(change.full_name, 100, N_("A name has at most %(max)s characters."))
    if not full_name:
        raise AdminRefusal(N_("Enter the person's full name."))
    email = change.email
    if not is_email(email):
        raise AdminRefusal(N_("Enter a valid e-mail address (like name@example.com)."))
    if change.role not in Role.__members__:
        raise AdminRefusal(N_("Choose a role from the list."))
    department_id = change.department_id
    if department_id is None or await session.get(Department, department_id) is None:
        raise AdminRefusal(N_("Choose a department from the list."))
    manager: User | None = None
    if change.manager_id is not None:
        manager = await session.get(User, change.manager_id)
        if manager is None:
            raise AdminRefusal(N_("Choose a manager from the list."))
        if user is not None and manager.id == user.id:
            raise AdminRefusal(N_("A user cannot be their own manager."))
        if user is not None and await _manager_chain_reaches(session, manager, user.id):
            raise AdminRefusal(
                N_(
                    "%(manager)s already reports to this user; managers cannot go round in a "
                    "circle."
                ),
                manager=manager.full_name,
            )
    if user is not None and user.id == actor.id:
        if not change.active:
            raise AdminRefusal(N_("You cannot deactivate yourself."))
        if change.role != Role.admin.value:
            raise AdminRefusal(N_("You cannot take away your own administrator role."))
    password = change.password
    if (user is None or password) and len(password) < MIN_PASSWORD_LENGTH:
        raise AdminRefusal(
            N_("The password needs at least %(min)s characters."), min=MIN_PASSWORD_LENGTH
        )

    if user is None:
        user = User(password_hash=hash_password(password))
        session.add(user)
    elif password:
        user.password_hash = hash_password(password)
    user.username = username
    user.full_name = full_name
    user.email = email
    user.role = change.role
    user.department_id = department_id
    user.manager_id = manager.id if manager else None
    user.active = change.active
    await session.commit()
    return user


async def set_user_active(*, session: AsyncSession, actor: User, user: User, active: bool) -> User:
    if not active and user.id == actor.id:
        raise AdminRefusal(N_("You cannot deactivate yourself."))
    user.active = active
    if not active:  # their sessions and tokens end with it, and stay ended if re-activated
        user.session_version += 1
    await session.commit()
    return user


# Departments ------------------------------------------------------------------------------------


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


async def save_department(
    *, session: AsyncSession, department: Department | None, change: DepartmentChange
) -> Department:
    name = _at_most(change.name, 100, N_("A department name has at most %(max)s characters."))
    if not name:
        raise AdminRefusal(N_("Enter the department's name."))
    taken = await session.scalar(
        select(Department.id).where(func.lower(Department.name) == name.lower())
    )
    if taken is not None and (department is None or taken != department.id):
        raise AdminRefusal(N_("There is already a department called %(name)s."), name=name)
    parent_id: int | None = None
    if change.parent_id is not None:
        parent_id = change.parent_id
        parents = dict((await session.execute(select(Department.id, Department.parent_id))).all())
        if parent_id not in parents:
            raise AdminRefusal(N_("Choose a parent department from the list."))
        if department is not None:
            seen: set[int] = set()
            current: int | None = parent_id
            while current is not None and current not in seen:
                if current == department.id:
                    raise AdminRefusal(
                        N_(
                            "A department cannot sit under itself or one of its own "
                            "sub-departments."
                        )
                    )
                seen.add(current)
                current = parents.get(current)
    manager_id: int | None = None
    if change.manager_id is not None:
        manager_id = change.manager_id
        if await session.get(User, manager_id) is None:
            raise AdminRefusal(N_("Choose a manager from the list."))

    if department is None:
        department = Department()
        session.add(department)
    department.name = name
    department.parent_id = parent_id
    department.manager_id = manager_id
    await session.commit()
    return department


# Customers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactChange:
    """A contact as entered; `id` is an existing contact's (None for a new one)."""

    id: int | None
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class CustomerChange:
    """A customer as entered; the credit limit None when it is not a number."""

    name: str
    level: str
    region: str
    industry: str
    credit_limit: Decimal | None
    tax_number: str
    invoice_title: str
    address: str
    contacts: list[ContactChange]


async def list_customers(*, session: AsyncSession) -> list[Customer]:
    return list(
        await session.scalars(
            select(Customer).options(selectinload(Customer.contacts)).order_by(Customer.name)
        )
    )


async def get_customer(*, session: AsyncSession, customer_id: int) -> Customer | None:
    return await session.scalar(
        select(Customer).where(Customer.id == customer_id).options(selectinload(Customer.contacts))
    )


async def save_customer(
    *, session: AsyncSession, customer: Customer | None, change: CustomerChange
) -> Customer:
    """Create or change a customer with its contacts. Contacts keep their ids when edited; a
    contact left out is removed."""
    name = _at_most(change.name, 200, N_("A customer name has at most %(max)s characters."))
    if not name:
        raise AdminRefusal(N_("Enter the customer's name."))
    taken = await session.scalar(
        select(Customer.id).where(func.lower(Customer.name) == name.lower())
    )
    if taken is not None and (customer is None or taken != customer.id):
        raise AdminRefusal(N_("There is already a customer called %(name)s."), name=name)
    if change.level not in CUSTOMER_LEVELS:
        raise AdminRefusal(N_("Choose a customer level from the list."))
    credit_limit = change.credit_limit
    if credit_limit is None or credit_limit < 0:
        raise AdminRefusal(
            N_("Enter the credit limit as an amount of 0 or more, with at most two decimals.")
        )
    region = _at_most(change.region, 50, N_("A region has at most %(max)s characters."))
    industry = _at_most(change.industry, 50, N_("An industry has at most %(max)s characters."))
    tax_number = _at_most(change.tax_number, 50, N_("A tax number has at most %(max)s characters."))
    invoice_title = _at_most(
        change.invoice_title, 200, N_("An invoice title has at most %(max)s characters.")
    )
    address = _at_most(change.address, 300, N_("An address has at most %(max)s characters."))
    contacts: list[tuple[int | None, str, str, str]] = []
    for row in change.contacts:
        contact_name = _at_most(
            row.name, 100, N_("A contact's name has at most %(max)s characters.")
        )
        if not contact_name:
            raise AdminRefusal(N_("Every contact needs a name."))
        email = row.email
        if not is_email(email):
            raise AdminRefusal(
                N_("Enter a valid e-mail address for %(contact)s (like name@example.com)."),
                contact=contact_name,
            )
        phone = _at_most(row.phone, 50, N_("A phone number has at most %(max)s characters."))
        contacts.append((row.id, contact_name, email, phone))
    if not contacts:
        raise AdminRefusal(N_("Add at least one contact with a name and an e-mail address."))

    if customer is None:
        customer = Customer(contacts=[])
        session.add(customer)
    customer.name = name
    customer.level = change.level
    customer.region = region
    customer.industry = industry
    customer.credit_limit = credit_limit
    customer.tax_number = tax_number
    customer.invoice_title = invoice_title
    customer.address = address
    existing = {c.id: c for c in customer.contacts}
    kept: list[Contact] = []
    for contact_id, contact_name, email, phone in contacts:
        contact = existing.pop(contact_id, None) if contact_id is not None else None
        if contact is None:
            contact = Contact(name=contact_name, email=email, phone=phone)
        contact.name, contact.email, contact.phone = contact_name, email, phone
        kept.append(contact)
    customer.contacts = kept
    await session.commit()
    return customer


# Products ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductChange:
    """A product as entered; a figure None when it is not a number."""

    code: str
    name: str
    category: str
    unit: str
    list_price: Decimal | None
    standard_cost: Decimal | None
    stock_on_hand: Decimal | None
    needs_installation: bool
    active: bool
    # The stock the form showed (None when unknown): a stock movement since is not overwritten.
    stock_on_hand_was: Decimal | None


async def list_products(*, session: AsyncSession) -> list[Product]:
    return list(await session.scalars(select(Product).order_by(Product.code)))


async def get_product(*, session: AsyncSession, product_id: int) -> Product | None:
    return await session.get(Product, product_id)


class StockMoved(AdminRefusal):
    """The product's stock or reservations changed after the form was loaded."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "The stock of this product changed while you were editing. Check the figures "
                "and save again."
            )
        )


async def save_product(
    *, session: AsyncSession, product: Product | None, change: ProductChange
) -> Product:
    code = _at_most(change.code, 50, N_("A product code has at most %(max)s characters."))
    if not code:
        raise AdminRefusal(N_("Enter the product code."))
    taken = await session.scalar(select(Product.id).where(func.lower(Product.code) == code.lower()))
    if taken is not None and (product is None or taken != product.id):
        raise AdminRefusal(N_("There is already a product with code %(code)s."), code=code)
    name = _at_most(change.name, 200, N_("A product name has at most %(max)s characters."))
    if not name:
        raise AdminRefusal(N_("Enter the product's name."))
    category = _at_most(change.category, 50, N_("A category has at most %(max)s characters."))
    unit = _at_most(change.unit, 20, N_("A unit has at most %(max)s characters."))
    if not unit:
        raise AdminRefusal(N_("Enter the unit the product is sold in (pcs, set, m, …)."))
    list_price = change.list_price
    if list_price is None or list_price <= 0:
        raise AdminRefusal(
            N_("Enter the list price as an amount above 0, with at most two decimals.")
        )
    standard_cost = change.standard_cost
    if standard_cost is None or standard_cost <= 0:
        raise AdminRefusal(
            N_("Enter the standard cost as an amount above 0, with at most two decimals.")
        )
    stock = change.stock_on_hand
    if stock is None or stock < 0:
        raise AdminRefusal(
            N_("Enter the stock on hand as a quantity of 0 or more, with at most three decimals.")
        )
    reserved = product.reserved if product is not None else Decimal("0")
    if product is not None:
        was = change.stock_on_hand_was
        if was is not None and was != product.stock_on_hand:
            raise StockMoved()
    if stock < reserved:
        raise AdminRefusal(
            N_(
                "The stock on hand cannot be less than the %(reserved)s already reserved for "
                "confirmed orders."
            ),
            reserved=plain_number(reserved),
        )
    values = {
        "code": code,
        "name": name,
        "category": category,
        "unit": unit,
        "list_price": list_price,
        "standard_cost": standard_cost,
        "stock_on_hand": stock,
        "needs_installation": change.needs_installation,
        "active": change.active,
    }
    if product is None:
        product = Product(reserved=Decimal("0"), **values)
        session.add(product)
        await session.commit()
        return product
    # Written only if stock and reservations are still what these checks saw (a conditional
    # UPDATE), so a concurrent reservation or dispatch is never overwritten.
    result = await session.execute(
        update(Product)
        .where(
            Product.id == product.id,
            Product.stock_on_hand == product.stock_on_hand,
            Product.reserved == product.reserved,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE's result is a CursorResult; Session.execute's signature only says Result.
    if cast("CursorResult[Any]", result).rowcount != 1:
        await session.rollback()
        raise StockMoved()
    await session.commit()
    await session.refresh(product)
    return product


# The mail outbox --------------------------------------------------------------------------------


@dataclass
class OutboxPage:
    mails: list[OutboxMail]
    page: int
    pages: int
    total: int


async def list_outbox(*, session: AsyncSession, page: int = 1) -> OutboxPage:
    """Newest first, MAIL_PAGE_SIZE to a page."""
    total = await session.scalar(select(func.count()).select_from(OutboxMail)) or 0
    pages = max(1, math.ceil(total / MAIL_PAGE_SIZE))
    page = min(max(1, page), pages)
    mails = await session.scalars(
        select(OutboxMail)
        .order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
        .limit(MAIL_PAGE_SIZE)
        .offset((page - 1) * MAIL_PAGE_SIZE)
    )
    return OutboxPage(list(mails), page, pages, total)


async def get_mail(*, session: AsyncSession, mail_id: int) -> OutboxMail | None:
    return await session.get(OutboxMail, mail_id)
