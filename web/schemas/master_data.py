"""Customers and products as the API returns them."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from web.schemas.core import Model


class ContactOut(Model):
    id: int
    name: str
    email: str
    phone: str
    language: str = Field(description="The language of their mail: en or zh_CN.")


class ContactPatch(BaseModel):
    """The body of PATCH /api/v1/customers/{customer_id}/contacts/{contact_id}: only the
    fields given change (an absent or null field keeps its value)."""

    name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    language: str | None = Field(
        default=None,
        max_length=20,
        description="The language their mail is written in: en (English) or zh_CN "
        "(Simplified Chinese).",
    )


class CustomerOut(Model):
    id: int
    name: str
    level: str
    region: str
    industry: str
    credit_limit: Decimal
    tax_number: str
    invoice_title: str
    address: str
    contacts: list[ContactOut]


class ProductOut(Model):
    id: int
    code: str
    name: str
    category: str
    unit: str
    list_price: Decimal
    standard_cost: Decimal | None = None
    stock_on_hand: Decimal
    reserved: Decimal
    available: Decimal
    needs_installation: bool
