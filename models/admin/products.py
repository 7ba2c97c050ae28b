"""Administration of products: the list, and creating or changing a product without overwriting
a stock movement made meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from i18n import N_
from models.admin.checks import AdminRefusal, at_most, plain_number, taken_by_another
from models.queries.sorting import SortOrder, sorted_rows, text_key
from models.tables import Product


@dataclass(frozen=True)
class ProductChange:
    """A product as entered; a figure None when it is not a number."""

    code: str
    name: str
    category: str
    unit: str
    list_price: Decimal | None
    standard_cost: Decimal | None
    stock_on_hand: Decimal | None
    needs_installation: bool
    active: bool
    # The stock the form showed (None when unknown): a stock movement since is not overwritten.
    stock_on_hand_was: Decimal | None


# The product list's columns a person may sort by (a short list, sorted in Python).
PRODUCT_SORTS: dict[str, Callable[[Product], Any]] = {
    "code": lambda p: text_key(p.code),
    "name": lambda p: text_key(p.name),
    "category": lambda p: text_key(p.category),
    "unit": lambda p: p.unit or None,
    "list_price": lambda p: p.list_price,
    "standard_cost": lambda p: p.standard_cost,
    "stock": lambda p: p.stock_on_hand,
    "reserved": lambda p: p.reserved,
    "available": lambda p: p.stock_on_hand - p.reserved,
    "installation": lambda p: not p.needs_installation,  # those that need it first
    "active": lambda p: not p.active,  # the active first
}


async def list_products(*, session: AsyncSession, sort: SortOrder | None = None) -> list[Product]:
    """Every product, by code unless sorted by another column."""
    found = await session.scalars(select(Product).order_by(Product.code))
    return sorted_rows(found, sort or SortOrder(), PRODUCT_SORTS)


async def get_product(*, session: AsyncSession, product_id: int) -> Product | None:
    return await session.get(Product, product_id)


class StockMoved(AdminRefusal):
    """The product's stock or reservations changed after the form was loaded."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "The stock of this product changed while you were editing. Check the figures "
                "and save again."
            )
        )


async def _check_texts(
    session: AsyncSession, product: Product | None, change: ProductChange
) -> None:
    """The code (unique, ignoring case), the name, the category and the unit."""
    code = at_most(change.code, 50, N_("A product code has at most %(max)s characters."))
    if not code:
        raise AdminRefusal(N_("Enter the product code."))
    editing_id = product.id if product is not None else None
    if await taken_by_another(session, Product.code, Product.id, code, editing_id):
        raise AdminRefusal(N_("There is already a product with code %(code)s."), code=code)
    name = at_most(change.name, 200, N_("A product name has at most %(max)s characters."))
    if not name:
        raise AdminRefusal(N_("Enter the product's name."))
    at_most(change.category, 50, N_("A category has at most %(max)s characters."))
    unit = at_most(change.unit, 20, N_("A unit has at most %(max)s characters."))
    if not unit:
        raise AdminRefusal(N_("Enter the unit the product is sold in (pcs, set, m, …)."))


def _checked_figures(
    product: Product | None, change: ProductChange
) -> tuple[Decimal, Decimal, Decimal]:
    """The list price, the standard cost and the stock on hand, which covers what is reserved
    and is still what the form showed."""
    list_price = change.list_price
    if list_price is None or list_price <= 0:
        raise AdminRefusal(
            N_("Enter the list price as an amount above 0, with at most two decimals.")
        )
    standard_cost = change.standard_cost
    if standard_cost is None or standard_cost <= 0:
        raise AdminRefusal(
            N_("Enter the standard cost as an amount above 0, with at most two decimals.")
        )
    stock = change.stock_on_hand
    if stock is None or stock < 0:
        raise AdminRefusal(
            N_("Enter the stock on hand as a quantity of 0 or more, with at most three decimals.")
        )
    reserved = product.reserved if product is not None else Decimal("0")
    if product is not None:
        was = change.stock_on_hand_was
        if was is not None and was != product.stock_on_hand:
            raise StockMoved()
    if stock < reserved:
        raise AdminRefusal(
            N_(
                "The stock on hand cannot be less than the %(reserved)s already reserved for "
                "confirmed orders."
            ),
            reserved=plain_number(reserved),
        )
    return list_price, standard_cost, stock


async def _update_unless_stock_moved(
    session: AsyncSession, product: Product, values: dict[str, Any]
) -> None:
    """Written only if stock and reservations are still what the checks saw (a conditional
    UPDATE), so a concurrent reservation or dispatch is never overwritten."""
    result = await session.execute(
        update(Product)
        .where(
            Product.id == product.id,
            Product.stock_on_hand == product.stock_on_hand,
            Product.reserved == product.reserved,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE's result is a CursorResult; Session.execute's signature only says Result.
    if cast("CursorResult[Any]", result).rowcount != 1:
        await session.rollback()
        raise StockMoved()
    await session.commit()
    await session.refresh(product)


async def save_product(
    *, session: AsyncSession, product: Product | None, change: ProductChange
) -> Product:
    await _check_texts(session, product, change)
    list_price, standard_cost, stock = _checked_figures(product, change)
    values = {
        "code": change.code,
        "name": change.name,
        "category": change.category,
        "unit": change.unit,
        "list_price": list_price,
        "standard_cost": standard_cost,
        "stock_on_hand": stock,
        "needs_installation": change.needs_installation,
        "active": change.active,
    }
    if product is None:
        product = Product(reserved=Decimal("0"), **values)
        session.add(product)
        await session.commit()
        return product
    await _update_unless_stock_moved(session, product, values)
    return product
