"""The reports export to CSV and XLSX (issue 19, item 7) with the rows the reader's report holds:
cost variance for operations (every closed order of the period, cost columns), performance,
customer and order statistics and where orders wait in the reader's scope (a rep given the
export gets only their own numbers, a manager their tree); each audited."""

from __future__ import annotations

from decimal import Decimal

from tests.web.test_exports import audits, csv_rows, xlsx_rows
from tests.web.test_exports_lists import allow_export
from tests.web.test_performance_report import november  # noqa: F401
from tests.web.test_statistics_reports import PERIOD, sales_data  # noqa: F401


async def test_performance_exports_the_rows_and_total_of_the_readers_scope(
    api,
    november,  # noqa: F811
    session_factory,
):
    await allow_export(session_factory, "sales")
    params = {"period": "month", "value": "2026-11", "by": "person"}
    for username in ("director", "sales_manager", "sales"):
        client = await api(username)
        body = (await client.get("/api/v1/reports/performance", params=params)).json()
        rows = csv_rows(
            await client.get("/api/v1/reports/performance", params={**params, "format": "csv"})
        )
        assert rows[0][:3] == ["Per person", "Order target", "Confirmed"]
        assert [r[0] for r in rows[1:]] == [r["name"] for r in body["rows"]] + ["Total"]
        assert [Decimal(r[2]) for r in rows[1:-1]] == [
            Decimal(r["confirmed"]) for r in body["rows"]
        ]
    (*_, last) = await audits(session_factory)
    assert (last.list_name, last.filters) == ("performance", {**params})
    assert last.user.username == "sales"


async def test_customer_statistics_export_holds_a_reps_own_customers_only(
    api,
    sales_data,  # noqa: F811
    session_factory,
):
    await allow_export(session_factory, "sales")
    rep = await api("sales")
    params = {**PERIOD, "by": "customer"}
    rows = xlsx_rows(
        await rep.get("/api/v1/reports/customers", params={**params, "format": "xlsx"})
    )
    assert rows[0][:3] == ["Level", "Customer", "Orders"]
    assert sorted(r[1] for r in rows[1:]) == [
        "Hangzhou Green Foods Ltd.",
        "Shanghai Precision Machinery Co.",
    ]
    (audit,) = await audits(session_factory)
    assert (audit.list_name, audit.rows, audit.filters["by"]) == (
        "customer_statistics",
        2,
        "customer",
    )


async def test_order_statistics_export_has_a_row_per_group_and_month(
    api,
    sales_data,  # noqa: F811
    session_factory,
):
    manager = await api("sales_manager")
    body = (await manager.get("/api/v1/reports/orders", params=PERIOD)).json()
    rows = csv_rows(await manager.get("/api/v1/reports/orders", params={**PERIOD, "format": "csv"}))
    assert rows[0] == ["Department", "Month", "Orders", "Amount"]
    expected = sum(1 for g in body["groups"] for m in g["months"] if m["orders"])
    assert len(rows) - 1 >= expected
    assert sum(Decimal(r[3]) for r in rows[1:]) == Decimal(body["amount"])


async def test_waits_and_cost_variance_export_for_operations(api, sales_data, session_factory):  # noqa: F811
    ops_manager = await api("ops_manager")
    rows = csv_rows(
        await ops_manager.get("/api/v1/reports/waits", params={**PERIOD, "format": "csv"})
    )
    assert rows[0][:3] == ["Measured", "Stage or to-do kind", "Breakdown"]
    ops = await api("ops")
    rows = csv_rows(await ops.get("/api/v1/reports/cost-variance", params={"format": "csv"}))
    assert rows[0][6:10] == ["Expected cost", "Actual cost", "Variance", "Variance %"]
    # finance may export but has no waits report: 403 from the report, nothing audited for it
    finance = await api("finance")
    refused = await finance.get("/api/v1/reports/waits", params={"format": "csv"})
    assert refused.status_code == 403
    assert [a.list_name for a in await audits(session_factory)] == ["waits", "cost_variance"]
