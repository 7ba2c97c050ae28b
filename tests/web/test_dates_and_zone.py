"""Dates and times on the pages (issue 18, defect 9): one style per locale ("Dec 4, 2026" and
"Dec 4, 2026, 18:38" in English, "2026年12月4日" and "2026年12月4日 18:38" in Chinese, never
"2026-12-04 18:38" beside them), every time in the company's time zone (Asia/Shanghai unless an
administrator sets another on Admin -> Company settings), a bad zone refused in the admin's
language, and the page closed to everyone but administrators."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from models.tables import CompanySettings, Order, TimelineEvent, Todo, TodoAssignee, User
from tests.web.conftest import csrf_of
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.web.test_orders_api import order_body

# A moment stored in UTC: 10:38 UTC is 18:38 in Shanghai and 11:38 in Berlin, and 17:00 UTC
# is already the next day in Shanghai.
STORED = datetime(2026, 12, 4, 10, 38, tzinfo=UTC)
EVENING = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def visible(response) -> str:
    """The page's text as a person reads it: no markup, no attribute values (an <input
    type="date"> keeps its ISO value)."""
    body = re.sub(r"<(script|style|datalist)\b.*?</\1>", " ", response.text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


async def draft_with_times(api, session_factory) -> str:
    """A draft created "at" STORED (its timeline event), with an approval to-do for the sales
    manager opened at STORED, due a day later, and the order created in the evening (UTC)."""
    sales = await api("sales")
    created = await sales.post("/api/v1/orders", json=order_body())
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        assert order is not None
        order.created_at = EVENING
        for event in await session.scalars(
            select(TimelineEvent).where(TimelineEvent.order_id == order.id)
        ):
            event.at = STORED
        manager = await session.scalar(select(User).where(User.username == "sales_manager"))
        assert manager is not None
        todo = Todo(
            key=f"test/{number}/approve",
            order_id=order.id,
            workflow_id=f"order-{number}/approval/1",
            kind="approve",
            status="open",
            created_at=STORED,
            due_at=STORED + timedelta(days=1),
        )
        todo.assignees = [TodoAssignee(user_id=manager.id, status="open", created_at=STORED)]
        session.add(todo)
        await session.commit()
    return number


async def set_zone(admin, zone: str):
    csrf = csrf_of((await admin.get("/admin/company")).text)
    return await admin.post("/admin/company", data={"csrf_token": csrf, "time_zone": zone})


async def stored_zone(session_factory) -> str | None:
    async with session_factory() as session:
        row = await session.get(CompanySettings, 1)
        return row.time_zone if row else None


async def test_english_pages_show_times_in_shanghai_in_one_style(
    api, browser_session, session_factory
):
    number = await draft_with_times(api, session_factory)
    order_page = visible(await (await browser_session("sales")).get(f"/orders/{number}"))
    assert "Dec 4, 2026, 18:38" in order_page  # the timeline: 10:38 UTC in Shanghai
    assert "10:38" not in order_page and not ISO_DATE.search(order_page)

    inbox = visible(await (await browser_session("sales_manager")).get("/"))
    assert "Dec 4, 2026, 18:38" in inbox and "Dec 5, 2026, 18:38" in inbox  # opened, due
    assert not ISO_DATE.search(inbox)

    orders = visible(await (await browser_session("sales")).get("/orders"))
    assert "Dec 5, 2026" in orders  # created at 17:00 UTC: the 5th in Shanghai
    assert not ISO_DATE.search(orders)


@needs_catalog
async def test_chinese_pages_show_chinese_dates_and_times_in_shanghai(
    api, browser_session, session_factory
):
    number = await draft_with_times(api, session_factory)
    sales = await chinese_session(browser_session, "sales")
    order_page = visible(await sales.get(f"/orders/{number}"))
    assert "2026年12月4日 18:38" in order_page
    assert "Dec" not in order_page and not ISO_DATE.search(order_page)

    manager = await chinese_session(browser_session, "sales_manager")
    inbox = visible(await manager.get("/"))
    assert "2026年12月4日 18:38" in inbox and "2026年12月5日 18:38" in inbox
    assert "Dec" not in inbox and not ISO_DATE.search(inbox)

    orders = visible(await sales.get("/orders"))
    assert "2026年12月5日" in orders and "Dec" not in orders


async def test_the_admin_moves_the_company_to_another_time_zone(
    api, browser_session, session_factory
):
    number = await draft_with_times(api, session_factory)
    admin = await browser_session("admin")
    page = visible(await admin.get("/admin/company"))
    assert "Asia/Shanghai" in (await admin.get("/admin/company")).text
    assert "China Standard Time" in page  # "Now it is ..." names the zone

    saved = await set_zone(admin, "Europe/Berlin")
    assert saved.status_code == 303
    assert await stored_zone(session_factory) == "Europe/Berlin"
    assert "Times are now shown in Europe/Berlin." in visible(await admin.get("/admin/company"))

    order_page = visible(await (await browser_session("sales")).get(f"/orders/{number}"))
    assert "Dec 4, 2026, 11:38" in order_page and "18:38" not in order_page


async def test_a_time_zone_that_does_not_exist_is_refused_and_nothing_changes(
    browser_session, session_factory
):
    admin = await browser_session("admin")
    refused = await set_zone(admin, "Mars/Olympus_Mons")
    assert refused.status_code == 422
    text = visible(refused)
    assert "“Mars/Olympus_Mons” is not a time zone." in text
    assert 'value="Mars/Olympus_Mons"' in refused.text  # what was typed stays
    assert 'aria-invalid="true"' in refused.text
    assert await stored_zone(session_factory) is None  # still the default, Asia/Shanghai
    assert (await set_zone(admin, "")).status_code == 422


@needs_catalog
async def test_a_bad_time_zone_is_refused_in_chinese(browser_session, session_factory):
    admin = await chinese_session(browser_session, "admin")
    refused = await set_zone(admin, "Asia/Beijing")
    assert refused.status_code == 422
    assert "“Asia/Beijing”不是有效的时区。" in visible(refused)
    assert await stored_zone(session_factory) is None


async def test_only_administrators_see_or_change_the_company_settings(
    browser_session, session_factory
):
    for username in ("director", "sales", "finance"):
        someone = await browser_session(username)
        assert (await someone.get("/admin/company")).status_code == 403
        csrf = csrf_of((await someone.get("/profile")).text)
        posted = await someone.post("/admin/company", data={"csrf_token": csrf, "time_zone": "UTC"})
        assert posted.status_code == 403
    assert await stored_zone(session_factory) is None


async def test_the_company_settings_form_needs_its_csrf_token(browser_session, session_factory):
    # The company page's router once skipped the CSRF check every other page has (it was a
    # bare APIRouter, which also put the page into the API's OpenAPI document).
    admin = await browser_session("admin")
    for token in ({}, {"csrf_token": "forged"}):
        posted = await admin.post("/admin/company", data={**token, "time_zone": "UTC"})
        assert posted.status_code == 403, token
    assert await stored_zone(session_factory) is None
    assert (await set_zone(admin, "UTC")).status_code == 303  # with the page's token it saves
    assert await stored_zone(session_factory) == "UTC"
