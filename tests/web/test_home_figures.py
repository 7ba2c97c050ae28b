"""The figures above the inbox, over a hand-built company (zone Asia/Shanghai) on 20 Nov 2026,
every expected figure written out here:

- A (Wang Fang, East): 70,000 confirmed 1 Nov 00:30 local (31 Oct 16:30 UTC: November); 10,000
  came back: 60,000 net; expected cost 40,000. 30,000 paid (received 5 Nov), 30,000 open, due
  10 Nov: overdue.
- B (Wang Fang, East): 20,000 confirmed 31 Oct 23:30 local: October; closed, actual cost 12,000
  (expected 15,000). 20,000 open, due 20 Oct: overdue.
- C (Liu Yang, East): 40,000 confirmed 12 Nov, expected cost 30,000; 20,000 due today (not
  overdue yet) and 20,000 due 12 Dec. 5,000 registered, not yet confirmed: not collected.
- D (Chen Jie, North): 50,000 confirmed 8 Nov, then cancelled (expected cost 35,000): nothing.
- E (Chen Jie, North): 40,000 confirmed 10 Sep, expected cost 20,000; 10,000 received 25 Sep,
  30,000 open, due 30 Sep: overdue.
- F (Chen Jie, North): 5,000 confirmed 1 Feb; 5,000 open, due 1 Mar: overdue, before the six
  months the director sees.

November's targets: Wang Fang 100,000 confirmed and 50,000 collected, Liu Yang 50,000
confirmed, Chen Jie 60,000 confirmed; East China office none of its own (its people's 150,000).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.tables import Installment, Order, Payment, Target, User
from tests import helpers
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401
from web.api.home import home_today

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 4, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
async def company(app, session_factory) -> dict[str, int]:
    app.dependency_overrides[home_today] = lambda: TODAY
    async with session_factory() as session:
        users = {u.username: u for u in await session.scalars(select(User))}

        def order(number: str, owner: str, total: str, confirmed: datetime, **kw) -> Order:
            placed = helpers.order_row(
                number=number, owner=users[owner], customer_id=1, total=Decimal(total),
                at=confirmed, **kw,
            )  # fmt: skip
            session.add(placed)
            return placed

        def money(amount: str) -> Decimal:
            return Decimal(amount)

        a = order("SO-2026-91001", "sales", "70000", utc(2026, 10, 31, 16, 30),
                  returned=money("10000"), expected_cost=money("40000"))  # fmt: skip
        b = order("SO-2026-91002", "sales", "20000", utc(2026, 10, 31, 15, 30), stage="closed",
                  expected_cost=money("15000"), actual_cost=money("12000"))  # fmt: skip
        c = order("SO-2026-91003", "follower", "40000", utc(2026, 11, 12, 2),
                  expected_cost=money("30000"))  # fmt: skip
        order("SO-2026-91004", "sales2", "50000", utc(2026, 11, 8, 2), stage="cancelled",
              expected_cost=money("35000"))  # fmt: skip
        e = order("SO-2026-91005", "sales2", "40000", utc(2026, 9, 10, 2),
                  expected_cost=money("20000"))  # fmt: skip
        f = order("SO-2026-91006", "sales2", "5000", utc(2026, 2, 1, 2))
        await session.flush()

        def installment(o: Order, position: int, amount: str, paid: str, due: date) -> None:
            session.add(
                Installment(
                    order_id=o.id,
                    position=position,
                    percent=Decimal("50"),
                    trigger="confirmation",
                    amount=Decimal(amount),
                    paid=Decimal(paid),
                    settled=amount == paid,
                    due_on=due,
                )
            )

        def payment(o: Order, amount: str, on: date, status: str = "confirmed") -> None:
            session.add(
                Payment(
                    order_id=o.id,
                    number=1,
                    amount=Decimal(amount),
                    received_on=on,
                    method="transfer",
                    reference=f"R{o.id}",
                    status=status,
                    registered_at=NOW,
                )
            )

        installment(a, 1, "30000", "30000", date(2026, 11, 1))
        installment(a, 2, "30000", "0", date(2026, 11, 10))
        installment(b, 1, "20000", "0", date(2026, 10, 20))
        installment(c, 1, "20000", "0", TODAY)
        installment(c, 2, "20000", "0", date(2026, 12, 12))
        installment(e, 1, "10000", "10000", date(2026, 9, 10))
        installment(e, 2, "30000", "0", date(2026, 9, 30))
        installment(f, 1, "5000", "0", date(2026, 3, 1))
        payment(a, "30000", date(2026, 11, 5))
        payment(c, "5000", date(2026, 11, 15), status="pending")
        payment(e, "10000", date(2026, 9, 25))
        for who, measure, amount in (
            ("sales", "confirmed", "100000"),
            ("sales", "collected", "50000"),
            ("follower", "confirmed", "50000"),
            ("sales2", "confirmed", "60000"),
        ):
            session.add(
                Target(
                    month="2026-11",
                    measure=measure,
                    user_id=users[who].id,
                    amount=Decimal(amount),
                    set_at=NOW,
                )
            )
        await session.commit()
        ids = {name: u.id for name, u in users.items()}
    yield ids
    app.dependency_overrides.pop(home_today, None)


def standing(key, name, target, confirmed, missing, percent, c_target, collected, *rest):
    c_missing, c_percent, overdue = rest
    return {
        "key": key,
        "name": name,
        "target": target,
        "confirmed": confirmed,
        "missing": missing,
        "achieved_percent": percent,
        "collection_target": c_target,
        "collected": collected,
        "collection_missing": c_missing,
        "collected_percent": c_percent,
        "overdue": overdue,
    }


def wang(key: int) -> dict:
    return standing(key, "Wang Fang", "100000.00", "60000.00", "40000.00", "60.00",
                    "50000.00", "30000.00", "20000.00", "60.00", "50000.00")  # fmt: skip


def liu(key: int) -> dict:
    return standing(key, "Liu Yang", "50000.00", "40000.00", "10000.00", "80.00",
                    None, "0.00", None, None, "0.00")  # fmt: skip


async def home(client) -> dict:
    answer = await client.get("/api/v1/reports/home")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_rep_sees_their_target_achieved_net_of_a_return_and_what_is_missing(api, company):
    body = await home(await api("sales"))
    assert (body["kind"], body["month"], body["first_day"], body["last_day"]) == (
        "own",
        "2026-11",
        "2026-11-01",
        "2026-11-30",
    )
    assert body["standing"] == wang(company["sales"])
    assert (body["overdue"], body["people"], body["months"]) == ("50000.00", [], [])


async def test_a_rep_without_a_target_sees_what_they_achieved_and_no_missing(api, company):
    body = await home(await api("sales2"))  # Chen Jie: D cancelled, nothing in November
    assert body["standing"] == standing(company["sales2"], "Chen Jie", "60000.00", "0.00",
        "60000.00", "0.00", None, "0.00", None, None, "35000.00")  # fmt: skip


async def test_a_follower_sees_their_own_target_and_missing_without_receivables(
    api, browser_session, company
):
    body = await home(await api("follower"))  # Liu Yang: C, 40,000 of a 50,000 target
    assert body["kind"] == "own" and body["overdue"] is None
    assert body["standing"] == {**liu(company["follower"]), "overdue": None}
    page = text_of(await (await browser_session("follower")).get("/"))
    assert "Still missing" in page and "CN¥10,000.00" in page
    assert 'data-figure="overdue"' not in page  # no receivables of their own to link to


async def test_a_manager_sees_their_tree_rolled_up_and_each_person(api, company):
    body = await home(await api("sales_manager"))
    assert body["kind"] == "tree"
    assert body["standing"] == standing(0, "East China office", "150000.00", "100000.00",
        "50000.00", "66.67", "50000.00", "30000.00", "20000.00", "60.00", "50000.00")  # fmt: skip
    assert body["people"] == [liu(company["follower"]), wang(company["sales"])]


async def test_the_director_sees_the_company_month_by_month_with_margin(api, company):
    body = await home(await api("director"))
    assert body["kind"] == "company" and body["standing"] is None
    assert body["months"] == [
        {"month": "2026-06", "revenue": "0.00", "margin": "0.00", "collected": "0.00",
         "overdue": "0.00"},
        {"month": "2026-07", "revenue": "0.00", "margin": "0.00", "collected": "0.00",
         "overdue": "0.00"},
        {"month": "2026-08", "revenue": "0.00", "margin": "0.00", "collected": "0.00",
         "overdue": "0.00"},
        {"month": "2026-09", "revenue": "40000.00", "margin": "20000.00", "collected": "10000.00",
         "overdue": "30000.00"},
        {"month": "2026-10", "revenue": "20000.00", "margin": "8000.00", "collected": "0.00",
         "overdue": "20000.00"},
        {"month": "2026-11", "revenue": "100000.00", "margin": "30000.00",
         "collected": "30000.00", "overdue": "30000.00"},
    ]  # fmt: skip
    assert (body["overdue_earlier"], body["overdue"]) == ("5000.00", "85000.00")


async def test_finance_sees_collection_and_overdue_but_not_revenue_or_margin(api, company):
    body = await home(await api("finance"))
    november = body["months"][-1]
    assert (november["revenue"], november["margin"]) == (None, None)
    assert (november["collected"], november["overdue"], body["overdue"]) == (
        "30000.00",
        "30000.00",
        "85000.00",
    )


@pytest.mark.parametrize("role", ["warehouse", "pricing", "ops", "service", "admin"])
async def test_a_role_without_home_figures_is_refused_them(api, company, role):
    answer = await (await api(role)).get("/api/v1/reports/home")
    assert answer.status_code == 403
    assert answer.json()["detail"] == (
        "The figures of the home page are for sales reps, followers, sales managers, directors "
        "and finance."
    )


def text_of(response) -> str:
    assert response.status_code == 200, response.text
    return html.unescape(re.sub(r"\s+", " ", response.text))


async def test_the_reps_home_page_says_what_is_still_missing_above_the_inbox(
    browser_session, company
):
    page = text_of(await (await browser_session("sales")).get("/"))
    block = page[page.index('data-home="own"') : page.index("</section>")]
    assert page.index("</section>") < page.index("<h1>My to-dos")
    assert "Where you stand in Nov 2026" in block
    assert 'Still missing</dt><dd><span class="late">CN¥40,000.00</span>' in block
    assert "Achieved so far</dt><dd>CN¥60,000.00</dd>" in block
    assert '<dd class="home-percent">60 % of the target</dd>' in block
    assert '?overdue=1">CN¥50,000.00</a>' in block
    assert "<svg" in block and "Chen Jie" not in page and "Liu Yang" not in page


async def test_the_managers_home_page_has_a_row_per_person(browser_session, company):
    page = text_of(await (await browser_session("sales_manager")).get("/"))
    assert "Your team in Nov 2026 · East China office" in page
    assert f'<tr data-person="{company["follower"]}"><td class="card-head">Liu Yang</td>' in page
    assert f'<tr data-person="{company["sales"]}"><td class="card-head">Wang Fang</td>' in page
    assert "Chen Jie" not in page


async def test_the_directors_home_page_has_the_months_with_margin(browser_session, company):
    page = text_of(await (await browser_session("director")).get("/"))
    november = page[page.index('<tr data-month="2026-11">') :]
    november = november[: november.index("</tr>")]
    assert '<td class="card-head">Nov 2026</td>' in november
    cells = re.findall(r'data-label="([^"]+)">([^<]+)</td>', november)
    assert cells == [
        ("Net revenue", "CN¥100,000.00"),
        ("Margin", "CN¥30,000.00"),
        ("Collected", "CN¥30,000.00"),
        ("Overdue", "CN¥30,000.00"),
    ]
    assert "Margin in Nov 2026" in page


async def test_a_warehouse_home_page_has_no_figures(browser_session, company):
    page = text_of(await (await browser_session("warehouse")).get("/"))
    assert "home-figures" not in page and "¥85,000.00" not in page and "My to-dos" in page


@needs_catalog
async def test_the_home_figures_speak_chinese(browser_session, company):
    client = await chinese_session(browser_session, "sales")
    page = text_of(await client.get("/"))
    assert "2026年11月业绩进度" in page and "尚差" in page and "¥40,000.00" in page
