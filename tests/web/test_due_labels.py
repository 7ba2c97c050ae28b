"""The installments' status on the order page says when the money is due: overdue since a date,
due today or on a date within the collection's reminder window, or not yet due with its date,
each with its own words and CSS class, in English and in Chinese. The API's status stays as
it was (not_due, due, overdue, paid); its due_state tells the four apart."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from babel.dates import format_date
from sqlalchemy import select

from models.tables import Installment, Order
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.web.test_orders_api import order_body

TODAY = datetime.now(UTC).date()
LAST_MONTH = TODAY - timedelta(days=31)
SOON = TODAY + timedelta(days=2)  # within the default policy's 3 reminder days
NEXT_MONTH = TODAY + timedelta(days=31)
# Position -> due date, set in the database as the collection would after acceptance.
DUE_ON = {1: LAST_MONTH, 2: TODAY, 3: SOON, 4: NEXT_MONTH}
PLAN = [
    {"percent": "25", "trigger": "confirmation", "offset_days": 0},
    {"percent": "25", "trigger": "acceptance", "offset_days": 0},
    {"percent": "25", "trigger": "acceptance", "offset_days": 2},
    {"percent": "25", "trigger": "acceptance", "offset_days": 31},
]


async def accepted_order(api, session_factory) -> str:
    """A draft whose rows are then made those of an order being collected after acceptance:
    the workflow is not needed to show what the page says about due dates."""
    sales = await api("sales")
    created = await sales.post("/api/v1/orders", json=order_body(payment_plan=PLAN))
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        assert order is not None
        order.stage = "collection"
        order.collection_status = "overdue"
        quarter = (order.total / 4).quantize(Decimal("0.01"))
        for item in PLAN:
            position = PLAN.index(item) + 1
            session.add(
                Installment(
                    order_id=order.id,
                    position=position,
                    percent=Decimal(item["percent"]),
                    trigger=item["trigger"],
                    offset_days=item["offset_days"],
                    amount=quarter,
                    paid=Decimal("0.00"),
                    settled=False,
                    due_on=DUE_ON[position],
                )
            )
        await session.commit()
    return number


def status_cell(page_text: str, position: int) -> str:
    """The last cell (the status) of installment row `position`, with its markup."""
    row = re.search(
        rf'<tr class="installment[^"]*" data-installment="{position}".*?</tr>', page_text, re.S
    )
    assert row, f"no installment {position} on the page"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    return html.unescape(cells[-1])


def plain(markup: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


async def test_the_api_keeps_its_statuses_and_tells_the_due_dates_apart(api, session_factory):
    number = await accepted_order(api, session_factory)
    detail = await (await api("sales")).get(f"/api/v1/orders/{number}")
    assert detail.status_code == 200, detail.text
    rows = {i["position"]: i for i in detail.json()["installments"]}
    assert [rows[p]["status"] for p in (1, 2, 3, 4)] == ["overdue", "due", "due", "due"]
    assert [rows[p]["due_state"] for p in (1, 2, 3, 4)] == [
        "overdue",
        "due_today",
        "due_soon",
        "not_yet_due",
    ]
    assert rows[1]["overdue_days"] == 31


async def test_the_order_page_tells_overdue_due_today_due_soon_and_not_yet_due_apart(
    api, session_factory, browser_session
):
    number = await accepted_order(api, session_factory)
    page = (await (await browser_session("sales")).get(f"/orders/{number}")).text

    def on(day):
        return format_date(day, format="medium", locale="en")

    overdue, today, soon, later = (status_cell(page, p) for p in (1, 2, 3, 4))
    assert plain(overdue) == f"Overdue since {on(LAST_MONTH)} (31 day(s))"
    assert plain(today) == "Due today"
    assert plain(soon) == f"Due on {on(SOON)}"
    assert plain(later) == f"Not yet due (due on {on(NEXT_MONTH)})"
    classes = [
        re.search(r'class="([^"]*due-state[^"]*)"', cell).group(1)  # type: ignore[union-attr]
        for cell in (overdue, today, soon, later)
    ]
    assert classes == [
        "late due-state due-overdue",
        "due-state due-today",
        "due-state due-soon",
        "muted due-state due-not-yet",
    ]


@needs_catalog
async def test_the_due_labels_are_in_chinese(api, session_factory, browser_session):
    number = await accepted_order(api, session_factory)
    sales = await chinese_session(browser_session, "sales")
    page = (await sales.get(f"/orders/{number}")).text

    def on(day):
        return format_date(day, format="medium", locale="zh_CN")

    overdue, today, soon, later = (plain(status_cell(page, p)) for p in (1, 2, 3, 4))
    assert overdue == f"自 {on(LAST_MONTH)} 起逾期（31 天）"
    assert today == "今日到期"
    assert soon == f"{on(SOON)} 到期"
    assert later == f"未到期（{on(NEXT_MONTH)} 到期）"
    assert len({overdue, today, soon, later}) == 4
