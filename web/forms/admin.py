"""The admin forms for users, departments, customers and products: every field as it was typed,
and the values read from it that models.admin checks and saves."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from models.admin import (
    ContactChange,
    CustomerChange,
    DepartmentChange,
    ProductChange,
    UserChange,
    plain_number,
)
from models.tables import Customer, Department, Product, User


def _choice(value: str) -> int | None:
    """The id picked from a list: None when none was, 0 (an id no row has, so refused like any
    other id not in the list) when the text is not a number."""
    value = value.strip()
    if not value:
        return None
    return int(value) if value.isdigit() else 0


def _decimal(value: str, places: int) -> Decimal | None:
    """The number typed (thousands separators allowed), or None when it is not one."""
    try:
        number = Decimal(value.replace(",", "").strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= 10**15:
        return None
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # a letter only for infinities and NaNs
    if exponent < -places:
        return None
    return number


# Users ------------------------------------------------------------------------------------------


@dataclass
class UserFields:
    username: str = ""
    full_name: str = ""
    email: str = ""
    role: str = ""
    department_id: str = ""
    manager_id: str = ""
    active: bool = True
    password: str = ""

    @classmethod
    def of(cls, user: User) -> UserFields:
        return cls(
            username=user.username,
            full_name=user.full_name,
            email=user.email,
            role=user.role,
            department_id=str(user.department_id),
            manager_id=str(user.manager_id or ""),
            active=user.active,
        )

    def change(self) -> UserChange:
        return UserChange(
            username=self.username.strip(),
            full_name=self.full_name.strip(),
            email=self.email.strip(),
            role=self.role,
            department_id=_choice(self.department_id),
            manager_id=_choice(self.manager_id),
            active=self.active,
            password=self.password,
        )


# Departments ------------------------------------------------------------------------------------


@dataclass
class DepartmentFields:
    name: str = ""
    parent_id: str = ""
    manager_id: str = ""

    @classmethod
    def of(cls, department: Department) -> DepartmentFields:
        return cls(
            name=department.name,
            parent_id=str(department.parent_id or ""),
            manager_id=str(department.manager_id or ""),
        )

    def change(self) -> DepartmentChange:
        return DepartmentChange(
            name=self.name.strip(),
            parent_id=_choice(self.parent_id),
            manager_id=_choice(self.manager_id),
        )


# Customers --------------------------------------------------------------------------------------


@dataclass
class ContactFields:
    id: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""
    language: str = ""  # empty when the form did not send one: the contact keeps theirs

    def is_blank(self) -> bool:
        # The language alone does not make a contact: a blank row has its select too.
        return not (self.name.strip() or self.email.strip() or self.phone.strip())

    def change(self) -> ContactChange:
        return ContactChange(
            id=_choice(self.id),
            name=self.name.strip(),
            email=self.email.strip(),
            phone=self.phone.strip(),
            language=self.language.strip() or None,
        )


@dataclass
class CustomerFields:
    name: str = ""
    level: str = "B"
    region: str = ""
    industry: str = ""
    credit_limit: str = ""
    tax_number: str = ""
    invoice_title: str = ""
    address: str = ""
    contacts: list[ContactFields] = field(default_factory=list)

    @classmethod
    def of(cls, customer: Customer) -> CustomerFields:
        return cls(
            name=customer.name,
            level=customer.level,
            region=customer.region,
            industry=customer.industry,
            credit_limit=f"{customer.credit_limit:f}",
            tax_number=customer.tax_number,
            invoice_title=customer.invoice_title,
            address=customer.address,
            contacts=[
                ContactFields(
                    id=str(c.id), name=c.name, email=c.email, phone=c.phone, language=c.language
                )
                for c in customer.contacts
            ],
        )

    def change(self) -> CustomerChange:
        """The customer as entered; a contact row left blank is left out (and so removed)."""
        return CustomerChange(
            name=self.name.strip(),
            level=self.level,
            region=self.region.strip(),
            industry=self.industry.strip(),
            credit_limit=_decimal(self.credit_limit, 2),
            tax_number=self.tax_number.strip(),
            invoice_title=self.invoice_title.strip(),
            address=self.address.strip(),
            contacts=[row.change() for row in self.contacts if not row.is_blank()],
        )


# Products ---------------------------------------------------------------------------------------


@dataclass
class ProductFields:
    code: str = ""
    name: str = ""
    category: str = ""
    unit: str = "pcs"
    list_price: str = ""
    standard_cost: str = ""
    stock_on_hand: str = "0"
    needs_installation: bool = False
    active: bool = True
    # The stock figure the form showed: an edit must not overwrite a stock movement that the
    # warehouse made in the meantime.
    stock_on_hand_was: str = ""

    @classmethod
    def of(cls, product: Product) -> ProductFields:
        return cls(
            code=product.code,
            name=product.name,
            category=product.category,
            unit=product.unit,
            list_price=f"{product.list_price:f}",
            standard_cost=f"{product.standard_cost:f}",
            stock_on_hand=plain_number(product.stock_on_hand),
            needs_installation=product.needs_installation,
            active=product.active,
            stock_on_hand_was=plain_number(product.stock_on_hand),
        )

    def change(self) -> ProductChange:
        return ProductChange(
            code=self.code.strip(),
            name=self.name.strip(),
            category=self.category.strip(),
            unit=self.unit.strip(),
            list_price=_decimal(self.list_price, 2),
            standard_cost=_decimal(self.standard_cost, 2),
            stock_on_hand=_decimal(self.stock_on_hand, 3),
            needs_installation=self.needs_installation,
            active=self.active,
            stock_on_hand_was=_decimal(self.stock_on_hand_was, 3),
        )
