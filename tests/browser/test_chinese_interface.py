"""Issue 18's defect 9 in a real browser (Debian's Chromium): a Chinese browser's order page and
inbox show Chinese dates and times in the company's zone, units and approval reasons in Chinese,
with no English left ("always", "pcs", "Dec", ISO dates); an English browser gets one English
style ("Dec 4, 2026, 18:38") for the same moments."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.async_api import Page
from sqlalchemy import update

from models.tables import Todo, TodoAssignee
from tests.browser.conftest import CHROMIUM, CHROMIUM_MISSING
from tests.browser.test_role_day_fixes import login  # noqa: F401 - signs in per language
from tests.web.test_approval_progress import in_approval, two_stage_round
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled  # noqa: F401

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING), needs_catalog]

OPENED = datetime(2026, 12, 4, 10, 38, tzinfo=UTC)  # 18:38 in Shanghai
LEFTOVERS = re.compile(r"\b(always|pcs|set|Dec|ordered|available)\b|\b\d{4}-\d{2}-\d{2}\b")
SHOWN = {
    "en": {"opened": "Dec 4, 2026, 18:38", "reason": "always", "unit": "2 pcs"},
    "zh_CN": {"opened": "2026年12月4日 18:38", "reason": "始终适用", "unit": "2 件"},
}


async def order_in_approval(session_factory) -> tuple[str, dict[str, int]]:
    """An order in approval with its round (test_approval_progress), the director's to-do
    opened at OPENED."""
    order = await in_approval(session_factory)
    todos = await two_stage_round(session_factory, order)
    async with session_factory() as session:
        await session.execute(
            update(Todo).where(Todo.id == todos["director"]).values(created_at=OPENED)
        )
        await session.execute(
            update(TodoAssignee)
            .where(TodoAssignee.todo_id == todos["director"])
            .values(created_at=OPENED)
        )
        await session.commit()
    return order.number, todos


async def main_text(page: Page) -> str:
    return await page.locator("main").inner_text()


@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_the_order_page_and_inbox_speak_one_language_with_one_date_style(
    login,  # noqa: F811
    session_factory,
    language,
):
    number, _ = await order_in_approval(session_factory)
    shown = SHOWN[language]

    sales = await login("sales", language)
    await sales.goto(f"/orders/{number}")
    order_page = await main_text(sales)
    assert shown["reason"] in order_page and shown["unit"] in order_page
    if language == "zh_CN":
        assert "订单总额 ≥ 500,000.00" in order_page
        assert LEFTOVERS.findall(order_page) == []
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", order_page)
    else:
        assert re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2}", order_page)
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", order_page)

    director = await login("director", language)
    inbox = await main_text(director)
    assert shown["opened"] in inbox  # the to-do opened at 10:38 UTC, in Shanghai
    if language == "zh_CN":
        assert "PUMP-10：订购 150，可用 120" in inbox
        assert LEFTOVERS.findall(inbox) == []
    else:
        assert "PUMP-10: 150 ordered, 120 available" in inbox
