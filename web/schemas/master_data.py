"""Customers and products as the API returns them."""

from __future__ import annotations

from decimal import Decimal

from web.schemas.core import Model


class ContactOut(Model):
    id: int
    name: str
    email: str
    phone: str


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
