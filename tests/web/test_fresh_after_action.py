"""A page rendered right after an action shows the action's result, not the state before it."""

from __future__ import annotations

import re

from tests.web.conftest import csrf_of
from tests.web.test_orders_api import order_body


def heading_of(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match, "page has no heading"
    return re.sub(r"<[^>]+>", " ", match.group(1))


async def test_order_page_after_submit_shows_the_order_in_costing(api, browser_session, worker):
    sales = await browser_session("sales")
    owner = await api("sales")
    for _ in range(3):  # it was stale on every submit, not once in a while
        number = (await owner.post("/api/v1/orders", json=order_body())).json()["number"]
        page = await sales.get(f"/orders/{number}")
        assert "Draft" in heading_of(page.text)
        submitted = await sales.post(
            f"/orders/{number}/submit", data={"csrf_token": csrf_of(page.text)}
        )
        assert submitted.status_code == 303
        shown = (await sales.get(submitted.headers["location"])).text
        assert f"Order {number} is submitted." in shown
        assert "Cost estimate" in heading_of(shown)
        assert "Draft" not in heading_of(shown)
        assert "Not submitted for approval yet." not in shown
        assert "approval starts once pricing have estimated the cost" in shown
        assert "Estimate the cost" in shown  # pricing's to-do, opened by the first step


async def test_order_page_after_submit_in_chinese_shows_the_new_stage(api, browser_session, worker):
    sales = await browser_session("sales")
    profile = await sales.get("/profile")
    await sales.post("/profile", data={"locale": "zh_CN", "csrf_token": csrf_of(profile.text)})
    number = (await (await api("sales")).post("/api/v1/orders", json=order_body())).json()["number"]
    page = await sales.get(f"/orders/{number}")
    submitted = await sales.post(
        f"/orders/{number}/submit", data={"csrf_token": csrf_of(page.text)}
    )
    shown = (await sales.get(submitted.headers["location"])).text
    assert '<html lang="zh-CN">' in shown
    assert "草稿" not in heading_of(shown)
    assert "尚未提交审批" not in shown
    assert "已提交：定价预估成本后开始审批。" in shown
