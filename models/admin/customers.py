"""Administration of customers: the list, and creating or changing a customer and its contacts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from i18n import N_, SUPPORTED
from models.admin.checks import AdminRefusal, at_most, is_email, taken_by_another
from models.queries.sorting import SortOrder, sorted_rows, text_key
from models.tables import Contact, Customer

CUSTOMER_LEVELS = ("A", "B", "C", "D")
# The languages a contact's mail can be written in.
CONTACT_LANGUAGES = SUPPORTED
UNKNOWN_LANGUAGE = N_(
    "Mail to %(contact)s can be written in English (en) or Simplified Chinese (zh_CN), "
    "not in “%(language)s”."
)


class ContactRefusal(AdminRefusal):
    """A contact's field that breaks a rule: the form shows the message next to that field
    (`row` is the contact's place among those entered, `field` the field's name)."""

    def __init__(self, template: str, *, row: int, field: str, **params: object) -> None:
        super().__init__(template, **params)
        self.row, self.field = row, field


@dataclass(frozen=True)
class ContactChange:
    """A contact as entered; `id` is an existing contact's (None for a new one)."""

    id: int | None
    name: str
    email: str
    phone: str
    language: str | None = None  # None keeps the contact's (a new contact's is English)


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


# The customer list's columns a person may sort by (a short list, sorted in Python).
CUSTOMER_SORTS: dict[str, Callable[[Customer], Any]] = {
    "name": lambda c: text_key(c.name),
    "level": lambda c: c.level or None,
    "region": lambda c: text_key(c.region),
    "industry": lambda c: text_key(c.industry),
    "credit_limit": lambda c: c.credit_limit,
    "tax_number": lambda c: c.tax_number or None,
}


async def list_customers(*, session: AsyncSession, sort: SortOrder | None = None) -> list[Customer]:
    """Every customer with their contacts, by name unless sorted by another column."""
    found = await session.scalars(
        select(Customer).options(selectinload(Customer.contacts)).order_by(Customer.name)
    )
    return sorted_rows(found, sort or SortOrder(), CUSTOMER_SORTS)


async def get_customer(*, session: AsyncSession, customer_id: int) -> Customer | None:
    return await session.scalar(
        select(Customer).where(Customer.id == customer_id).options(selectinload(Customer.contacts))
    )


async def _check_name(session: AsyncSession, customer: Customer | None, name: str) -> None:
    """A name, no longer than the column, that no other customer has (ignoring case)."""
    at_most(name, 200, N_("A customer name has at most %(max)s characters."))
    if not name:
        raise AdminRefusal(N_("Enter the customer's name."))
    editing_id = customer.id if customer is not None else None
    if await taken_by_another(session, Customer.name, Customer.id, name, editing_id):
        raise AdminRefusal(N_("There is already a customer called %(name)s."), name=name)


def _check_detail_lengths(change: CustomerChange) -> None:
    """The region, the industry and the invoicing details fit their columns."""
    at_most(change.region, 50, N_("A region has at most %(max)s characters."))
    at_most(change.industry, 50, N_("An industry has at most %(max)s characters."))
    at_most(change.tax_number, 50, N_("A tax number has at most %(max)s characters."))
    at_most(change.invoice_title, 200, N_("An invoice title has at most %(max)s characters."))
    at_most(change.address, 300, N_("An address has at most %(max)s characters."))


def check_contact(row: ContactChange, index: int = 0) -> None:
    """The contact has a name, an e-mail address, a phone number that fits, and a language
    its mail can be written in."""
    name = at_most(row.name, 100, N_("A contact's name has at most %(max)s characters."))
    if not name:
        raise AdminRefusal(N_("Every contact needs a name."))
    if not is_email(row.email):
        raise AdminRefusal(
            N_("Enter a valid e-mail address for %(contact)s (like name@example.com)."),
            contact=name,
        )
    at_most(row.phone, 50, N_("A phone number has at most %(max)s characters."))
    if row.language is not None and row.language not in CONTACT_LANGUAGES:
        raise ContactRefusal(
            UNKNOWN_LANGUAGE, row=index, field="language", contact=name, language=row.language
        )


def _check_contacts(contacts: list[ContactChange]) -> None:
    """Each contact is complete (check_contact), and there is at least one."""
    for index, row in enumerate(contacts):
        check_contact(row, index)
    if not contacts:
        raise AdminRefusal(N_("Add at least one contact with a name and an e-mail address."))


def _keep_contacts(customer: Customer, contacts: list[ContactChange]) -> None:
    """The customer's contacts become these: an edited one keeps its id, one left out goes."""
    existing = {c.id: c for c in customer.contacts}
    kept: list[Contact] = []
    for row in contacts:
        contact = existing.pop(row.id, None) if row.id is not None else None
        if contact is None:
            contact = Contact(name=row.name, email=row.email, phone=row.phone)
        contact.name, contact.email, contact.phone = row.name, row.email, row.phone
        contact.language = row.language or contact.language or "en"
        kept.append(contact)
    customer.contacts = kept


async def save_customer(
    *, session: AsyncSession, customer: Customer | None, change: CustomerChange
) -> Customer:
    """Create or change a customer with its contacts. Contacts keep their ids when edited; a
    contact left out is removed."""
    await _check_name(session, customer, change.name)
    if change.level not in CUSTOMER_LEVELS:
        raise AdminRefusal(N_("Choose a customer level from the list."))
    credit_limit = change.credit_limit
    if credit_limit is None or credit_limit < 0:
        raise AdminRefusal(
            N_("Enter the credit limit as an amount of 0 or more, with at most two decimals.")
        )
    _check_detail_lengths(change)
    _check_contacts(change.contacts)

    if customer is None:
        customer = Customer(contacts=[])
        session.add(customer)
    customer.name = change.name
    customer.level = change.level
    customer.region = change.region
    customer.industry = change.industry
    customer.credit_limit = credit_limit
    customer.tax_number = change.tax_number
    customer.invoice_title = change.invoice_title
    customer.address = change.address
    _keep_contacts(customer, change.contacts)
    await session.commit()
    return customer


async def get_contact(
    *, session: AsyncSession, customer_id: int, contact_id: int
) -> Contact | None:
    """The customer's contact (None when the customer has no contact with this id)."""
    return await session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.customer_id == customer_id)
    )


async def save_contact(
    *, session: AsyncSession, contact: Contact, change: ContactChange
) -> Contact:
    """Change one contact of a customer, after the same checks as on the customer's form."""
    check_contact(change)
    contact.name, contact.email, contact.phone = change.name, change.email, change.phone
    contact.language = change.language or contact.language
    await session.commit()
    return contact
