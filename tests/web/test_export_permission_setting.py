"""The export permission is a setting the administrator edits per role (issue 19, item 7):
by default sales managers, directors, finance, ops and operations managers; the administrator
may give it to sales reps and take it back; an unknown role is refused and nothing changes;
only the administrator edits it."""

from __future__ import annotations

import re

from sqlalchemy import select

from models.tables import RolePermission
from tests.web.conftest import csrf_of

DEFAULT = {"sales_manager", "director", "finance", "ops", "ops_manager"}


async def ticked_roles(client) -> set[str]:
    page = await client.get("/admin/exports")
    assert page.status_code == 200
    return set(re.findall(r'name="roles" value="([a-z_]+)" checked', page.text))


async def save(client, roles: list[str], language: str = "en"):
    page = await client.get("/admin/exports")
    return await client.post(
        "/admin/exports/roles",
        data={"csrf_token": csrf_of(page.text), "roles": roles},
        headers={"Accept-Language": language},
    )


async def test_by_default_managers_director_finance_and_ops_may_export(browser_session):
    admin = await browser_session("admin")
    assert await ticked_roles(admin) == DEFAULT


async def test_the_admin_gives_sales_reps_the_export_and_takes_it_back(
    browser_session, api, session_factory
):
    admin = await browser_session("admin")
    saved = await save(admin, [*DEFAULT, "sales"])
    assert saved.status_code == 303
    assert await ticked_roles(admin) == {*DEFAULT, "sales"}
    rep = await browser_session("sales")
    assert "/orders/export.xlsx?" in (await rep.get("/orders")).text
    assert (await rep.get("/orders/export.csv")).status_code == 200
    rep_api = await api("sales")
    assert (await rep_api.get("/api/v1/orders", params={"format": "xlsx"})).status_code == 200

    assert (await save(admin, sorted(DEFAULT))).status_code == 303
    assert (await rep.get("/orders/export.csv")).status_code == 403
    assert "/orders/export.xlsx?" not in (await rep.get("/orders")).text
    assert (await rep_api.get("/api/v1/orders", params={"format": "csv"})).status_code == 403


async def test_taking_the_export_from_finance_refuses_their_exports(browser_session, api):
    admin = await browser_session("admin")
    assert (await save(admin, sorted(DEFAULT - {"finance"}))).status_code == 303
    finance = await api("finance")
    refused = await finance.get("/api/v1/orders", params={"format": "csv"})
    assert refused.status_code == 403
    assert "Exporting lists is for" in refused.json()["detail"]


async def test_an_unknown_role_is_refused_and_nothing_is_saved(browser_session, session_factory):
    admin = await browser_session("admin")
    for bad in ("emperor", "admin"):
        refused = await save(admin, ["sales", bad])
        assert refused.status_code == 422
        assert f"“{bad}” is not a role that can be given the export." in refused.text
    refused = await save(admin, ["emperor"], language="zh-CN")
    assert refused.status_code == 422 and "导出" in refused.text
    async with session_factory() as session:
        assert list(await session.scalars(select(RolePermission))) == []
    assert await ticked_roles(admin) == DEFAULT


async def test_only_the_administrator_edits_who_may_export(browser_session, session_factory):
    for username in ("director", "sales_manager", "sales"):
        client = await browser_session(username)
        assert (await client.get("/admin/exports")).status_code == 403
        page = await client.get("/orders")
        response = await client.post(
            "/admin/exports/roles",
            data={"csrf_token": csrf_of(page.text), "roles": ["sales"]},
        )
        assert response.status_code == 403
    async with session_factory() as session:
        assert list(await session.scalars(select(RolePermission))) == []
