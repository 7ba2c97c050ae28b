"""Monthly targets per person and per department: sales managers set their department tree's,
directors everyone's, through the API, the page and a CSV or XLSX file; a department's target
is the sum of its people's unless set above it; every bad target is refused and saves nothing."""

from __future__ import annotations

import html
import io

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select

from models.tables import Department, Target, User
from tests.web.conftest import csrf_of
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401

MONTH = "2026-11"


@pytest.fixture
async def ids(session_factory) -> dict[str, int]:
    """Users by username and departments by name, as ids."""
    async with session_factory() as session:
        users = {u.username: u.id for u in await session.scalars(select(User))}
        departments = {d.name: d.id for d in await session.scalars(select(Department))}
    return {**users, **departments}


async def saved_targets(session_factory) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count(Target.id))) or 0)


def person(user_id: int, amount: object, measure: str = "confirmed", month: str = MONTH) -> dict:
    return {"month": month, "measure": measure, "user_id": user_id, "amount": amount}


def department(dep_id: int, amount: object, measure: str = "confirmed") -> dict:
    return {"month": MONTH, "measure": measure, "department_id": dep_id, "amount": amount}


def tree_of(body: dict) -> dict[str, dict]:
    return {d["name"]: d for d in body["departments"]}


async def test_a_departments_target_is_the_sum_of_its_peoples_until_set_above_it(api, ids):
    manager = await api("sales_manager")
    saved = await manager.put(
        "/api/v1/targets",
        json=[
            person(ids["sales"], "300000"),
            person(ids["follower"], 200000),
            person(ids["sales"], "150000", "collected"),
        ],
    )
    assert saved.status_code == 200, saved.text
    east = tree_of((await manager.get(f"/api/v1/targets?month={MONTH}")).json())[
        "East China office"
    ]
    assert east["confirmed"] == {"own": None, "default": "500000.00", "target": "500000.00"}
    assert east["collected"]["target"] == "150000.00"
    people = {p["username"]: p for p in east["people"]}
    assert people["sales"]["confirmed"] == "300000.00"
    assert people["sales_manager"]["confirmed"] is None
    above = await manager.put(
        "/api/v1/targets", json=[department(ids["East China office"], 650000)]
    )
    assert above.status_code == 200, above.text
    east = tree_of((await manager.get(f"/api/v1/targets?month={MONTH}")).json())[
        "East China office"
    ]
    assert east["confirmed"] == {"own": "650000.00", "default": "500000.00", "target": "650000.00"}


async def test_a_department_target_below_its_peoples_sum_is_refused_and_nothing_is_saved(
    api, ids, session_factory
):
    manager = await api("sales_manager")
    refused = await manager.put(
        "/api/v1/targets",
        json=[person(ids["sales"], 300000), department(ids["East China office"], 100000)],
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "The order target of East China office cannot be below 300,000.00, the sum of its"
        " people's and sub-departments' targets."
    )
    assert await saved_targets(session_factory) == 0


async def test_a_director_sets_everyones_targets_and_the_sales_tree_rolls_up(api, ids):
    director = await api("director")
    saved = await director.put(
        "/api/v1/targets",
        json=[person(ids["sales"], 100000), person(ids["sales2"], 50000)],
    )
    assert saved.status_code == 200, saved.text
    tree = tree_of((await director.get(f"/api/v1/targets?month={MONTH}")).json())
    assert tree["Sales"]["confirmed"]["target"] == "150000.00"
    assert tree["Sales"]["depth"] == 0 and tree["North China office"]["depth"] == 1
    assert "Warehouse" not in tree  # nobody there enters orders


async def test_a_manager_sees_and_sets_only_their_own_department_tree(api, ids, session_factory):
    manager = await api("sales_manager")
    tree = tree_of((await manager.get(f"/api/v1/targets?month={MONTH}")).json())
    assert list(tree) == ["East China office"]
    other_person = await manager.put(
        "/api/v1/targets", json=[person(ids["sales"], 1), person(ids["sales2"], 100)]
    )
    assert other_person.status_code == 403
    assert other_person.json()["detail"] == (
        "Chen Jie is not in your department tree: you cannot set their target."
    )
    other_department = await manager.put(
        "/api/v1/targets", json=[department(ids["North China office"], 100)]
    )
    assert other_department.status_code == 403
    assert "North China office is not in your department tree" in other_department.json()["detail"]
    assert await saved_targets(session_factory) == 0


@pytest.mark.parametrize("username", ["sales", "follower", "finance", "admin"])
async def test_only_sales_managers_and_directors_read_or_set_targets(api, ids, username):
    client = await api(username)
    read = await client.get(f"/api/v1/targets?month={MONTH}")
    assert read.status_code == 403
    assert read.json()["detail"] == (
        "Targets are set by sales managers for their department tree and by directors."
    )
    write = await client.put("/api/v1/targets", json=[person(ids["sales"], 1)])
    assert write.status_code == 403


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"amount": "-5"}, "A target cannot be negative."),
        ({"amount": "lots"}, "The target must be an amount such as 120000 or 120000.50."),
        ({"month": "2026-13"}, "2026-13 is not a month: write it as 2026-11."),
        ({"measure": "revenue"}, "The measure must be confirmed (order amount) or collected"),
    ],
)
async def test_a_bad_target_is_refused_with_what_is_wrong_and_nothing_is_saved(
    api, ids, session_factory, entry, message
):
    manager = await api("sales_manager")
    refused = await manager.put(
        "/api/v1/targets", json=[person(ids["follower"], 10), {**person(ids["sales"], 10), **entry}]
    )
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith(message)
    assert await saved_targets(session_factory) == 0


async def test_a_month_the_calendar_does_not_have_is_refused_when_reading(api):
    refused = await (await api("sales_manager")).get("/api/v1/targets?month=2026-13")
    assert refused.status_code == 422
    assert refused.json()["detail"] == "2026-13 is not a month: write it as 2026-11."


@needs_catalog
async def test_a_negative_target_is_refused_in_chinese(api, ids):
    manager = await api("sales_manager")
    refused = await manager.put(
        "/api/v1/targets",
        json=[person(ids["sales"], -1)],
        headers={"Accept-Language": "zh-CN"},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == "目标不能为负数。"


# --- the page ----------------------------------------------------------------------------------


async def test_a_manager_saves_targets_on_the_page(browser_session, ids, api):
    page_client = await browser_session("sales_manager")
    page = await page_client.get(f"/targets?month={MONTH}")
    assert page.status_code == 200
    assert f'name="confirmed-u-{ids["sales"]}"' in page.text
    assert f'name="confirmed-u-{ids["sales2"]}"' not in page.text
    saved = await page_client.post(
        "/targets",
        data={
            "csrf_token": csrf_of(page.text),
            "month": MONTH,
            f"confirmed-u-{ids['sales']}": "120,000",
            f"collected-d-{ids['East China office']}": "90000",
        },
    )
    assert saved.status_code == 303
    shown = await page_client.get(saved.headers["location"])
    assert "The targets of 2026-11 are saved." in shown.text
    east = tree_of(
        (await (await api("sales_manager")).get(f"/api/v1/targets?month={MONTH}")).json()
    )
    assert east["East China office"]["confirmed"]["target"] == "120000.00"
    assert east["East China office"]["collected"]["own"] == "90000.00"


async def test_the_page_says_a_refusal_at_its_field_and_saves_nothing(
    browser_session, ids, session_factory
):
    page_client = await browser_session("sales_manager")
    page = await page_client.get(f"/targets?month={MONTH}")
    refused = await page_client.post(
        "/targets",
        data={
            "csrf_token": csrf_of(page.text),
            "month": MONTH,
            f"confirmed-u-{ids['sales']}": "-3",
            f"confirmed-u-{ids['follower']}": "500",
        },
    )
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert f'data-error="confirmed-u-{ids["sales"]}">A target cannot be negative.' in text
    assert 'value="500"' in text  # what was typed stays
    below = await page_client.post(
        "/targets",
        data={
            "csrf_token": csrf_of(page.text),
            "month": MONTH,
            f"confirmed-u-{ids['sales']}": "300",
            f"confirmed-d-{ids['East China office']}": "200",
        },
    )
    assert below.status_code == 422
    field = f'data-error="confirmed-d-{ids["East China office"]}">The order target of East'
    assert field in html.unescape(below.text)
    assert await saved_targets(session_factory) == 0


@pytest.mark.parametrize("username", ["sales", "finance"])
async def test_the_targets_page_is_refused_to_other_roles(browser_session, username):
    refused = await (await browser_session(username)).get("/targets")
    assert refused.status_code == 403
    assert "Targets are set by sales managers" in html.unescape(refused.text)


@needs_catalog
async def test_the_targets_page_speaks_chinese(browser_session, ids):
    client = await chinese_session(browser_session, "sales_manager")
    page = await client.get(f"/targets?month={MONTH}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "订单目标" in text and "回款目标" in text and "保存目标" in text
    refused = await client.post(
        "/targets",
        data={
            "csrf_token": csrf_of(page.text),
            "month": MONTH,
            f"confirmed-u-{ids['sales']}": "abc",
        },
    )
    assert refused.status_code == 422
    assert "目标必须是金额，例如 120000 或 120000.50。" in html.unescape(refused.text)


# --- import ------------------------------------------------------------------------------------


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_targets_import_from_a_csv_file(api, ids):
    manager = await api("sales_manager")
    content = (
        "month,username,department,measure,amount\n"
        "2026-11,sales,,confirmed,300000\n"
        "2026-11,follower,,confirmed,100000\n"
        "2026-11,,East China office,collected,250000\n"
    )
    imported = await manager.post(
        "/api/v1/targets/import", files={"file": ("targets.csv", content.encode(), "text/csv")}
    )
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"saved": 3}
    east = tree_of((await manager.get(f"/api/v1/targets?month={MONTH}")).json())[
        "East China office"
    ]
    assert east["confirmed"]["target"] == "400000.00"
    assert east["collected"]["own"] == "250000.00"


async def test_targets_import_from_an_xlsx_file(api, ids):
    director = await api("director")
    content = xlsx(
        [
            ["Month", "Username", "Measure", "Amount"],
            ["2026-11", "sales2", "collected", 80000],
            ["2026-12", "sales2", "collected", 90000.5],
        ]
    )
    imported = await director.post(
        "/api/v1/targets/import", files={"file": ("targets.xlsx", content, "application/zip")}
    )
    assert imported.status_code == 200, imported.text
    december = tree_of((await director.get("/api/v1/targets?month=2026-12")).json())
    people = {p["username"]: p for p in december["North China office"]["people"]}
    assert people["sales2"]["collected"] == "90000.50"


async def test_a_bad_import_file_says_each_bad_row_and_saves_nothing(api, session_factory):
    manager = await api("sales_manager")
    content = xlsx(
        [
            ["month", "username", "measure", "amount"],
            ["2026-11", "sales", "confirmed", 1000],
            ["2026-11", "nobody", "confirmed", 1000],
            ["2026-11", "sales", "confirmed", 2000],
            ["2026-13", "follower", "confirmed", 1000],
            ["2026-11", "follower", "collected", -1],
            ["2026-11", "sales2", "collected", 1],
        ]
    )
    refused = await manager.post(
        "/api/v1/targets/import", files={"file": ("targets.xlsx", content, "application/zip")}
    )
    assert refused.status_code == 422
    assert refused.json()["rows"] == [
        {"row": 3, "detail": "There is no user nobody."},
        {"row": 4, "detail": "This row repeats row 2."},
        {"row": 5, "detail": "2026-13 is not a month: write it as 2026-11."},
        {"row": 6, "detail": "A target cannot be negative."},
    ]
    assert refused.json()["detail"] == "Row 3: There is no user nobody."
    assert await saved_targets(session_factory) == 0
    outside = await manager.post(
        "/api/v1/targets/import",
        files={"file": ("t.csv", b"month,username,measure,amount\n2026-11,sales2,collected,1\n")},
    )
    assert outside.status_code == 403
    assert outside.json()["rows"] == [
        {
            "row": 2,
            "detail": "Chen Jie is not in your department tree: you cannot set their target.",
        }
    ]
    assert await saved_targets(session_factory) == 0


async def test_an_import_file_without_a_column_is_refused(api):
    refused = await (await api("sales_manager")).post(
        "/api/v1/targets/import",
        files={"file": ("t.csv", b"month,username,amount\n2026-11,sales,1\n", "text/csv")},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "The file has no column measure (it needs month, username or department, measure and"
        " amount)."
    )


async def test_the_page_lists_the_bad_rows_of_an_import(browser_session, session_factory):
    client = await browser_session("sales_manager")
    page = await client.get(f"/targets?month={MONTH}")
    refused = await client.post(
        "/targets/import",
        data={"csrf_token": csrf_of(page.text), "month": MONTH},
        files={
            "file": (
                "t.csv",
                b"month,username,measure,amount\n2026-11,sales,confirmed,5\n2026-11,zed,confirmed,1\n",
                "text/csv",
            )
        },
    )
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Nothing was imported" in text
    assert '<li data-row="3">Row 3: There is no user zed.</li>' in text
    assert await saved_targets(session_factory) == 0
