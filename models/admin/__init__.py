"""Administration: the rules and the SQL behind editing users, departments and master data.

Each `save_*` function takes the values a person entered (web.forms.admin reads them from the
form), checks every rule before it writes anything, and either commits the whole change or raises
`AdminRefusal` with a message for the person, leaving the database as it was. An id chosen from a
list is None when none was chosen; 0, which no row has, stands for a choice that named no row.

One module per thing administered (users, departments, customers, products, the outbox) over the
shared checks; everything is re-exported here, so `from models.admin import save_user` works as
before.
"""

from __future__ import annotations

from models.admin.checks import AdminRefusal, is_email, plain_number
from models.admin.customers import (
    CONTACT_LANGUAGES,
    CUSTOMER_LEVELS,
    ContactChange,
    ContactRefusal,
    CustomerChange,
    get_contact,
    get_customer,
    list_customers,
    save_contact,
    save_customer,
)
from models.admin.departments import (
    DepartmentChange,
    DepartmentRow,
    all_departments,
    get_department,
    list_departments,
    save_department,
)
from models.admin.outbox import (
    MAIL_PAGE_SIZE,
    OUTBOX_SORTS,
    OutboxPage,
    OutboxSearch,
    get_mail,
    list_outbox,
)
from models.admin.products import (
    ProductChange,
    StockMoved,
    get_product,
    list_products,
    save_product,
)
from models.admin.users import (
    MIN_PASSWORD_LENGTH,
    UserChange,
    UserRow,
    all_users,
    get_user,
    list_users,
    save_user,
    set_user_active,
)

__all__ = [
    "CONTACT_LANGUAGES",
    "CUSTOMER_LEVELS",
    "MAIL_PAGE_SIZE",
    "MIN_PASSWORD_LENGTH",
    "OUTBOX_SORTS",
    "AdminRefusal",
    "ContactChange",
    "ContactRefusal",
    "CustomerChange",
    "DepartmentChange",
    "DepartmentRow",
    "OutboxPage",
    "OutboxSearch",
    "ProductChange",
    "StockMoved",
    "UserChange",
    "UserRow",
    "all_departments",
    "all_users",
    "get_contact",
    "get_customer",
    "get_department",
    "get_mail",
    "get_product",
    "get_user",
    "is_email",
    "list_customers",
    "list_departments",
    "list_outbox",
    "list_products",
    "list_users",
    "plain_number",
    "save_contact",
    "save_customer",
    "save_department",
    "save_product",
    "save_user",
    "set_user_active",
]
