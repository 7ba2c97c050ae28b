"""Exporting lists (issue 19, item 7): CSV and XLSX hold the list's rows with its filters and
scope, cost columns only for those who see costs; export is a permission of its own (403 in the
reader's language otherwise), and every export is in the audit log the administrator reads."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models.domain import Role
from models.tables import ExportAudit, Order
from tests import helpers

NOT_ALLOWED = ("sales", "follower", "pricing", "warehouse", "service", "admin")
ALLOWED = ("sales_manager", "director", "finance", "ops", "ops_manager")


async def orders_of(session_factory) -> dict[str, str]:
    """Three drafts: two of sales (East China, the sales manager's tree), one of sales2 (North);
    one of sales' is in costing with an expected cost. Number -> owner."""
    owners = {}
    for owner in ("sales", "sales", "sales2"):
        order = await helpers.draft(session_factory, owner)
        owners[order.number] = owner
    async with session_factory() as session:
        first = await session.scalar(select(Order).where(Order.number == min(owners)))
        first.stage = "costing"
        first.expected_cost = Decimal("100.00")
        first.expected_margin = Decimal("50.00")
        await session.commit()
    return owners


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list[object]]:
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def audits(session_factory) -> list[ExportAudit]:
    async with session_factory() as session:
        return list(await session.scalars(select(ExportAudit).order_by(ExportAudit.id)))


async def test_the_orders_csv_holds_the_lists_rows_in_its_order(api, session_factory):
    await orders_of(session_factory)
    director = await api("director")
    listed = (await director.get("/api/v1/orders")).json()["items"]
    rows = csv_rows(await director.get("/api/v1/orders", params={"format": "csv"}))
    assert rows[0][:7] == ["Order", "Customer", "Owner", "Department", "Stage", "Total", "Created"]
    assert rows[0][7:] == ["Expected cost", "Expected margin"]
    assert [r[0] for r in rows[1:]] == [o["number"] for o in listed]
    assert [Decimal(r[5]) for r in rows[1:]] == [Decimal(o["total"]) for o in listed]
    assert [r[2] for r in rows[1:]] == [o["owner"]["full_name"] for o in listed]


async def test_the_orders_xlsx_opens_and_holds_the_same_rows(api, session_factory):
    await orders_of(session_factory)
    director = await api("director")
    as_csv = csv_rows(await director.get("/api/v1/orders", params={"format": "csv"}))
    as_xlsx = xlsx_rows(await director.get("/api/v1/orders", params={"format": "xlsx"}))
    assert as_xlsx[0] == as_csv[0]
    assert [r[:5] for r in as_xlsx[1:]] == [r[:5] for r in as_csv[1:]]
    assert [Decimal(str(r[5])) for r in as_xlsx[1:]] == [Decimal(r[5]) for r in as_csv[1:]]
    assert [r[6].date().isoformat() for r in as_xlsx[1:]] == [r[6] for r in as_csv[1:]]


async def test_a_managers_export_holds_only_their_tree_and_the_filters(api, session_factory):
    owners = await orders_of(session_factory)
    manager = await api("sales_manager")
    rows = csv_rows(await manager.get("/api/v1/orders", params={"format": "csv"}))
    assert sorted(r[0] for r in rows[1:]) == sorted(n for n, o in owners.items() if o == "sales")
    costing = csv_rows(
        await manager.get("/api/v1/orders", params={"format": "csv", "stage": "costing"})
    )
    assert [r[0] for r in costing[1:]] == [min(owners)]


async def test_the_export_page_follows_the_page_filters(browser_session, session_factory):
    owners = await orders_of(session_factory)
    manager = await browser_session("sales_manager")
    page = await manager.get("/orders")
    assert "/orders/export.csv?" in page.text and "/orders/export.xlsx?" in page.text
    rows = xlsx_rows(await manager.get("/orders/export.xlsx", params={"stage": "costing"}))
    assert [r[0] for r in rows[1:]] == [min(owners)]
    rows = csv_rows(await manager.get("/orders/export.csv", params={"q": min(owners)}))
    assert [r[0] for r in rows[1:]] == [min(owners)]


async def test_cost_and_margin_columns_only_for_roles_that_see_costs(
    api, session_factory, monkeypatch
):
    await orders_of(session_factory)
    director = await api("director")
    assert (
        "Expected margin"
        in csv_rows(await director.get("/api/v1/orders", params={"format": "csv"}))[0]
    )
    # Every exporting role sees costs by default; were followers given the export, their
    # files would carry no cost figures.
    monkeypatch.setattr("models.exports.EXPORT_ROLES", frozenset({Role.follower}))
    follower = await api("follower")
    rows = csv_rows(await follower.get("/api/v1/orders", params={"format": "csv"}))
    assert rows[0] == ["Order", "Customer", "Owner", "Department", "Stage", "Total", "Created"]
    assert all(len(r) == 7 for r in rows) and "100.00" not in str(rows)


@pytest.mark.parametrize("username", NOT_ALLOWED)
async def test_an_export_without_the_permission_is_refused_and_not_audited(
    username, api, browser_session, session_factory
):
    await orders_of(session_factory)
    client = await api(username)
    for file_format in ("csv", "xlsx"):
        refused = await client.get("/api/v1/orders", params={"format": file_format})
        assert refused.status_code == 403
        assert "Exporting lists is for" in refused.json()["detail"]
    page_client = await browser_session(username)
    assert (await page_client.get("/orders/export.csv")).status_code == 403
    assert "/orders/export.csv" not in (await page_client.get("/orders")).text
    assert await audits(session_factory) == []


async def test_a_refused_export_says_so_in_chinese(api):
    rep = await api("sales")
    refused = await rep.get(
        "/api/v1/orders?format=csv", headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert refused.status_code == 403
    assert "导出" in refused.json()["detail"]


async def test_each_export_is_audited_with_who_the_list_the_filters_and_the_rows(
    api, session_factory
):
    owners = await orders_of(session_factory)
    manager = await api("sales_manager")
    csv_rows(await manager.get("/api/v1/orders", params={"format": "csv"}))
    xlsx_rows(await manager.get("/api/v1/orders", params={"format": "xlsx", "stage": "costing"}))
    first, second = await audits(session_factory)
    assert (first.list_name, first.file_format, first.filters, first.rows) == (
        "orders",
        "csv",
        {},
        sum(1 for o in owners.values() if o == "sales"),
    )
    assert (second.file_format, second.filters, second.rows) == ("xlsx", {"stage": "costing"}, 1)
    assert first.user.username == second.user.username == "sales_manager"


async def test_the_admin_reads_the_export_log_newest_first(api, browser_session, session_factory):
    await orders_of(session_factory)
    director = await api("director")
    await director.get("/api/v1/orders", params={"format": "csv"})
    await director.get("/api/v1/orders", params={"format": "xlsx", "stage": "costing"})
    admin = await browser_session("admin")
    page = await admin.get("/admin/exports")
    assert page.status_code == 200
    assert page.text.index("XLSX") < page.text.index("CSV")
    assert "stage" in page.text and "costing" in page.text


@pytest.mark.parametrize("username", ("director", "sales_manager", "sales"))
async def test_the_export_log_is_for_administrators_only(username, browser_session):
    client = await browser_session(username)
    assert (await client.get("/admin/exports")).status_code == 403
