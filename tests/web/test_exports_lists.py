"""Every list exports to CSV and XLSX (issue 19, item 7): the inbox, receivables and their
aging hold the rows the reader's list holds (a rep their own, a manager their tree, finance
all), an approval's margin only for the roles that see costs; a sales rep is refused (403,
page and API) unless the administrator gave reps the export; each export is audited with its
list's name, filters and rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.exports import EXPORT_ROLES, save_export_roles
from models.tables import User
from tests.web.test_exports import audits, csv_rows, xlsx_rows
from tests.web.test_inbox_rows import new_draft, seed
from tests.web.test_receivables_api import BOOK, EVERYONE, book  # noqa: F401

EXPORTING_API_LISTS = (
    "/api/v1/todos",
    "/api/v1/receivables",
    "/api/v1/receivables/aging",
    "/api/v1/reports/cost-variance",
    "/api/v1/reports/performance",
    "/api/v1/reports/customers",
    "/api/v1/reports/orders",
)
EXPORTING_PAGES = (
    "/receivables/export",
    "/receivables/aging/export",
    "/reports/cost-variance/export",
    "/reports/performance/export",
    "/reports/customers/export",
    "/reports/orders/export",
    "/reports/waits/export",
)


async def allow_export(session_factory, *extra: str) -> None:
    """The administrator gives the export to the default roles and `extra`."""
    async with session_factory() as session:
        admin = await session.scalar(select(User).where(User.username == "admin"))
        roles = [r.value for r in EXPORT_ROLES] + list(extra)
        await save_export_roles(session=session, user=admin, roles=roles)


def numbers(rows: list[list], column: int = 0) -> list[str]:
    return [str(r[column]) for r in rows[1:]]


async def test_the_inbox_exports_every_todo_of_the_reader_as_filtered(api, session_factory):
    mine = [await new_draft(api) for _ in range(3)]
    late = datetime.now(UTC) - timedelta(hours=2)
    for number in mine:
        await seed(session_factory, number, "approve", username="sales_manager", due_at=late)
    await seed(session_factory, mine[0], "confirm_payment", username="finance")
    manager = await api("sales_manager")
    listed = (await manager.get("/api/v1/todos")).json()
    rows = csv_rows(await manager.get("/api/v1/todos", params={"format": "csv"}))
    assert rows[0][:8] == [
        "What is asked", "Order", "Customer", "Total", "Asked by", "Since", "Due", "Late",
    ]  # fmt: skip
    assert numbers(rows, 1) == [t["order_number"] for t in listed] and len(rows) == 4
    assert all(r[7] == "Yes" for r in rows[1:])
    one = xlsx_rows(await manager.get("/api/v1/todos", params={"format": "xlsx", "order": mine[1]}))
    assert numbers(one, 1) == [mine[1]]
    (first, second) = await audits(session_factory)
    assert (first.list_name, first.rows, first.filters) == ("todos", 3, {})
    assert (second.file_format, second.rows, second.filters) == ("xlsx", 1, {"order": mine[1]})


async def test_an_approvals_margin_is_exported_only_to_roles_that_see_costs(api, session_factory):
    number = await new_draft(api)
    facts = {"total": "1000.00", "max_discount_percent": "0", "expected_margin": "321.00",
             "expected_margin_percent": "32.1"}  # fmt: skip
    await seed(session_factory, number, "approve", facts, username="sales_manager")
    await seed(session_factory, number, "approve", facts, username="follower")
    manager = await api("sales_manager")
    rows = csv_rows(await manager.get("/api/v1/todos", params={"format": "csv"}))
    assert rows[0][8:] == ["Expected margin", "Expected margin %"]
    assert rows[1][8:] == ["321.00", "32.1"]
    await allow_export(session_factory, "follower")
    follower = await api("follower")
    rows = csv_rows(await follower.get("/api/v1/todos", params={"format": "csv"}))
    assert len(rows[0]) == 8 and numbers(rows, 1) == [number] and "321" not in str(rows)


@pytest.mark.parametrize(
    ("username", "expected"),
    [("sales", ["A", "I", "B"]), ("sales_manager", ["A", "D", "I", "B"]), ("finance", EVERYONE)],
)
async def test_receivables_export_the_readers_scope_in_the_lists_order(
    api,
    book,  # noqa: F811
    session_factory,
    username,
    expected,
):
    await allow_export(session_factory, "sales")
    client = await api(username)
    rows = csv_rows(await client.get("/api/v1/receivables", params={"format": "csv"}))
    assert rows[0][:3] == ["Order", "Customer", "Owner"]
    assert numbers(rows) == [book.numbers[k] for k in expected]
    sheet = xlsx_rows(await client.get("/api/v1/receivables", params={"format": "xlsx"}))
    assert [Decimal(str(r[7])) for r in sheet[1:]] == [Decimal(r[7]) for r in rows[1:]]


async def test_the_receivables_page_export_keeps_the_overdue_filter_and_is_audited(
    browser_session,
    book,  # noqa: F811
    session_factory,
):
    finance = await browser_session("finance")
    page = await finance.get("/receivables", params={"overdue": "1"})
    assert "/receivables/export.xlsx?overdue=1" in page.text
    rows = xlsx_rows(await finance.get("/receivables/export.xlsx", params={"overdue": "1"}))
    assert numbers(rows) == [book.numbers[k] for k in ("E", "A", "D", "C")]
    (audit,) = await audits(session_factory)
    assert (audit.list_name, audit.filters, audit.rows) == ("receivables", {"overdue": "1"}, 4)


async def test_aging_exports_each_customer_and_the_total_row(api, book, session_factory):  # noqa: F811
    manager = await api("sales_manager")
    listed = (await manager.get("/api/v1/receivables/aging")).json()
    rows = csv_rows(await manager.get("/api/v1/receivables/aging", params={"format": "csv"}))
    assert rows[0] == [
        "Customer", "Not yet due", "1–30 days overdue", "31–60 days overdue",
        "61–90 days overdue", "Over 90 days overdue", "Total", "Value returned",
    ]  # fmt: skip
    assert [r[0] for r in rows[1:]] == [c["customer"]["name"] for c in listed["customers"]] + [
        "Total"
    ]
    assert Decimal(rows[-1][6]) == Decimal(listed["total"]["total"])
    (audit,) = await audits(session_factory)
    assert (audit.list_name, audit.rows) == ("aging", len(listed["customers"]) + 1)


async def test_export_headers_are_in_the_readers_language(api, book):  # noqa: F811
    finance = await api("finance")
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    rows = csv_rows(await finance.get("/api/v1/receivables/aging?format=csv", headers=zh))
    assert rows[0][0] == "客户" and rows[-1][0] == "总额"


@pytest.mark.parametrize("path", EXPORTING_API_LISTS)
async def test_a_sales_rep_is_refused_every_export_and_nothing_is_audited(
    api, session_factory, path
):
    rep = await api("sales")
    for file_format in ("csv", "xlsx"):
        refused = await rep.get(path, params={"format": file_format})
        assert refused.status_code == 403, refused.text
    assert await audits(session_factory) == []


async def test_a_sales_rep_is_refused_every_export_page(browser_session, session_factory):
    rep = await browser_session("sales")
    for path in EXPORTING_PAGES:
        refused = await rep.get(f"{path}.csv", headers={"Accept-Language": "zh-CN"})
        assert refused.status_code == 403, path
        assert "导出" in refused.text
    assert await audits(session_factory) == []
