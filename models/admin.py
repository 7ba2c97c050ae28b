"""Administration: the rules and the SQL behind editing users, departments and master data.

Each `save_*` function takes the raw text a person typed (the same shape a CSV row would have),
checks every rule before it writes anything, and either commits the whole change or raises
`AdminRefusal` with a message for the person, leaving the database as it was.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
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


def _text(value: str, max_length: int, too_long: str) -> str:
    value = value.strip()
    if len(value) > max_length:
        raise AdminRefusal(too_long, max=max_length)
    return value


def _id(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


def _decimal(value: str, places: int) -> Decimal | None:
    """The number typed (thousands separators allowed), or None when it is not one."""
    try:
        number = Decimal(value.replace(",", "").strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= 10**15:
        return None
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # a letter only for infinities and NaNs
    if exponent < -places:
        return None
    return number


def _plain(number: Decimal) -> str:
    """A stored number as a person would type it back: 6 not 6.000, 1200.50 as is."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Users ------------------------------------------------------------------------------------------


@dataclass
class UserFields:
    username: str = ""
    full_name: str = ""
    email: str = ""
    role: str = ""
    department_id: str = ""
    manager_id: str = ""
    active: bool = True
    password: str = ""

    @classmethod
    def of(cls, user: User) -> UserFields:
        return cls(
            username=user.username,
            full_name=user.full_name,
            email=user.email,
            role=user.role,
            department_id=str(user.department_id),
            manager_id=str(user.manager_id or ""),
            active=user.active,
        )


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
    *, session: AsyncSession, actor: User, user: User | None, fields: UserFields
) -> User:
    """Create a user (`user` None) or change one. A blank password on an edit keeps the old one."""
    username = fields.username.strip()
    if not username:
        raise AdminRefusal(N_("Enter a username."))
    if len(username) > 50 or any(c.isspace() for c in username):
        raise AdminRefusal(N_("A username has at most 50 characters and no spaces."))
    taken = await session.scalar(
        select(User.id).where(func.lower(User.username) == username.lower())
    )
    if taken is not None and (user is None or taken != user.id):
        raise AdminRefusal(N_("The username %(username)s is already taken."), username=username)
    full_name = _text(fields.full_name, 100, N_("A name has at most %(max)s characters."))
    if not full_name:
        raise AdminRefusal(N_("Enter the person's full name."))
    email = fields.email.strip()
    if not is_email(email):
        raise AdminRefusal(N_("Enter a valid e-mail address (like name@example.com)."))
    if fields.role not in Role.__members__:
        raise AdminRefusal(N_("Choose a role from the list."))
    department_id = _id(fields.department_id)
    if department_id is None or await session.get(Department, department_id) is None:
        raise AdminRefusal(N_("Choose a department from the list."))
    manager: User | None = None
    if fields.manager_id.strip():
        manager_id = _id(fields.manager_id)
        manager = await session.get(User, manager_id) if manager_id is not None else None
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
        if not fields.active:
            raise AdminRefusal(N_("You cannot deactivate yourself."))
        if fields.role != Role.admin.value:
            raise AdminRefusal(N_("You cannot take away your own administrator role."))
    password = fields.password
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
    user.role = fields.role
    user.department_id = department_id
    user.manager_id = manager.id if manager else None
    user.active = fields.active
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


@dataclass
class DepartmentFields:
    name: str = ""
    parent_id: str = ""
    manager_id: str = ""

    @classmethod
    def of(cls, department: Department) -> DepartmentFields:
        return cls(
            name=department.name,
            parent_id=str(department.parent_id or ""),
            manager_id=str(department.manager_id or ""),
        )


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
    *, session: AsyncSession, department: Department | None, fields: DepartmentFields
) -> Department:
    name = _text(fields.name, 100, N_("A department name has at most %(max)s characters."))
    if not name:
        raise AdminRefusal(N_("Enter the department's name."))
    taken = await session.scalar(
        select(Department.id).where(func.lower(Department.name) == name.lower())
    )
    if taken is not None and (department is None or taken != department.id):
        raise AdminRefusal(N_("There is already a department called %(name)s."), name=name)
    parent_id: int | None = None
    if fields.parent_id.strip():
        parent_id = _id(fields.parent_id)
        parents = dict((await session.execute(select(Department.id, Department.parent_id))).all())
        if parent_id is None or parent_id not in parents:
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
    if fields.manager_id.strip():
        manager_id = _id(fields.manager_id)
        if manager_id is None or await session.get(User, manager_id) is None:
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


@dataclass
class ContactFields:
    id: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""

    def is_blank(self) -> bool:
        return not (self.name.strip() or self.email.strip() or self.phone.strip())


@dataclass
class CustomerFields:
    name: str = ""
    level: str = "B"
    region: str = ""
    industry: str = ""
    credit_limit: str = ""
    tax_number: str = ""
    invoice_title: str = ""
    address: str = ""
    contacts: list[ContactFields] = field(default_factory=list)

    @classmethod
    def of(cls, customer: Customer) -> CustomerFields:
        return cls(
            name=customer.name,
            level=customer.level,
            region=customer.region,
            industry=customer.industry,
            credit_limit=f"{customer.credit_limit:f}",
            tax_number=customer.tax_number,
            invoice_title=customer.invoice_title,
            address=customer.address,
            contacts=[
                ContactFields(id=str(c.id), name=c.name, email=c.email, phone=c.phone)
                for c in customer.contacts
            ],
        )


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
    *, session: AsyncSession, customer: Customer | None, fields: CustomerFields
) -> Customer:
    """Create or change a customer with its contacts. Contacts keep their ids when edited; a
    contact row left blank is removed."""
    name = _text(fields.name, 200, N_("A customer name has at most %(max)s characters."))
    if not name:
        raise AdminRefusal(N_("Enter the customer's name."))
    taken = await session.scalar(
        select(Customer.id).where(func.lower(Customer.name) == name.lower())
    )
    if taken is not None and (customer is None or taken != customer.id):
        raise AdminRefusal(N_("There is already a customer called %(name)s."), name=name)
    if fields.level not in CUSTOMER_LEVELS:
        raise AdminRefusal(N_("Choose a customer level from the list."))
    credit_limit = _decimal(fields.credit_limit, 2)
    if credit_limit is None or credit_limit < 0:
        raise AdminRefusal(
            N_("Enter the credit limit as an amount of 0 or more, with at most two decimals.")
        )
    region = _text(fields.region, 50, N_("A region has at most %(max)s characters."))
    industry = _text(fields.industry, 50, N_("An industry has at most %(max)s characters."))
    tax_number = _text(fields.tax_number, 50, N_("A tax number has at most %(max)s characters."))
    invoice_title = _text(
        fields.invoice_title, 200, N_("An invoice title has at most %(max)s characters.")
    )
    address = _text(fields.address, 300, N_("An address has at most %(max)s characters."))
    contacts: list[tuple[int | None, str, str, str]] = []
    for row in fields.contacts:
        if row.is_blank():
            continue
        contact_name = _text(row.name, 100, N_("A contact's name has at most %(max)s characters."))
        if not contact_name:
            raise AdminRefusal(N_("Every contact needs a name."))
        email = row.email.strip()
        if not is_email(email):
            raise AdminRefusal(
                N_("Enter a valid e-mail address for %(contact)s (like name@example.com)."),
                contact=contact_name,
            )
        phone = _text(row.phone, 50, N_("A phone number has at most %(max)s characters."))
        contacts.append((_id(row.id), contact_name, email, phone))
    if not contacts:
        raise AdminRefusal(N_("Add at least one contact with a name and an e-mail address."))

    if customer is None:
        customer = Customer(contacts=[])
        session.add(customer)
    customer.name = name
    customer.level = fields.level
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


@dataclass
class ProductFields:
    code: str = ""
    name: str = ""
    category: str = ""
    unit: str = "pcs"
    list_price: str = ""
    standard_cost: str = ""
    stock_on_hand: str = "0"
    needs_installation: bool = False
    active: bool = True
    # The stock figure the form showed: an edit must not overwrite a stock movement that the
    # warehouse made in the meantime.
    stock_on_hand_was: str = ""

    @classmethod
    def of(cls, product: Product) -> ProductFields:
        return cls(
            code=product.code,
            name=product.name,
            category=product.category,
            unit=product.unit,
            list_price=f"{product.list_price:f}",
            standard_cost=f"{product.standard_cost:f}",
            stock_on_hand=_plain(product.stock_on_hand),
            needs_installation=product.needs_installation,
            active=product.active,
            stock_on_hand_was=_plain(product.stock_on_hand),
        )


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
    *, session: AsyncSession, product: Product | None, fields: ProductFields
) -> Product:
    code = _text(fields.code, 50, N_("A product code has at most %(max)s characters."))
    if not code:
        raise AdminRefusal(N_("Enter the product code."))
    taken = await session.scalar(select(Product.id).where(func.lower(Product.code) == code.lower()))
    if taken is not None and (product is None or taken != product.id):
        raise AdminRefusal(N_("There is already a product with code %(code)s."), code=code)
    name = _text(fields.name, 200, N_("A product name has at most %(max)s characters."))
    if not name:
        raise AdminRefusal(N_("Enter the product's name."))
    category = _text(fields.category, 50, N_("A category has at most %(max)s characters."))
    unit = _text(fields.unit, 20, N_("A unit has at most %(max)s characters."))
    if not unit:
        raise AdminRefusal(N_("Enter the unit the product is sold in (pcs, set, m, …)."))
    list_price = _decimal(fields.list_price, 2)
    if list_price is None or list_price <= 0:
        raise AdminRefusal(
            N_("Enter the list price as an amount above 0, with at most two decimals.")
        )
    standard_cost = _decimal(fields.standard_cost, 2)
    if standard_cost is None or standard_cost <= 0:
        raise AdminRefusal(
            N_("Enter the standard cost as an amount above 0, with at most two decimals.")
        )
    stock = _decimal(fields.stock_on_hand, 3)
    if stock is None or stock < 0:
        raise AdminRefusal(
            N_("Enter the stock on hand as a quantity of 0 or more, with at most three decimals.")
        )
    reserved = product.reserved if product is not None else Decimal("0")
    if product is not None:
        was = _decimal(fields.stock_on_hand_was, 3)
        if was is not None and was != product.stock_on_hand:
            raise StockMoved()
    if stock < reserved:
        raise AdminRefusal(
            N_(
                "The stock on hand cannot be less than the %(reserved)s already reserved for "
                "confirmed orders."
            ),
            reserved=_plain(reserved),
        )
    values = {
        "code": code,
        "name": name,
        "category": category,
        "unit": unit,
        "list_price": list_price,
        "standard_cost": standard_cost,
        "stock_on_hand": stock,
        "needs_installation": fields.needs_installation,
        "active": fields.active,
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
