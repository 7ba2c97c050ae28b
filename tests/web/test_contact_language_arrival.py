"""The page a contact's arrival link opens speaks the language their dispatch mail was written
in, the contact's, whatever their browser asks for: Chinese for a contact who reads Chinese,
refusals included; English for the others."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import update

from models.tables import Contact
from tests.web.test_arrival_link import (
    DISPATCHED_ON,
    TODAY,
    app,  # noqa: F401  (the app with the arrival pages)
    arrival_state,
    assert_nothing_changed,
    csrf_of,
    dispatched_order,
)
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled  # noqa: F401

pytestmark = needs_catalog
ENGLISH_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}


async def reads(session_factory, contact_id: int, language: str) -> None:
    async with session_factory() as session:
        await session.execute(
            update(Contact).where(Contact.id == contact_id).values(language=language)
        )
        await session.commit()


async def test_a_chinese_reading_contact_sees_the_arrival_page_in_chinese(
    http, session_factory, settings
):
    sent = await dispatched_order(session_factory, settings)
    await reads(session_factory, sent.contact_id, "zh_CN")
    page = await http.get(sent.path, headers=ENGLISH_BROWSER)
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert '<html lang="zh-CN">' in page.text
    assert "Xu Ming" in text and sent.number in text
    assert "Did order" not in text and "SF1234567890" in text
    assert f"{DISPATCHED_ON.year}年{DISPATCHED_ON.month}月{DISPATCHED_ON.day}日" in text

    before = await arrival_state(session_factory, sent.order_id)
    future = (TODAY + timedelta(days=1)).isoformat()
    refused = await http.post(
        sent.path,
        headers=ENGLISH_BROWSER,
        data={"arrived_on": future, "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 422
    assert '<html lang="zh-CN">' in refused.text
    assert "到货日期不能是将来的日期。" in html.unescape(refused.text)
    await assert_nothing_changed(session_factory, sent, before)


@pytest.mark.parametrize("browser", [{"Accept-Language": "zh-CN"}, ENGLISH_BROWSER, {}])
async def test_an_english_reading_contact_gets_the_page_in_english_as_their_mail(
    http, session_factory, settings, browser
):
    sent = await dispatched_order(session_factory, settings)
    page = await http.get(sent.path, headers=browser)
    assert page.status_code == 200, page.text
    assert '<html lang="en">' in page.text
    assert f"Did order {sent.number} arrive?" in page.text
