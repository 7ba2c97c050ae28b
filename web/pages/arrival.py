"""The customer's contact confirming, from the link in the dispatch mail, that goods arrived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from i18n import N_, Formatter, translations
from models.dates import as_utc
from models.domain import ArrivalConfirmation, Stage, TodoDone
from models.links import ContactLinks
from models.tables import Contact, ContactLink, Dispatch, Order, OrderLine
from web.commands.actions import REFUSAL_STATUS
from web.deps import SessionDep, TemporalClient
from web.pages.common import page_router
from web.templating import locale_of, render_for_link

router = page_router()

NOT_VALID = N_("This link is not valid.")
EXPIRED = N_(
    "This link has expired. Please tell your sales contact when the goods arrived instead."
)
USED = N_("The arrival of this order has already been confirmed with this link. Thank you.")
ALREADY_CONFIRMED = N_("The arrival of this order has already been confirmed. Thank you.")
SUPERSEDED = N_(
    "The goods of this order were sent again; please use the link in the latest dispatch mail."
)
CANCELLED = N_("This order has been cancelled; there is nothing to confirm.")
NOT_NOW = N_("The arrival of this order cannot be confirmed now.")
ENGINE_DOWN = N_("The workflow engine is not reachable; try again shortly.")
NO_DATE = N_("Give the date the goods arrived.")
FUTURE_DATE = N_("The arrival date cannot be in the future.")
BEFORE_DISPATCH = N_("The goods cannot have arrived before they were dispatched on %(dispatched)s.")

# The order's shipment after arrival (Order.shipment_status).
ARRIVED_STATUSES = frozenset({"arrived", "accepted"})


class ArrivalRefused(Exception):
    """A link that cannot confirm arrival (now): the page says why, nothing is changed.
    `message` is an English template (translated on the page) or the workflow's own words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class UsableArrivalLink:
    """A genuine, unused, unexpired contact link to an order that is on its way."""

    link: ContactLink
    order: Order
    contact: Contact
    dispatch: Dispatch
    lines: list[OrderLine]


def utc_now() -> datetime:
    """The page's clock: link expiry, and "today" for the arrival date (a seam for tests)."""
    return datetime.now(UTC)


@lru_cache
def _contact_links(secret_key: str) -> ContactLinks:
    return ContactLinks(secret_key)


def _links(request: Request) -> ContactLinks:
    return _contact_links(request.app.state.settings.resolved_secret_key())


def _arrival_confirmed(order: Order) -> bool:
    """The goods of the order's latest dispatch have arrived (ops or a contact said so)."""
    return order.shipment_status in ARRIVED_STATUSES


async def usable_link(
    *, session: AsyncSession, links: ContactLinks, token: str, now: datetime
) -> UsableArrivalLink:
    """What a token lets its contact confirm, if they may now; ArrivalRefused otherwise. The
    token names one order: nothing the form sends can point it at another."""
    link = await links.find(session, token)
    order = await session.get(Order, link.order_id) if link else None
    contact = await session.get(Contact, link.contact_id) if link else None
    # The link's own shipment (a reshipment mails a new link for its round).
    dispatch = (
        await session.scalar(
            select(Dispatch).where(
                Dispatch.order_id == link.order_id, Dispatch.round == link.dispatch_round
            )
        )
        if link
        else None
    )
    if link is None or order is None or contact is None or dispatch is None:
        raise ArrivalRefused(404, NOT_VALID)
    if contact.customer_id != order.customer_id:
        raise ArrivalRefused(404, NOT_VALID)
    if link.used_at is not None:
        raise ArrivalRefused(409, USED)
    if as_utc(link.expires_at) <= now:
        raise ArrivalRefused(410, EXPIRED)
    if order.stage == Stage.cancelled.value:
        raise ArrivalRefused(409, CANCELLED)
    latest_round = await session.scalar(
        select(func.max(Dispatch.round)).where(Dispatch.order_id == order.id)
    )
    if latest_round != link.dispatch_round:
        raise ArrivalRefused(409, SUPERSEDED)
    if _arrival_confirmed(order):
        raise ArrivalRefused(409, ALREADY_CONFIRMED)
    lines = list(
        await session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
        )
    )
    return UsableArrivalLink(
        link=link, order=order, contact=contact, dispatch=dispatch, lines=lines
    )


def arrival_problem(arrived_on: date | None, *, dispatched_on: date, today: date) -> str | None:
    """Why a date the contact gave cannot be the arrival date, or None when it can."""
    if arrived_on is None:
        return NO_DATE
    if arrived_on > today:
        return FUTURE_DATE
    if arrived_on < dispatched_on:
        return BEFORE_DISPATCH
    return None


def _parse_date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    contact: Contact | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page for someone without an account: in the language of the contact the link was
    mailed to (their mail was in it), else in their browser's."""
    return render_for_link(
        request, template, recipient=contact, status_code=status_code, contact=contact, **context
    )


def _refused_page(
    request: Request, refusal: ArrivalRefused, contact: Contact | None = None
) -> HTMLResponse:
    gettext = translations(locale_of(request, contact)).gettext
    return _render(
        request,
        "arrival/refused.html",
        contact=contact,
        status_code=refusal.status,
        status=refusal.status,
        already=refusal.message in (USED, ALREADY_CONFIRMED, SUPERSEDED),
        message=gettext(refusal.message),
    )


def _arrival_form(
    request: Request,
    *,
    token: str,
    usable: UsableArrivalLink,
    today: date,
    arrived_on: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        "arrival/confirm.html",
        status_code=status_code,
        token=token,
        order=usable.order,
        contact=usable.contact,
        dispatch=usable.dispatch,
        lines=usable.lines,
        today=today.isoformat(),
        arrived_on=arrived_on if arrived_on is not None else today.isoformat(),
        expires_at=usable.link.expires_at,
        error=error,
    )


async def confirm_arrival(
    *, client: Client, usable: UsableArrivalLink, arrived_on: date
) -> TodoDone:
    """Send the shipment workflow the contact's confirmation; its validator checks once more
    against its own state (dispatched, not yet arrived)."""
    handle = client.get_workflow_handle(f"order-{usable.order.number}/shipment")
    try:
        done: TodoDone = await handle.execute_update(
            "confirm_arrival",
            ArrivalConfirmation(actual_date=arrived_on, contact_id=usable.contact.id),
            result_type=TodoDone,
        )
        return done
    except WorkflowUpdateFailedError as failure:
        cause = failure.cause
        if isinstance(cause, ApplicationError):
            status = REFUSAL_STATUS.get(cause.type or "", 409)
            raise ArrivalRefused(status, cause.message) from failure
        raise ArrivalRefused(409, NOT_NOW) from failure
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:  # the shipment has ended (or never ran)
            raise ArrivalRefused(409, NOT_NOW) from error
        raise ArrivalRefused(503, ENGINE_DOWN) from error


@router.get("/arrival/{token}")
async def arrival_page(request: Request, token: str, session: SessionDep) -> HTMLResponse:
    now = utc_now()
    try:
        usable = await usable_link(session=session, links=_links(request), token=token, now=now)
    except ArrivalRefused as refusal:
        return _refused_page(request, refusal)
    return _arrival_form(request, token=token, usable=usable, today=now.date())


@router.post("/arrival/{token}")
async def confirm_arrival_by_link(
    request: Request, token: str, session: SessionDep, client: TemporalClient
) -> HTMLResponse:
    form = await request.form()
    now = utc_now()
    try:
        usable = await usable_link(session=session, links=_links(request), token=token, now=now)
    except ArrivalRefused as refusal:
        return _refused_page(request, refusal)
    given = str(form.get("arrived_on") or "")
    arrived_on = _parse_date(given)
    problem = arrival_problem(
        arrived_on, dispatched_on=usable.dispatch.dispatched_on, today=now.date()
    )
    locale = locale_of(request, usable.contact)
    gettext = translations(locale).gettext
    if problem is not None or arrived_on is None:
        dispatched = Formatter(locale).date(usable.dispatch.dispatched_on)
        return _arrival_form(
            request,
            token=token,
            usable=usable,
            today=now.date(),
            arrived_on=given,
            error=gettext(problem or NO_DATE) % {"dispatched": dispatched},
            status_code=422,
        )
    try:
        await confirm_arrival(client=client, usable=usable, arrived_on=arrived_on)
    except ArrivalRefused as refusal:
        await session.refresh(usable.order)
        if _arrival_confirmed(usable.order):  # ops (or another contact) was quicker
            return _refused_page(request, ArrivalRefused(409, ALREADY_CONFIRMED), usable.contact)
        if refusal.status == 422:
            return _arrival_form(
                request,
                token=token,
                usable=usable,
                today=now.date(),
                arrived_on=given,
                error=gettext(refusal.message),
                status_code=422,
            )
        return _refused_page(request, refusal, usable.contact)
    usable.link.used_at = utc_now()
    await session.commit()
    return _render(
        request,
        "arrival/done.html",
        contact=usable.contact,
        number=usable.order.number,
        arrived_on=arrived_on,
    )
