"""The order as changed: the API's order carries its revision, each revision's diff and its
change requests; the order page shows the revisions with their diffs, in both languages."""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import select

from models import queries
from models.tables import Order
from tests.activities.change_fixtures import (
    Placed,
    more_pumps_and_a_valve,
    placed,
)
from tests.web.test_i18n import chinese_session, needs_catalog, text_of, zh_catalog_compiled

__all__ = ["placed", "zh_catalog_compiled"]  # the fixtures, used by name


async def changed_twice(placed: Placed) -> str:
    """Revision 2 (one more pump and a valve), then a second request rejected; the number."""
    await placed.changes.record_change_request(placed.request(lines=more_pumps_and_a_valve(placed)))
    applied = await placed.changes.apply_change(placed.apply())
    assert applied.problem is None
    await placed.changes.record_change_request(placed.request(2, order_discount_percent=D("30")))
    await placed.changes.reject_change(placed.close(2, placed.owner.user_id, "Too deep"))
    async with placed.session_factory() as session:
        return await session.scalar(select(Order.number).where(Order.id == placed.order.id))


async def test_the_order_says_its_revision_each_revisions_diff_and_its_change_requests(api, placed):
    number = await changed_twice(placed)
    sales = await api("sales")
    order = (await sales.get(f"/api/v1/orders/{number}")).json()

    assert order["revision"] == 2
    [revision] = order["revisions"]
    assert revision["number"] == 2 and revision["at"].startswith("2026-03-02T")
    assert revision["by"]["username"] == "sales"
    assert revision["changes"] == [
        {"field": "lines[PUMP-10].quantity", "before": "2", "after": "3"},
        {"field": "lines[VALVE-3]", "before": "", "after": "1 × 1200"},
        {"field": "total", "before": "17000", "after": "26700"},
    ]
    assert [(c["number"], c["status"], c["reason"]) for c in order["change_requests"]] == [
        (1, "approved", "Customer needs more"),
        (2, "rejected", "Customer needs more"),
    ]
    assert all(isinstance(c["id"], int) for c in order["change_requests"])
    assert order["change_requests"][1]["comment"] == "Too deep"


async def test_an_order_never_changed_is_revision_1_with_no_revisions(api, placed):
    sales = await api("sales")
    order = (await sales.get(f"/api/v1/orders/{placed.order.number}")).json()
    assert (order["revision"], order["revisions"], order["change_requests"]) == (1, [], [])


async def test_the_order_page_shows_revision_2_and_its_diff(browser_session, placed):
    number = await changed_twice(placed)
    sales = await browser_session("sales")
    page = text_of(await sales.get(f"/orders/{number}"))

    assert "Revision 2" in page and 'data-field="lines[PUMP-10].quantity"' in page
    assert "PUMP-10 · Quantity" in page and "VALVE-3 · line added" in page
    assert "Change requests" in page and "“Too deep”" in page


async def test_the_order_page_is_one_view_of_the_order_though_a_change_is_applied_meanwhile(
    browser_session, placed, monkeypatch
):
    """The page reads the order, then its revisions: the change applied in between (a workflow
    step committing while the page is made) showed revision 2 under a heading saying revision
    1, in the browser test of the change flow under load."""
    read_revisions = queries.revisions

    async def a_change_applied_first(**kwargs):
        monkeypatch.setattr(queries, "revisions", read_revisions)
        await placed.changes.record_change_request(
            placed.request(lines=more_pumps_and_a_valve(placed))
        )
        assert (await placed.changes.apply_change(placed.apply())).problem is None
        return await read_revisions(**kwargs)

    monkeypatch.setattr(queries, "revisions", a_change_applied_first)
    sales = await browser_session("sales")
    during = text_of(await sales.get(f"/orders/{placed.order.number}"))
    # the order as it was first read, never changed: no revisions, no change request
    assert 'id="revisions"' not in during and 'data-revision="2"' not in during
    assert "Customer needs more" not in during and 'data-position="2"' not in during  # 1 line
    after = text_of(await sales.get(f"/orders/{placed.order.number}"))
    assert "Revision 1" not in after and 'data-revision="2"' in after
    assert "Revision 2" in after and "Customer needs more" in after
    assert 'data-position="2"' in after  # the valve the change added


@needs_catalog
async def test_the_order_page_shows_the_revisions_in_chinese(browser_session, placed):
    number = await changed_twice(placed)
    sales = await chinese_session(browser_session, "sales")
    page = text_of(await sales.get(f"/orders/{number}"))

    assert "修订记录" in page and "第 2 版" in page and "变更前" in page
    assert "PUMP-10 · 数量" in page and "变更申请" in page and "已驳回" in page
