"""Where orders wait, over a hand-built set of to-dos and timelines written straight into the
database, with every p50 and p90 worked out by hand (nearest rank: the p-th percentile of n
waits is the ceil(p/100 * n)-th smallest).

Period: March 2026 (Asia/Shanghai days). Now: 2026-04-01 00:00 UTC.

W1: sales (East China office). W2: sales2 (North China office).

Completed to-dos in March (hours from created to completed):
- approve on W1 by Li Na (sales_manager, East China office): 1, 3, 10
- approve on W2 by Zhou Wei (director, Sales): 2, 4
- estimate_cost by Sun Li (pricing, Pricing): 5 on W1, 7 on W2
- not counted: an approve completed on Feb 27 (100 h) and a cancelled one.

Timelines (UTC):
- W1 submitted 03-02 09:00, estimated 14:00 (costing 5 h), approval requested 14:00 (the same
  stage), confirmed 03-03 00:00 (approval 10 h), shipment planned 03-04 00:00 (confirmed 24 h);
  a return's round rejected 03-10: not a revision of the order.
- W2 submitted 03-05 00:00, estimated 07:00 (costing 7 h), rejected 09:00 (approval 2 h),
  resubmitted 03-06 09:00 (revising 24 h), estimated 10:00 (costing 1 h), confirmed 14:00
  (approval 4 h).

Open to-dos: collect on W2 since 03-10 (528 h), confirm_dispatch on W1 since 03-20 (288 h),
collect on W1 since 03-25 (168 h).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models.reports.wait_counts import rebuild_wait_histograms
from models.tables import Customer, Order, TimelineEvent, Todo, TodoAssignee, User
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401
from web.api.reports import report_today
from web.api.statistics import report_now

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
NOW = datetime(2026, 4, 1, tzinfo=UTC)
ZONE = "Asia/Shanghai"  # the company's (O2C_TIME_ZONE's default)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# order, kind, completed by, created, hours taken, status
DONE = [
    ("W1", "approve", "sales_manager", "2026-03-02T10:00", 1, "done"),
    ("W1", "approve", "sales_manager", "2026-03-03T10:00", 3, "done"),
    ("W1", "approve", "sales_manager", "2026-03-04T00:00", 10, "done"),
    ("W2", "approve", "director", "2026-03-05T07:00", 2, "done"),
    ("W2", "approve", "director", "2026-03-06T10:00", 4, "done"),
    ("W1", "estimate_cost", "pricing", "2026-03-02T09:00", 5, "done"),
    ("W2", "estimate_cost", "pricing", "2026-03-05T00:00", 7, "done"),
    ("W1", "approve", "sales_manager", "2026-02-23T08:00", 100, "done"),  # Feb 27, 12:00
    ("W1", "approve", "sales_manager", "2026-03-07T00:00", 50, "cancelled"),
]
# order, kind, since, assigned to (user or role)
OPEN = [
    ("W2", "collect", "2026-03-10T00:00", {"user": "sales2"}),
    ("W1", "confirm_dispatch", "2026-03-20T00:00", {"role": "warehouse"}),
    ("W1", "collect", "2026-03-25T00:00", {"user": "sales"}),
]
TIMELINES = {
    "W1": [
        ("2026-03-02T09:00", "submitted"),
        ("2026-03-02T14:00", "estimated"),
        ("2026-03-02T14:00", "approval_requested"),
        ("2026-03-03T00:00", "confirmed"),
        ("2026-03-04T00:00", "shipment_planned"),
        ("2026-03-10T00:00", "rejected"),
    ],
    "W2": [
        ("2026-03-05T00:00", "submitted"),
        ("2026-03-05T07:00", "estimated"),
        ("2026-03-05T07:00", "approval_requested"),
        ("2026-03-05T09:00", "rejected"),
        ("2026-03-06T09:00", "resubmitted"),
        ("2026-03-06T10:00", "estimated"),
        ("2026-03-06T10:00", "approval_requested"),
        ("2026-03-06T14:00", "confirmed"),
    ],
}
OWNERS = {"W1": "sales", "W2": "sales2"}


async def write_waits(session) -> None:
    users = {u.username: u for u in await session.scalars(select(User))}
    customer = await session.scalar(select(Customer).order_by(Customer.id).limit(1))
    orders = {}
    for name, owner in OWNERS.items():
        at = utc(TIMELINES[name][0][0])
        order = Order(
            number=f"SO-2026-8000{name[1]}", customer_id=customer.id, owner_id=users[owner].id,
            department_id=users[owner].department_id, shipping_mode="domestic", stage="fulfilment",
            created_at=at, updated_at=at,
        )  # fmt: skip
        session.add(order)
        await session.flush()
        orders[name] = order
        for n, (when, kind) in enumerate(TIMELINES[name]):
            session.add(TimelineEvent(key=f"{name}/event/{n}", order_id=order.id, at=utc(when),
                                      kind=kind, details={}))  # fmt: skip
    for n, (name, kind, by, created, hours, status) in enumerate(DONE):
        start, end = utc(created), utc(created) + timedelta(hours=hours)
        session.add(Todo(key=f"done/{n}", order_id=orders[name].id, workflow_id="w", kind=kind,
                         status=status, created_at=start, completed_at=end,
                         completed_by_id=users[by].id))  # fmt: skip
    for n, (name, kind, since, to) in enumerate(OPEN):
        todo = Todo(key=f"open/{n}", order_id=orders[name].id, workflow_id="w", kind=kind,
                    status="open", created_at=utc(since))  # fmt: skip
        todo.assignees = [
            TodoAssignee(user_id=users[to["user"]].id if "user" in to else None,
                         role=to.get("role"), status="open", created_at=utc(since))
        ]  # fmt: skip
        session.add(todo)
    await session.commit()
    # Written here rather than by the steps, which count each wait as it ends: counted as the
    # migration counts an upgraded database's.
    await session.run_sync(lambda s: rebuild_wait_histograms(s.connection(), default_zone=ZONE))
    await session.commit()


@pytest.fixture
async def waits_data(session_factory, app):
    async with session_factory() as session:
        await write_waits(session)
    app.dependency_overrides[report_today] = lambda: NOW.date()
    app.dependency_overrides[report_now] = lambda: NOW
    yield
    app.dependency_overrides.pop(report_today, None)
    app.dependency_overrides.pop(report_now, None)


def figures(row: dict) -> tuple[int, float, float]:
    f = row["figures"]
    return f["count"], f["p50_hours"], f["p90_hours"]


def by(items: list[dict]) -> list[tuple[str, int, float, float]]:
    return [(b["label"], *figures(b)) for b in items]


async def test_to_do_kinds_are_timed_by_department_and_person_the_slowest_first(api, waits_data):
    director = await api("director")
    response = await director.get("/api/v1/reports/waits", params=MARCH)
    assert response.status_code == 200, response.text
    kinds = response.json()["todo_kinds"]
    assert [k["name"] for k in kinds] == ["approve", "estimate_cost"]  # p90 10 h, then 7 h
    approve, estimate = kinds
    # 1, 2, 3, 4, 10: p50 the 3rd (ceil 2.5), p90 the 5th (ceil 4.5).
    assert figures(approve) == (5, 3.0, 10.0)
    # East: 1, 3, 10 -> p50 the 2nd (ceil 1.5) 3, p90 the 3rd (ceil 2.7) 10.
    # Sales: 2, 4 -> p50 the 1st (ceil 1.0) 2, p90 the 2nd (ceil 1.8) 4.
    assert by(approve["by_department"]) == [
        ("East China office", 3, 3.0, 10.0),
        ("Sales", 2, 2.0, 4.0),
    ]
    assert by(approve["by_assignee"]) == [("Li Na", 3, 3.0, 10.0), ("Zhou Wei", 2, 2.0, 4.0)]
    # 5, 7: p50 the 1st, p90 the 2nd.
    assert figures(estimate) == (2, 5.0, 7.0)
    assert by(estimate["by_assignee"]) == [("Sun Li", 2, 5.0, 7.0)]


async def test_stages_are_timed_from_the_timeline_in_the_orders_path(api, waits_data):
    director = await api("director")
    stages = (await director.get("/api/v1/reports/waits", params=MARCH)).json()["stages"]
    assert [s["name"] for s in stages] == ["costing", "approval", "revising", "confirmed"]
    costing, approval, revising, confirmed = stages
    # Costing 5 (W1), 7 and 1 (W2): sorted 1, 5, 7 -> p50 the 2nd, p90 the 3rd.
    assert figures(costing) == (3, 5.0, 7.0)
    assert by(costing["by_department"]) == [  # the slowest p90 first
        ("North China office", 2, 1.0, 7.0),
        ("East China office", 1, 5.0, 5.0),
    ]
    assert costing["by_assignee"] == []  # a stage is nobody's to-do
    assert figures(approval) == (3, 4.0, 10.0)  # 2, 4, 10
    # One revision (W2's); W1's rejection on Mar 10 was a return's round after confirmation.
    assert figures(revising) == (1, 24.0, 24.0)
    assert figures(confirmed) == (1, 24.0, 24.0)  # W1; W2 is still confirmed


async def test_the_open_to_dos_waiting_longest_come_first(api, waits_data):
    director = await api("director")
    waiting = (await director.get("/api/v1/reports/waits", params=MARCH)).json()["open_todos"]
    assert [(t["order_number"], t["kind"], t["waited_hours"]) for t in waiting] == [
        ("SO-2026-80002", "collect", 528.0),
        ("SO-2026-80001", "confirm_dispatch", 288.0),
        ("SO-2026-80001", "collect", 168.0),
    ]
    assert waiting[0]["assignees"] == [{"user": "Chen Jie", "role": None, "department": None}]
    assert waiting[1]["assignees"] == [{"user": None, "role": "warehouse", "department": None}]


async def test_a_sales_manager_sees_the_waits_of_their_tree_only(api, waits_data):
    manager = await api("sales_manager")
    body = (await manager.get("/api/v1/reports/waits", params=MARCH)).json()
    assert [(k["name"], *figures(k)) for k in body["todo_kinds"]] == [
        ("approve", 3, 3.0, 10.0),  # W1's 1, 3, 10
        ("estimate_cost", 1, 5.0, 5.0),
    ]
    assert [(s["name"], *figures(s)) for s in body["stages"]] == [
        ("costing", 1, 5.0, 5.0),
        ("approval", 1, 10.0, 10.0),
        ("confirmed", 1, 24.0, 24.0),
    ]
    assert [t["order_number"] for t in body["open_todos"]] == ["SO-2026-80001"] * 2


async def test_a_period_outside_the_to_dos_finds_none(api, waits_data):
    director = await api("director")
    body = (
        await director.get(
            "/api/v1/reports/waits", params={"date_from": "2026-02-01", "date_to": "2026-02-28"}
        )
    ).json()
    # Only the approval completed on Feb 27 (100 h); no stage ended in February.
    assert [(k["name"], *figures(k)) for k in body["todo_kinds"]] == [("approve", 1, 100.0, 100.0)]
    assert body["stages"] == []


@pytest.mark.parametrize("username", ["sales", "ops", "finance", "pricing"])
async def test_where_orders_wait_is_refused_to_reps_and_other_roles(api, browser_session, username):
    client = await api(username)
    response = await client.get("/api/v1/reports/waits", params=MARCH)
    assert response.status_code == 403, response.text
    assert "operations managers, sales managers and directors" in response.json()["detail"]
    page = await (await browser_session(username)).get("/reports/waits")
    assert page.status_code == 403


async def test_a_bad_day_is_refused_before_anything_is_read(api, waits_data):
    manager = await api("ops_manager")
    response = await manager.get("/api/v1/reports/waits", params={"date_to": "31/03/2026"})
    assert response.status_code == 422
    assert response.json()["detail"] == "date_to must be a date such as 2026-06-30."


def svg_texts(page: str) -> list[str]:
    svg = re.search(r"<svg.*?</svg>", page, re.S)
    assert svg, "the page has no chart"
    assert "<script" not in svg.group(0)
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg.group(0))]


async def test_the_waits_page_charts_each_kind_and_lists_every_figure(browser_session, waits_data):
    client = await browser_session("director")
    response = await client.get("/reports/waits", params=MARCH)
    assert response.status_code == 200, response.text
    page = html.unescape(response.text)
    assert {"Approve the order", "Estimate the cost", "Median (p50)"} <= set(svg_texts(page))
    row = re.search(
        r'<table class="statistics wait-todos">.*?<tr data-row="approve">.*?</tr>', page, re.S
    )
    assert row
    cells = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', row.group(0)))
    assert cells == {"count": "5", "p50": "3 h", "p90": "10 h"}
    assert "Li Na: p50 3 h, p90 10 h, 3 done" in page


@needs_catalog
async def test_the_waits_page_speaks_chinese(browser_session, waits_data):
    client = await chinese_session(browser_session, "sales_manager")
    response = await client.get("/reports/waits", params=MARCH)
    assert response.status_code == 200, response.text
    page = html.unescape(response.text)
    assert "订单在哪里等待" in page
    texts = svg_texts(page)
    assert {"审批销售订单", "填写预估成本", "中位数（p50）"} <= set(texts), texts
    assert "10 小时" in page
    assert "SO-2026-80002" not in page  # North's open to-do: not in her tree
