"""No English left in the Chinese interface (issue 18, defect 9): the approval reasons the
routing rules record in English ("always", "order total >= 500,000.00", a line short of stock),
product units ("pcs", "set") and English dates ("Dec 4, 2026") read Chinese on the order page,
the approve to-do and the inbox of a zh_CN user, while the English pages keep their words."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from i18n import Formatter
from models.tables import TimelineEvent
from tests import helpers
from tests.web.test_approval_progress import in_approval, two_stage_round
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401

LEFTOVERS = re.compile(r"\b(always|pcs|set|Dec|ordered|available|order total)\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def visible(response) -> str:
    assert response.status_code == 200, response.text
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def leftovers(text: str) -> list[str]:
    return LEFTOVERS.findall(text) + ISO_DATE.findall(text)


@needs_catalog
async def test_approval_reasons_read_chinese_on_the_order_page(browser_session, session_factory):
    order = await in_approval(session_factory)
    await two_stage_round(session_factory, order)
    page = visible(
        await (await chinese_session(browser_session, "sales")).get(f"/orders/{order.number}")
    )
    assert "始终适用" in page  # "always": the manager decides every order
    assert "订单总额 ≥ 500,000.00" in page
    assert "客户风险敞口 2,400,000.00 超出信用额度 2,000,000.00" in page
    assert "2 件" in page  # PUMP-10, in pieces
    assert leftovers(page) == []
    assert not re.search(r"\b(director|finance)\b", page)  # roles waited on, by their names


@needs_catalog
async def test_the_timeline_says_why_an_approval_was_asked_in_chinese(
    browser_session, session_factory
):
    order = await in_approval(session_factory)
    async with session_factory() as session:  # as activities/rounds.py records a stage opened
        session.add(
            TimelineEvent(
                key=f"order-{order.number}/leftovers/opened",
                order_id=order.id,
                at=datetime.now(UTC),
                kind="approval_requested",
                details={"round": "1", "stage": "1", "requirement": "manager", "reason": "always"},
            )
        )
        await session.commit()
    chinese = await chinese_session(browser_session, "sales")
    page = visible(await chinese.get(f"/orders/{order.number}"))
    assert "已发起审批 · 始终适用" in page
    assert leftovers(page) == []


async def test_the_english_order_page_keeps_its_reasons_and_units(browser_session, session_factory):
    order = await in_approval(session_factory)
    await two_stage_round(session_factory, order)
    page = visible(await (await browser_session("sales")).get(f"/orders/{order.number}"))
    assert "always" in page and "order total >= 500,000.00" in page and "2 pcs" in page


@needs_catalog
async def test_the_approve_todo_says_why_in_chinese(browser_session, session_factory):
    order = await in_approval(session_factory)
    todos = await two_stage_round(session_factory, order)
    director = await chinese_session(browser_session, "director")
    page = visible(await director.get(f"/todos/{todos['director']}"))
    assert "订单总额 ≥ 500,000.00" in page
    assert "PUMP-10：订购 150，可用 120" in page  # the facts' short line
    assert leftovers(page) == []


@needs_catalog
async def test_the_inbox_shows_short_stock_and_dates_in_chinese(browser_session, session_factory):
    order = await in_approval(session_factory)
    await two_stage_round(session_factory, order)
    inbox = visible(await (await chinese_session(browser_session, "director")).get("/"))
    assert "PUMP-10：订购 150，可用 120" in inbox
    assert "年" in inbox and "月" in inbox  # its dates are Chinese dates
    assert leftovers(inbox) == []


@needs_catalog
async def test_a_machine_is_counted_in_sets_in_chinese(browser_session, session_factory):
    order = await helpers.draft(session_factory, product_code="CNC-200", quantity="1")
    english = visible(await (await browser_session("sales")).get(f"/orders/{order.number}"))
    assert "1 set" in english  # before the rep picks Chinese in their profile
    chinese = visible(
        await (await chinese_session(browser_session, "sales")).get(f"/orders/{order.number}")
    )
    assert "1 套" in chinese and leftovers(chinese) == []


@needs_catalog
def test_a_requirement_sent_above_the_owner_says_so_in_chinese():
    words = Formatter("zh_CN").reason("always; the owner's own: decided by their manager")
    assert words == "始终适用；本属负责人自己审批：改由其上级经理审批"
    english = Formatter("en").reason("always; the owner's own: decided by their manager")
    assert english == "always; the owner's own: decided by their manager"
