"""The inbox page's export (issue 19, item 7): its links carry the inbox's filters and order,
they are shown only to those who may export, and the page route refuses a sales rep."""

from __future__ import annotations

from tests.web.test_exports import audits
from tests.web.test_inbox_rows import new_draft


async def test_the_inbox_page_links_its_export_with_its_filters(browser_session, api):
    await new_draft(api)
    manager = await browser_session("sales_manager")
    page = await manager.get("/", params={"kind": "approve", "sort": "order", "dir": "desc"})
    assert 'href="/todos/export.csv?kind=approve&amp;sort=order&amp;dir=desc"' in page.text
    assert (await manager.get("/todos/export.xlsx?kind=approve")).status_code == 200
    rep = await browser_session("sales")
    assert "/todos/export" not in (await rep.get("/")).text


async def test_a_sales_rep_is_refused_the_inbox_export_page(browser_session, session_factory):
    rep = await browser_session("sales")
    refused = await rep.get("/todos/export.csv", headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 403 and "导出" in refused.text
    assert await audits(session_factory) == []
