"""Administration of products: the list, a new or edited product and its stock."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models import admin
from models.admin import AdminRefusal, StockMoved
from models.admin.products import PRODUCT_SORTS
from models.queries.sorting import SortOrder
from models.tables import Product, User
from web.deps import PageAdmin, SessionDep
from web.forms.admin import ProductFields
from web.pages.admin.common import fields_of, gettext_for, not_found
from web.pages.common import page_router
from web.sorting import SortColumn, SortDirection, SortLinks
from web.templating import flash, render

router = page_router()


async def _product_form(
    request: Request,
    me: User,
    product: Product | None,
    values: ProductFields,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin/products/form.html",
        user=me,
        product=product,
        values=values,
        error=error,
        status_code=422 if error else 200,
    )


async def _product(request: Request, me: User, session: AsyncSession, product_id: int) -> Product:
    product = await admin.get_product(session=session, product_id=product_id)
    if product is None:
        raise not_found(request, me, N_("There is no such product."))
    return product


async def _save_product(
    request: Request, me: User, session: AsyncSession, product: Product | None
) -> Response:
    values: ProductFields = fields_of(await request.form(), ProductFields)
    t = gettext_for(request, me)
    try:
        saved = await admin.save_product(session=session, product=product, change=values.change())
    except StockMoved as refusal:
        assert product is not None  # only an existing product's stock can have moved
        # Show the current figures; saving again then overwrites them knowingly.
        await session.refresh(product)
        values.stock_on_hand_was = ProductFields.of(product).stock_on_hand_was
        return await _product_form(request, me, product, values, refusal.translated(t))
    except AdminRefusal as refusal:
        return await _product_form(request, me, product, values, refusal.translated(t))
    flash(request, t("Product %(code)s is saved.") % {"code": saved.code})
    return RedirectResponse("/admin/products", status_code=303)


@router.get("/admin/products")
async def product_list(
    request: Request,
    me: PageAdmin,
    session: SessionDep,
    sort: SortColumn = "",
    direction: SortDirection = "",
) -> HTMLResponse:
    order = SortOrder.of(sort, direction, PRODUCT_SORTS)
    return render(
        request,
        "admin/products/index.html",
        user=me,
        products=await admin.list_products(session=session, sort=order),
        sorting=SortLinks("/admin/products", order, usual=SortOrder("code")),
    )


@router.get("/admin/products/new")
async def new_product_form(request: Request, me: PageAdmin) -> HTMLResponse:
    return await _product_form(request, me, None, ProductFields())


@router.post("/admin/products/new")
async def create_product(request: Request, me: PageAdmin, session: SessionDep) -> Response:
    return await _save_product(request, me, session, None)


@router.get("/admin/products/{product_id}")
async def edit_product_form(
    request: Request, product_id: int, me: PageAdmin, session: SessionDep
) -> HTMLResponse:
    product = await _product(request, me, session, product_id)
    return await _product_form(request, me, product, ProductFields.of(product))


@router.post("/admin/products/{product_id}")
async def edit_product(
    request: Request, product_id: int, me: PageAdmin, session: SessionDep
) -> Response:
    product = await _product(request, me, session, product_id)
    return await _save_product(request, me, session, product)
