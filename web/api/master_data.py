"""Customers and products in the JSON API."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models.queries import sees_costs
from models.tables import Customer, Product
from web.api import ApiRoute
from web.deps import ApiUser, SessionDep
from web.schemas import CustomerOut, ProductOut
from web.views import product_out

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


@router.get("/customers", response_model=list[CustomerOut], tags=["master data"])
async def customers(user: ApiUser, session: SessionDep) -> list[CustomerOut]:
    rows = await session.scalars(
        select(Customer).options(selectinload(Customer.contacts)).order_by(Customer.name)
    )
    return [CustomerOut.model_validate(c) for c in rows]


@router.get("/products", response_model=list[ProductOut], tags=["master data"])
async def products(user: ApiUser, session: SessionDep) -> JSONResponse:
    """Active products; `standard_cost` only for the roles that may see costs."""
    costs = sees_costs(user)
    rows = await session.scalars(
        select(Product).where(Product.active.is_(True)).order_by(Product.code)
    )
    return JSONResponse(
        [
            product_out(p, sees_costs=costs).model_dump(
                mode="json", exclude=None if costs else {"standard_cost"}
            )
            for p in rows
        ]
    )
