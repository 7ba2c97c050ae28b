"""Mail to a customer's contacts, who have no account: each written in the contact's own
language (subject, body, money and dates), without a link to the order page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activities.steps import Fresh, StepRecorder
from i18n.labels import EVENTS
from models.tables import Contact, Order
from notifications.contact_words import ContactWords

# The values an event's mail needs, written in the contact's language.
Values = Callable[[ContactWords], dict[str, Any]]


@dataclass
class ContactRecipient:
    """A customer's contact as a mail recipient (contacts have no account)."""

    id: int
    full_name: str
    email: str
    locale: str | None = None

    @classmethod
    def of(cls, contact: Contact) -> ContactRecipient:
        """The contact, whose mail is written in their language."""
        return cls(contact.id, contact.name, contact.email, contact.language)


async def contacts_of(session: AsyncSession, order: Order) -> list[Contact]:
    """The customer's contacts that have an e-mail address."""
    rows = await session.scalars(
        select(Contact).where(Contact.customer_id == order.customer_id, Contact.email != "")
    )
    return list(rows)


async def tell_contacts(
    rec: StepRecorder, order: Order, *, key: str, event: str, values: Values | None = None
) -> None:
    """Tell each of the customer's contacts with an e-mail address about the event, once per
    key (`<key>/mail/<contact id>`, the key their mail always had)."""
    for contact in await contacts_of(rec.session, order):
        await tell_contact(
            rec, order, contact, key=f"{key}/mail/{contact.id}", event=event, values=values
        )


async def tell_contact(
    rec: StepRecorder,
    order: Order,
    contact: Contact,
    *,
    key: str,
    event: str,
    values: Values | None = None,
    fresh: Callable[[ContactWords], Fresh] | None = None,
) -> None:
    """Queue one contact's mail about the event (template notifications/templates/
    contact_event.txt), in their language. `fresh` gives the values only a new mail needs
    (the arrival link, issued once)."""
    words = ContactWords(contact.language or "en", rec.currency)
    await rec.queue_mail(
        key=key,
        user=ContactRecipient.of(contact),
        template="contact_event",
        order=order,
        what=EVENTS[event],
        fresh=fresh(words) if fresh is not None else None,
        event=event,
        **(values(words) if values is not None else {}),
    )
