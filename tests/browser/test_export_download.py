"""A sales manager downloads the order list as XLSX from the list page (issue 19, item 7), in
English and in Chinese: the file opens with openpyxl and holds their orders."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from models.tables import User
from tests import helpers
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled  # noqa: F401

LINK = {"en": "Export XLSX", "zh_CN": "导出 XLSX"}
HEADER = {"en": "Order", "zh_CN": "订单编号"}


@needs_catalog
@pytest.mark.parametrize("language", ["en", "zh_CN"])
async def test_a_manager_downloads_the_order_list_as_xlsx(
    language, sign_in, session_factory, tmp_path
):
    mine = await helpers.draft(session_factory, "sales")
    other = await helpers.draft(session_factory, "sales2")  # another tree
    async with session_factory() as session:
        await session.execute(
            update(User).where(User.username == "sales_manager").values(locale=language)
        )
        await session.commit()
    page = await sign_in("sales_manager")
    await page.goto("/orders")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name=LINK[language]).click()
    download = await download_info.value
    assert download.suggested_filename.startswith("orders-")
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    await download.save_as(path)
    rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    assert rows[0][0] == HEADER[language]
    numbers = [row[0] for row in rows[1:]]
    assert mine.number in numbers and other.number not in numbers
