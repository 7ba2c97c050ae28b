"""Deciding an approval from the link in its e-mail, without signing in, with the real workflow:
the link decides its one to-do through the inbox's path, once, while it is valid."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from models.db import SessionFactory
from models.links import DecisionLinks
from models.tables import DecisionLink, Order, OutboxMail, TimelineEvent, Todo, User
from tests.web.conftest import csrf_of
from tests.web.test_orders_api import submitted_order, todo_of
from tests.web.test_todos_api import CONFIRMED_OR_LATER, estimated, stage_of

DECIDE_LINK = re.compile(r"http://testserver(/decide/\S+)")


async def approval_of(session_factory: SessionFactory, number: str, username: str) -> Todo:
    """The open approve to-do of an order that names this person, once the workflow opened it."""
    for _ in range(200):
        async with session_factory() as session:
            found = await session.scalar(
                select(Todo)
                .join(Order, Order.id == Todo.order_id)
                .where(Order.number == number, Todo.kind == "approve", Todo.status == "open")
                .order_by(Todo.id.desc())
            )
        if found is not None and await mail_of(session_factory, found, username):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no approval mail to {username} for {number}")


async def mail_of(session_factory: SessionFactory, todo: Todo, username: str) -> str | None:
    async with session_factory() as session:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        return await session.scalar(
            select(OutboxMail.body).where(OutboxMail.key == f"{todo.key}/mail/{user_id}")
        )


async def link_in_mail(session_factory: SessionFactory, number: str, username: str) -> str:
    """The path of the decision link in this person's approval mail for the order."""
    todo = await approval_of(session_factory, number, username)
    body = await mail_of(session_factory, todo, username)
    match = DECIDE_LINK.search(body or "")
    assert match, body
    return match.group(1)


async def order_at_approval(api, owner: str = "sales") -> tuple[httpx.AsyncClient, str]:
    """An order of `owner`'s, submitted and estimated: its approval is asked."""
    client, number = await submitted_order(api, owner)
    await estimated(api, number)
    return client, number


async def link_row(app, session_factory: SessionFactory, path: str) -> DecisionLink:
    links: DecisionLinks = app.state.decision_links
    token_id = links.token_id(path.removeprefix("/decide/"))
    async with session_factory() as session:
        return await session.scalar(select(DecisionLink).where(DecisionLink.token_id == token_id))


async def user_id(session_factory: SessionFactory, username: str) -> int:
    async with session_factory() as session:
        return await session.scalar(select(User.id).where(User.username == username))


async def todo_now(session_factory: SessionFactory, todo_id: int) -> Todo:
    async with session_factory() as session:
        return await session.get(Todo, todo_id)


# What a decision writes; the shipment and collection a confirmation starts write their own
# events in their own time.
DECISION_EVENTS = ("approved", "rejected", "approved_final", "confirmed")


async def events_of(session_factory: SessionFactory, number: str) -> int:
    async with session_factory() as session:
        return await session.scalar(
            select(func.count())
            .select_from(TimelineEvent)
            .join(Order, Order.id == TimelineEvent.order_id)
            .where(Order.number == number, TimelineEvent.kind.in_(DECISION_EVENTS))
        )


async def decide(
    http: httpx.AsyncClient, path: str, outcome: str, comment: str = "", **extra: str
) -> httpx.Response:
    """Open the link's page (which puts the form's CSRF token in the session) and press a
    button."""
    page = await http.get(path)
    csrf = csrf_of(page.text) if page.status_code == 200 else "no-form"
    return await http.post(
        path, data={"outcome": outcome, "comment": comment, "csrf_token": csrf, **extra}
    )


async def assert_not_signed_in(http: httpx.AsyncClient) -> None:
    inbox = await http.get("/")
    assert inbox.status_code == 303 and inbox.headers["location"].startswith("/login")


async def test_approver_decides_from_the_mail_link_without_signing_in(
    app, http, api, worker, session_factory
):
    sales, number = await order_at_approval(api)
    path = await link_in_mail(session_factory, number, "sales_manager")
    todo = await approval_of(session_factory, number, "sales_manager")

    page = await http.get(path)
    assert page.status_code == 200, page.text
    for shown in (
        number,
        "Shanghai Precision Machinery Co.",
        "CN¥28,400.00",
        "PUMP-10",
        "VALVE-3",
        "Li Na, your approval is asked",
        'value="approve"',
        'value="reject"',
        'name="comment"',
        "Expected cost",  # a sales manager sees cost figures
    ):
        assert shown in page.text, shown
    assert "Sign out" not in page.text
    await assert_not_signed_in(http)

    decided = await http.post(
        path, data={"outcome": "approve", "comment": "", "csrf_token": csrf_of(page.text)}
    )
    assert decided.status_code == 200, decided.text
    assert f"Thank you — you approved order {number}." in decided.text
    await assert_not_signed_in(http)

    done = await todo_now(session_factory, todo.id)
    assert (done.status, done.outcome) == ("done", "approve")
    assert done.completed_by_id == await user_id(session_factory, "sales_manager")
    assert (await link_row(app, session_factory, path)).used_at is not None
    order = await stage_of(sales, number, "confirmed")
    assert order["approvals"][0]["steps"][0]["decided_by"]["username"] == "sales_manager"

    # The same link again: a clear page, and nothing changes.
    events = await events_of(session_factory, number)
    again = await http.get(path)
    assert again.status_code == 409
    assert "This link has already been used." in again.text
    reused = await http.post(
        path, data={"outcome": "reject", "comment": "No", "csrf_token": csrf_of(page.text)}
    )
    assert reused.status_code == 409
    assert "This link has already been used." in reused.text
    assert (await todo_now(session_factory, todo.id)).outcome == "approve"
    assert await events_of(session_factory, number) == events
    assert (await sales.get(f"/api/v1/orders/{number}")).json()["stage"] in CONFIRMED_OR_LATER


async def test_rejecting_without_a_comment_shows_the_form_again_and_keeps_the_link(
    app, http, api, worker, session_factory
):
    sales, number = await order_at_approval(api)
    path = await link_in_mail(session_factory, number, "sales_manager")
    todo = await approval_of(session_factory, number, "sales_manager")

    refused = await decide(http, path, "reject", "   ")
    assert refused.status_code == 422
    assert "A rejection needs a comment saying why." in refused.text
    assert 'value="reject"' in refused.text  # the form again
    assert (await link_row(app, session_factory, path)).used_at is None
    assert (await todo_now(session_factory, todo.id)).status == "open"

    rejected = await decide(http, path, "reject", "Valve discount too deep")
    assert rejected.status_code == 200, rejected.text
    assert f"Thank you — you rejected order {number}." in rejected.text
    await stage_of(sales, number, "revising")
    closed = await todo_now(session_factory, todo.id)
    assert (closed.outcome, closed.comment) == ("reject", "Valve discount too deep")


async def test_a_tampered_or_unknown_link_is_not_valid(app, http, api, worker, session_factory):
    _, number = await order_at_approval(api)
    path = await link_in_mail(session_factory, number, "sales_manager")
    todo = await approval_of(session_factory, number, "sales_manager")
    token = path.removeprefix("/decide/")
    payload, signature = token.rsplit(".", 1)
    forged_payload = ("B" if payload[0] != "B" else "C") + payload[1:]
    forged_signature = signature[:5] + ("x" if signature[5] != "x" else "y") + signature[6:]
    csrf = csrf_of((await http.get(path)).text)
    for bad in (forged_payload + "." + signature, payload + "." + forged_signature, "abc"):
        page = await http.get(f"/decide/{bad}")
        assert page.status_code == 404, bad
        assert "This link is not valid." in page.text
        posted = await http.post(f"/decide/{bad}", data={"outcome": "approve", "csrf_token": csrf})
        assert posted.status_code == 404, bad

    # Genuinely signed, but no such link is stored (any more).
    links: DecisionLinks = app.state.decision_links
    async with session_factory() as session:
        unknown = await links.issue(
            session,
            todo_id=todo.id,
            user_id=await user_id(session_factory, "sales_manager"),
            now=datetime.now(UTC),
        )
    assert (await http.get(f"/decide/{unknown}")).status_code == 404

    # A post without the page's CSRF token is refused too.
    no_csrf = await http.post(path, data={"outcome": "approve"})
    assert no_csrf.status_code == 403
    assert (await todo_now(session_factory, todo.id)).status == "open"
    assert (await link_row(app, session_factory, path)).used_at is None


async def test_an_expired_link_is_refused_and_changes_nothing(
    app, http, api, worker, session_factory
):
    sales, number = await order_at_approval(api)
    path = await link_in_mail(session_factory, number, "sales_manager")
    todo = await approval_of(session_factory, number, "sales_manager")
    page = await http.get(path)
    link = await link_row(app, session_factory, path)
    async with session_factory() as session:
        stored = await session.get(DecisionLink, link.id)
        stored.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        await session.commit()

    expired = await http.get(path)
    assert expired.status_code == 410
    assert "This link has expired." in expired.text
    posted = await http.post(
        path, data={"outcome": "approve", "comment": "", "csrf_token": csrf_of(page.text)}
    )
    assert posted.status_code == 410
    assert (await todo_now(session_factory, todo.id)).status == "open"
    assert (await link_row(app, session_factory, path)).used_at is None
    assert (await sales.get(f"/api/v1/orders/{number}")).json()["stage"] == "approval"


async def test_a_link_decides_only_its_own_todo_and_only_for_its_recipient(
    app, http, api, worker, session_factory
):
    _, east = await order_at_approval(api, "sales")
    _, north = await order_at_approval(api, "sales2")
    east_path = await link_in_mail(session_factory, east, "sales_manager")
    north_path = await link_in_mail(session_factory, north, "sales_manager2")
    east_todo = await approval_of(session_factory, east, "sales_manager")
    north_todo = await approval_of(session_factory, north, "sales_manager2")

    # A genuine link of the North manager, but bound to the East order's to-do: refused.
    links: DecisionLinks = app.state.decision_links
    async with session_factory() as session:
        north_manager = await session.scalar(select(User).where(User.username == "sales_manager2"))
        crossed = await links.issue(
            session, todo_id=east_todo.id, user_id=north_manager.id, now=datetime.now(UTC)
        )
        await session.commit()
    page = await http.get(f"/decide/{crossed}")
    assert page.status_code == 403
    assert "This to-do is not assigned to you." in page.text
    posted = await http.post(
        f"/decide/{crossed}",
        data={"outcome": "approve", "csrf_token": csrf_of((await http.get(east_path)).text)},
    )
    assert posted.status_code == 403
    assert (await todo_now(session_factory, east_todo.id)).status == "open"

    # The East link decides the East to-do, whatever else the form says.
    decided = await decide(http, east_path, "approve", todo_id=str(north_todo.id), todo="north")
    assert decided.status_code == 200, decided.text
    assert f"you approved order {east}" in decided.text
    assert (await todo_now(session_factory, east_todo.id)).status == "done"
    assert (await todo_now(session_factory, north_todo.id)).status == "open"
    assert (await link_row(app, session_factory, north_path)).used_at is None
    north_page = await http.get(north_path)
    assert north_page.status_code == 200 and north in north_page.text


async def test_a_link_to_an_approval_decided_in_the_inbox_changes_nothing(
    app, http, api, worker, session_factory
):
    _, number = await order_at_approval(api)
    path = await link_in_mail(session_factory, number, "sales_manager")
    page = await http.get(path)
    manager = await api("sales_manager")
    todo = await todo_of(manager, number, "approve")
    inbox = await manager.post(
        f"/api/v1/todos/{todo['id']}/complete", json={"outcome": "reject", "comment": "Too low"}
    )
    assert inbox.status_code == 200, inbox.text

    events = await events_of(session_factory, number)
    late = await http.get(path)
    assert late.status_code == 409
    assert "This approval is already decided; nothing to do." in late.text
    posted = await http.post(
        path, data={"outcome": "approve", "comment": "", "csrf_token": csrf_of(page.text)}
    )
    assert posted.status_code == 409
    assert "This approval is already decided; nothing to do." in posted.text
    assert (await todo_now(session_factory, todo["id"])).outcome == "reject"
    assert (await link_row(app, session_factory, path)).used_at is None
    assert await events_of(session_factory, number) == events


async def test_the_link_page_follows_its_recipient_costs_by_role_and_inactive_refused(
    app, http, api, worker, session_factory
):
    _, number = await order_at_approval(api)
    path = await link_in_mail(session_factory, number, "sales_manager")
    todo = await approval_of(session_factory, number, "sales_manager")
    page = await http.get(path)
    assert "Expected cost" in page.text and "Unit cost" in page.text

    # Cost figures are for some roles only; the link's recipient is who counts.
    async with session_factory() as session:
        manager = await session.scalar(select(User).where(User.username == "sales_manager"))
        manager.role = "warehouse"
        await session.commit()
    page = await http.get(path)
    assert page.status_code == 200, page.text
    assert number in page.text
    assert "Expected cost" not in page.text and "Unit cost" not in page.text
    assert "CN¥5,100.00" not in page.text  # the pump's unit cost

    async with session_factory() as session:
        manager = await session.scalar(select(User).where(User.username == "sales_manager"))
        manager.role, manager.active = "sales_manager", False
        await session.commit()
    refused = await http.get(path)
    assert refused.status_code == 403
    assert "the account it was sent to is inactive" in refused.text
    posted = await http.post(
        path, data={"outcome": "approve", "comment": "", "csrf_token": csrf_of(page.text)}
    )
    assert posted.status_code == 403
    assert (await todo_now(session_factory, todo.id)).status == "open"
    assert (await link_row(app, session_factory, path)).used_at is None
