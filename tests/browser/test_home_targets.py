"""In Chromium: a sales manager sets a rep's target on the targets page, and the rep's home page
then says what is still missing this month (in English, and once in Chinese)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from models.tables import Order, User
from web.api.home import home_today

TODAY = date(2026, 11, 20)


@pytest.fixture
async def confirmed_in_november(app, session_factory) -> None:
    """Wang Fang's order of 70,000 confirmed in November, 10,000 of it returned: 60,000 net."""
    app.dependency_overrides[home_today] = lambda: TODAY
    async with session_factory() as session:
        rep = await session.scalar(select(User).where(User.username == "sales"))
        assert rep is not None
        at = datetime(2026, 11, 3, 2, tzinfo=UTC)
        session.add(
            Order(
                number="SO-2026-92001",
                customer_id=1,
                owner_id=rep.id,
                department_id=rep.department_id,
                shipping_mode="domestic",
                total=Decimal("70000"),
                list_total=Decimal("70000"),
                returned=Decimal("10000"),
                stage="collection",
                created_at=at,
                updated_at=at,
                confirmed_at=at,
            )
        )
        await session.commit()
    yield
    app.dependency_overrides.pop(home_today, None)


async def test_a_target_the_manager_sets_shows_on_the_reps_home_page_as_what_is_missing(
    sign_in, confirmed_in_november
):
    manager = await sign_in("sales_manager")
    await manager.goto("/targets?month=2026-11")
    rep_row = manager.locator('tr[data-person="sales"]')
    await rep_row.locator('td[data-measure="confirmed"] input').fill("100000")
    await manager.get_by_role("button", name="Save the targets").click()
    await expect(manager.get_by_text("The targets of 2026-11 are saved.")).to_be_visible()

    rep = await sign_in("sales")
    figures = rep.locator('section[data-home="own"]')
    await expect(figures.get_by_role("heading")).to_have_text("Where you stand in Nov 2026")
    await expect(figures.locator('[data-figure="target"] dd')).to_have_text("CN¥100,000.00")
    await expect(figures.locator('[data-figure="confirmed"] dd')).to_have_text(
        ["CN¥60,000.00", "60 % of the target"]
    )
    await expect(figures.locator('[data-figure="missing"] dd')).to_have_text("CN¥40,000.00")
    await expect(figures.locator("svg")).to_be_visible()

    chinese = await sign_in("sales", "zh_CN")
    figures = chinese.locator('section[data-home="own"]')
    await expect(figures.get_by_role("heading")).to_have_text("2026年11月业绩进度")
    await expect(figures.locator('[data-figure="missing"] dt')).to_have_text("尚差")
    await expect(figures.locator('[data-figure="missing"] dd')).to_have_text("¥40,000.00")
