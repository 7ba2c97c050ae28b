"""The order list's export page routes: /orders/export.csv and /orders/export.xlsx with the
list's own filters and order."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from web.deps import SessionDep
from web.exports import ExportFormat, export_response
from web.exports.access import PageExporter, exporter_of
from web.exports.orders import orders_export
from web.pages.common import page_router
from web.pages.orders.entry import OrderListParams

router = page_router()


@router.get("/orders/export.{file_format}")
async def export_orders(
    request: Request,
    user: PageExporter,
    session: SessionDep,
    file_format: ExportFormat,
    query: OrderListParams,
) -> Response:
    export = await orders_export(
        request=request,
        session=session,
        user=user,
        filters=query.filters,
        shown={k: v for k, v in query.shown.items() if v},
    )
    return await export_response(
        export, file_format=file_format, exporter=exporter_of(request, user)
    )
