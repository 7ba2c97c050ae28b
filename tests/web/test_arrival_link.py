"""The customer's contact confirms arrival from the link in the dispatch mail, without an
account: the link shows its one order (no prices), confirms it once while it is valid, and every
refusal is a clear page that changes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from models.db import SessionFactory
from models.domain import (
    MILESTONES,
    DispatchConfirmation,
    PlannedMilestone,
    PlanShipment,
    ShippingMode,
    Stage,
    TodoDone,
)
from models.links import ContactLinks, DecisionLinks
from models.tables import (
    Contact,
    ContactLink,
    Dispatch,
    Milestone,
    Order,
    OutboxMail,
    TimelineEvent,
    Todo,
)
from settings import Settings
from tests.helpers import actor, draft, open_todos
from tests.web.conftest import csrf_of
from tests.web.test_orders_api import order_body, todo_of
from tests.web.test_todos_api import estimated
from web.app import create_app
from web.pages import arrival

TODAY = datetime.now(UTC).date()
DISPATCHED_ON = TODAY - timedelta(days=2)


@pytest.fixture
async def app(settings, session_factory, env):
    """The real app; with the arrival pages added while web/app.py does not register them yet."""
    app = create_app(settings, session_factory=session_factory, temporal_client=env.client)
    if not any(getattr(r, "path", "") == "/arrival/{token}" for r in app.routes):
        app.include_router(arrival.router)
    return app


@dataclass(frozen=True)
class SentLink:
    number: str
    order_id: int
    contact_id: int
    path: str


async def dispatched_order(
    session_factory: SessionFactory,
    settings: Settings,
    *,
    lifetime: timedelta = timedelta(days=60),
    issued_at: datetime | None = None,
) -> SentLink:
    """An order on its way (rows written directly, as the shipment's activities would): its
    dispatch, its milestones, and a contact link as the dispatch mail carries it."""
    order = await draft(session_factory, quantity="3", product_code="PUMP-10")
    now = issued_at or datetime.now(UTC)
    async with session_factory() as session:
        row = await session.get(Order, order.id)
        row.stage = Stage.fulfilment.value
        row.shipment_status = "in_transit"
        row.confirmed_at = now
        session.add(
            Dispatch(
                order_id=row.id,
                round=1,
                carrier="SF Express",
                tracking_number="SF1234567890",
                dispatched_on=DISPATCHED_ON,
                created_at=now,
            )
        )
        for position, (code, planned, actual) in enumerate(
            [
                ("picking", DISPATCHED_ON, DISPATCHED_ON),
                ("dispatch", DISPATCHED_ON, DISPATCHED_ON),
                ("arrival", TODAY + timedelta(days=3), None),
            ],
            start=1,
        ):
            session.add(
                Milestone(
                    order_id=row.id,
                    position=position,
                    code=code,
                    planned_on=planned,
                    actual_on=actual,
                )
            )
        contact = await session.scalar(
            select(Contact).where(Contact.customer_id == row.customer_id)
        )
        token = await ContactLinks(settings.resolved_secret_key(), lifetime).issue(
            session, order_id=row.id, contact_id=contact.id, dispatch_round=1, now=now
        )
        await session.commit()
        return SentLink(row.number, row.id, contact.id, f"/arrival/{token}")


async def link_row(session_factory: SessionFactory, sent: SentLink) -> ContactLink:
    async with session_factory() as session:
        return await session.scalar(
            select(ContactLink).where(
                ContactLink.order_id == sent.order_id, ContactLink.contact_id == sent.contact_id
            )
        )


async def arrival_state(session_factory: SessionFactory, order_id: int) -> tuple:
    """What a confirmation would change: the order's shipment, the arrival milestone, the
    timeline."""
    async with session_factory() as session:
        order = await session.get(Order, order_id)
        actual_on = await session.scalar(
            select(Milestone.actual_on).where(
                Milestone.order_id == order_id, Milestone.code == "arrival"
            )
        )
        events = list(
            await session.scalars(
                select(TimelineEvent.kind).where(TimelineEvent.order_id == order_id)
            )
        )
        return order.shipment_status, order.stage, actual_on, events


async def confirm(http: httpx.AsyncClient, path: str, arrived_on: str, **extra: str):
    """Open the link's page (which puts the form's CSRF token in the session) and confirm."""
    page = await http.get(path)
    csrf = csrf_of(page.text) if page.status_code == 200 else "no-form"
    return await http.post(path, data={"arrived_on": arrived_on, "csrf_token": csrf, **extra})


async def assert_nothing_changed(session_factory, sent: SentLink, before: tuple) -> None:
    assert await arrival_state(session_factory, sent.order_id) == before
    assert (await link_row(session_factory, sent)).used_at is None


def assert_kept_private(response: httpx.Response) -> None:
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


# --- what the contact sees ---------------------------------------------------------------------


async def test_contact_sees_the_order_its_dispatch_and_lines_without_prices_or_signing_in(
    app, http, session_factory, settings
):
    sent = await dispatched_order(session_factory, settings)

    page = await http.get(sent.path)

    assert page.status_code == 200, page.text
    for shown in (
        sent.number,
        "Shanghai Precision Machinery Co.",
        "Xu Ming, please tell us the day the goods below arrived",
        "SF Express",
        "SF1234567890",
        "PUMP-10 · Hydraulic pump HP-10",
        "3 pcs",
        'name="arrived_on"',
        f'value="{TODAY.isoformat()}"',  # today by default
        f'max="{TODAY.isoformat()}"',
        f'min="{DISPATCHED_ON.isoformat()}"',
        f'action="{sent.path}"',
    ):
        assert shown in page.text, shown
    for hidden in ("CN¥", "8,500", "25,500", "Unit price", "cost", "Sign out", "My to-dos"):
        assert hidden not in page.text, hidden
    assert_kept_private(page)
    inbox = await http.get("/")  # the link signed nobody in
    assert inbox.status_code == 303 and inbox.headers["location"].startswith("/login")


# --- links that cannot confirm -----------------------------------------------------------------


async def test_a_tampered_or_unknown_link_is_not_found_and_changes_nothing(
    app, http, session_factory, settings
):
    sent = await dispatched_order(session_factory, settings)
    before = await arrival_state(session_factory, sent.order_id)
    secret = settings.resolved_secret_key()
    unknown = URLSafeSerializer(secret, salt="o2c-contact-link").dumps("no-such-link")
    async with session_factory() as session:  # a genuine approver's link is no arrival link
        decision = await DecisionLinks(secret).issue(
            session, todo_id=1, user_id=1, now=datetime.now(UTC)
        )
    for path in (
        sent.path[:-3] + ("AAA" if not sent.path.endswith("AAA") else "BBB"),
        f"/arrival/{unknown}",
        f"/arrival/{decision}",
        "/arrival/garbage",
    ):
        page = await http.get(path)
        assert page.status_code == 404, path
        assert "This link is not valid." in page.text
        assert_kept_private(page)
        posted = await confirm(http, path, TODAY.isoformat())
        assert posted.status_code in (403, 404), path  # no form, so no CSRF token either
    await assert_nothing_changed(session_factory, sent, before)


async def test_an_expired_link_is_gone_and_changes_nothing(app, http, session_factory, settings):
    sent = await dispatched_order(
        session_factory,
        settings,
        lifetime=timedelta(days=1),
        issued_at=datetime.now(UTC) - timedelta(days=2),
    )
    before = await arrival_state(session_factory, sent.order_id)

    page = await http.get(sent.path)
    assert page.status_code == 410
    assert "This link has expired." in page.text
    assert 'name="arrived_on"' not in page.text

    csrf = csrf_of((await http.get("/login")).text)  # a valid session token: only expiry refuses
    posted = await http.post(sent.path, data={"arrived_on": TODAY.isoformat(), "csrf_token": csrf})
    assert posted.status_code == 410
    await assert_nothing_changed(session_factory, sent, before)


async def test_a_used_link_says_arrival_is_already_confirmed(app, http, session_factory, settings):
    sent = await dispatched_order(session_factory, settings)
    async with session_factory() as session:
        link = await session.get(ContactLink, (await link_row(session_factory, sent)).id)
        link.used_at = datetime.now(UTC)
        await session.commit()

    page = await http.get(sent.path)
    assert page.status_code == 409
    assert "has already been confirmed with this link" in page.text
    assert "Already confirmed" in page.text
    assert 'name="arrived_on"' not in page.text


async def test_arrival_already_confirmed_by_ops_is_a_conflict_and_changes_nothing(
    app, http, session_factory, settings
):
    sent = await dispatched_order(session_factory, settings)
    async with session_factory() as session:
        order = await session.get(Order, sent.order_id)
        order.shipment_status = "arrived"
        arrival = await session.scalar(
            select(Milestone).where(
                Milestone.order_id == sent.order_id, Milestone.code == "arrival"
            )
        )
        arrival.actual_on = TODAY - timedelta(days=1)
        await session.commit()
    before = await arrival_state(session_factory, sent.order_id)

    page = await http.get(sent.path)
    assert page.status_code == 409
    assert "The arrival of this order has already been confirmed." in page.text

    csrf = csrf_of((await http.get("/login")).text)
    posted = await http.post(sent.path, data={"arrived_on": TODAY.isoformat(), "csrf_token": csrf})
    assert posted.status_code == 409
    await assert_nothing_changed(session_factory, sent, before)


async def test_the_link_of_an_earlier_dispatch_cannot_confirm_a_reshipment(
    app, http, session_factory, settings
):
    sent = await dispatched_order(session_factory, settings)
    async with session_factory() as session:  # the goods went again (an exception's reship)
        session.add(
            Dispatch(
                order_id=sent.order_id,
                round=2,
                carrier="EMS",
                tracking_number="EMS1",
                dispatched_on=TODAY,
                created_at=datetime.now(UTC),
            )
        )
        await session.commit()

    page = await http.get(sent.path)
    assert page.status_code == 409
    assert "use the link in the latest dispatch mail" in page.text


async def test_a_cancelled_order_cannot_be_confirmed(app, http, session_factory, settings):
    sent = await dispatched_order(session_factory, settings)
    async with session_factory() as session:
        (await session.get(Order, sent.order_id)).stage = Stage.cancelled.value
        await session.commit()

    page = await http.get(sent.path)
    assert page.status_code == 409
    assert "This order has been cancelled" in page.text


# --- dates the goods cannot have arrived on ----------------------------------------------------


async def test_an_arrival_date_in_the_future_or_before_dispatch_shows_the_form_again(
    app, http, session_factory, settings
):
    sent = await dispatched_order(session_factory, settings)
    before = await arrival_state(session_factory, sent.order_id)
    for given, message in (
        ((TODAY + timedelta(days=1)).isoformat(), "The arrival date cannot be in the future."),
        (
            (DISPATCHED_ON - timedelta(days=1)).isoformat(),
            "The goods cannot have arrived before they were dispatched on",
        ),
        ("", "Give the date the goods arrived."),
        ("31/12/2026", "Give the date the goods arrived."),
    ):
        posted = await confirm(http, sent.path, given)
        assert posted.status_code == 422, (given, posted.text)
        assert message in posted.text, given
        assert 'name="arrived_on"' in posted.text and f'value="{given}"' in posted.text
        assert_kept_private(posted)
    await assert_nothing_changed(session_factory, sent, before)


async def test_a_form_without_its_csrf_token_is_refused(app, http, session_factory, settings):
    sent = await dispatched_order(session_factory, settings)
    before = await arrival_state(session_factory, sent.order_id)
    await http.get(sent.path)
    posted = await http.post(sent.path, data={"arrived_on": TODAY.isoformat()})
    assert posted.status_code == 403
    await assert_nothing_changed(session_factory, sent, before)


async def test_without_a_running_shipment_the_link_refuses_and_stays_unused(
    app, http, session_factory, settings
):
    """The page's checks pass, but no shipment workflow takes the update (here: none runs)."""
    sent = await dispatched_order(session_factory, settings)
    before = await arrival_state(session_factory, sent.order_id)

    posted = await confirm(http, sent.path, TODAY.isoformat())

    assert posted.status_code == 409, posted.text
    assert "cannot be confirmed now" in posted.text
    await assert_nothing_changed(session_factory, sent, before)


def test_the_arrival_date_must_lie_between_dispatch_and_today():
    dispatched, today = date(2026, 11, 20), date(2026, 11, 24)

    def problem(arrived_on: date | None) -> str | None:
        return arrival.arrival_problem(arrived_on, dispatched_on=dispatched, today=today)

    assert problem(None) == arrival.NO_DATE
    assert problem(date(2026, 11, 25)) == arrival.FUTURE_DATE
    assert problem(date(2026, 11, 19)) == arrival.BEFORE_DISPATCH
    for fine in (dispatched, date(2026, 11, 22), today):
        assert problem(fine) is None


# --- the real shipment, end to end ---------------------------------------------------------------

ARRIVAL_LINK = re.compile(r"http://testserver(/arrival/[A-Za-z0-9_.\-]+)")


async def dispatched_through_the_workflow(
    api, session_factory, env, mode: ShippingMode = ShippingMode.domestic
) -> tuple[str, date]:
    """An order entered, estimated, approved and confirmed through the API; then ops plan its
    shipment and the warehouse dispatches it through the shipment workflow's updates. Returns
    the order number and the shipment's dispatch date (the workflow's today)."""
    sales = await api("sales")
    number = (await sales.post("/api/v1/orders", json=order_body(shipping_mode=mode))).json()[
        "number"
    ]
    submitted = await sales.post(f"/api/v1/orders/{number}/submit")
    assert submitted.status_code == 202, submitted.text
    await estimated(api, number)
    manager = await api("sales_manager")
    approve = await todo_of(manager, number, "approve")
    decided = await manager.post(
        f"/api/v1/todos/{approve['id']}/complete", json={"outcome": "approve"}
    )
    assert decided.status_code == 200, decided.text
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
    [plan] = await open_todos(session_factory, order, "plan_shipment")
    shipment = env.client.get_workflow_handle(f"order-{number}/shipment")
    today = (await env.get_current_time()).astimezone(UTC).date()
    await shipment.execute_update(
        "plan",
        PlanShipment(
            todo_key=plan.key,
            actor=await actor(session_factory, "ops"),
            milestones=[
                PlannedMilestone(code=code, planned_date=today + timedelta(days=days))
                for days, code in enumerate(MILESTONES[mode], start=1)
            ],
        ),
        result_type=TodoDone,
    )
    [dispatch] = await open_todos(session_factory, order, "confirm_dispatch")
    await shipment.execute_update(
        "confirm_dispatch",
        DispatchConfirmation(
            todo_key=dispatch.key,
            actor=await actor(session_factory, "warehouse"),
            carrier="SF Express",
            tracking_number="SF99887766",
        ),
        result_type=TodoDone,
    )
    return number, today


async def link_in_dispatch_mail(session_factory: SessionFactory, number: str) -> str:
    """The arrival link in the dispatch mail to the customer's contact."""
    async with session_factory() as session:
        bodies = list(
            await session.scalars(
                select(OutboxMail.body).where(
                    OutboxMail.to_address == "xu.ming@shpm.example.com",
                    OutboxMail.key.like(f"order-{number}/%"),
                )
            )
        )
    links = [m.group(1).rstrip(".") for body in bodies for m in ARRIVAL_LINK.finditer(body)]
    assert len(links) == 1, bodies
    return links[0]


async def stamped_by_the_page_clock(
    session_factory: SessionFactory, number: str, drift: timedelta
) -> None:
    """The links were stamped by the worker's clock: move them onto the page's."""
    async with session_factory() as session:
        order_id = await session.scalar(select(Order.id).where(Order.number == number))
        for link in await session.scalars(
            select(ContactLink).where(ContactLink.order_id == order_id)
        ):
            link.expires_at += drift
        await session.commit()


async def test_contact_confirms_arrival_from_the_dispatch_mail_once(
    app, http, api, worker, session_factory, settings, env, monkeypatch
):
    # The shared test server's clock runs ahead of the wall clock once a test has skipped
    # time; the page's "today" follows the workflow's, as it does in production.
    drift = (await env.get_current_time()).astimezone(UTC) - datetime.now(UTC)
    monkeypatch.setattr(arrival, "utc_now", lambda: datetime.now(UTC) + drift)
    number, today = await dispatched_through_the_workflow(api, session_factory, env)
    other = await dispatched_order(session_factory, settings)  # another order on its way
    other_before = await arrival_state(session_factory, other.order_id)
    path = await link_in_dispatch_mail(session_factory, number)
    await stamped_by_the_page_clock(session_factory, number, drift)

    page = await http.get(path)
    assert page.status_code == 200, page.text
    for shown in (number, "SF Express", "SF99887766", "PUMP-10", "VALVE-3"):
        assert shown in page.text, shown
    assert "CN¥" not in page.text

    confirmed = await http.post(
        path,
        data={
            "arrived_on": today.isoformat(),
            "order_number": other.number,  # ignored: the link names its own order
            "csrf_token": csrf_of(page.text),
        },
    )

    assert confirmed.status_code == 200, confirmed.text
    assert f"you confirmed that order {number} arrived on" in confirmed.text
    assert_kept_private(confirmed)
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        arrived_on = await session.scalar(
            select(Milestone.actual_on).where(
                Milestone.order_id == order.id, Milestone.code == "arrival"
            )
        )
        link = await session.scalar(select(ContactLink).where(ContactLink.order_id == order.id))
        arrived = await session.scalar(
            select(TimelineEvent).where(
                TimelineEvent.order_id == order.id, TimelineEvent.kind == "arrived"
            )
        )
        ops_todo = await session.scalar(
            select(Todo.status).where(Todo.order_id == order.id, Todo.kind == "confirm_arrival")
        )
    assert order.shipment_status in ("arrived", "accepted")
    assert arrived_on == today
    assert link.used_at is not None
    assert arrived.details["by_customer_contact"] == str(link.contact_id)  # details are text
    assert arrived.actor_id is None
    assert ops_todo == "done"  # ops no longer need to confirm it
    await assert_nothing_changed(session_factory, other, other_before)

    for again in (
        await http.get(path),
        await http.post(
            path, data={"arrived_on": today.isoformat(), "csrf_token": csrf_of(page.text)}
        ),
    ):
        assert again.status_code == 409
        assert "already been confirmed with this link" in again.text


async def test_the_link_takes_an_export_arrival_with_customs_open_and_ops_fill_in_the_dates(
    app, http, api, worker, session_factory, settings, env, monkeypatch
):
    drift = (await env.get_current_time()).astimezone(UTC) - datetime.now(UTC)
    monkeypatch.setattr(arrival, "utc_now", lambda: datetime.now(UTC) + drift)
    number, today = await dispatched_through_the_workflow(
        api, session_factory, env, ShippingMode.export
    )
    path = await link_in_dispatch_mail(session_factory, number)
    await stamped_by_the_page_clock(session_factory, number, drift)
    page = await http.get(path)

    # port departure, customs and inspection are not done: the customer is not refused
    confirmed = await http.post(
        path, data={"arrived_on": today.isoformat(), "csrf_token": csrf_of(page.text)}
    )

    assert confirmed.status_code == 200, confirmed.text
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
    assert (order.stage, order.shipment_status) == ("collection", "accepted")
    asked = await open_todos(session_factory, order, "confirm_milestone", at_least=3)
    assert [t.facts["code"] for t in asked] == [
        "port_departure",
        "customs_declaration",
        "commodity_inspection",
    ]
    ops = await api("ops")
    listed = {t["id"] for t in (await ops.get("/api/v1/todos?status=open")).json()}
    assert {t.id for t in asked} <= listed
    done = {"outcome": "done", "actual_date": today.isoformat()}
    skipped = await ops.post(f"/api/v1/todos/{asked[1].id}/complete", json=done)
    assert skipped.status_code == 409
    assert skipped.json()["detail"] == (
        "Confirm port_departure first: it comes before customs_declaration and is not done yet."
    )
    for todo in asked:
        filled = await ops.post(f"/api/v1/todos/{todo.id}/complete", json=done)
        assert filled.status_code == 200, filled.text
    result = await env.client.get_workflow_handle(f"order-{number}/shipment").result()
    assert result["accepted_on"] == today.isoformat()
    async with session_factory() as session:
        actual = list(
            await session.scalars(select(Milestone.actual_on).where(Milestone.order_id == order.id))
        )
    assert actual and all(day is not None for day in actual)
