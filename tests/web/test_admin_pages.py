"""The administration pages: users, departments, customers, products and the mail outbox, through
the real app over a seeded SQLite file. Every refusal answers 422, says why, and changes nothing."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select, update

from models.passwords import verify_password
from models.tables import Contact, Customer, Department, OutboxMail, Product, User
from tests.conftest import DEMO_PASSWORD
from tests.web.conftest import csrf_of

TABLES = {
    "users": User,
    "departments": Department,
    "customers": Customer,
    "contacts": Contact,
    "products": Product,
}


@pytest.fixture
async def admin(browser_session) -> httpx.AsyncClient:
    return await browser_session("admin")


async def post(client: httpx.AsyncClient, url: str, data: dict[str, str]) -> httpx.Response:
    """Submit a form the way a browser does: with the session's CSRF token."""
    token = csrf_of((await client.get("/profile")).text)
    return await client.post(url, data={"csrf_token": token, **data})


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def snapshot(session_factory, *models) -> list[list[tuple]]:
    async with session_factory() as session:
        return [
            [
                tuple(row)
                for row in await session.execute(
                    select(model.__table__).order_by(model.__table__.c.id)
                )
            ]
            for model in models
        ]


async def one(session_factory, model, **where):
    async with session_factory() as session:
        return await session.scalar(select(model).filter_by(**where))


async def id_of(session_factory, model, **where) -> int:
    found = await one(session_factory, model, **where)
    assert found is not None, where
    return found.id


async def assert_refused(response: httpx.Response, message: str, before, after) -> None:
    assert response.status_code == 422, response.text
    assert message in text_of(response)
    assert 'role="alert"' in response.text
    assert before == after


# Who may use the admin pages -------------------------------------------------------------------

ADMIN_PAGES = [
    "/admin/users",
    "/admin/users/new",
    "/admin/users/4",
    "/admin/departments",
    "/admin/departments/new",
    "/admin/departments/1",
    "/admin/customers",
    "/admin/customers/new",
    "/admin/customers/1",
    "/admin/products",
    "/admin/products/new",
    "/admin/products/1",
    "/admin/mail",
]
ADMIN_POSTS = [
    "/admin/users/new",
    "/admin/users/4",
    "/admin/users/4/deactivate",
    "/admin/users/4/activate",
    "/admin/departments/new",
    "/admin/departments/1",
    "/admin/customers/new",
    "/admin/customers/1",
    "/admin/products/new",
    "/admin/products/1",
]


@pytest.mark.parametrize("role", ["sales", "director", "finance"])
async def test_only_administrators_may_open_the_admin_pages(browser_session, role):
    client = await browser_session(role)
    for url in ADMIN_PAGES:
        response = await client.get(url)
        assert response.status_code == 403, url
        assert "This page is for administrators." in response.text


@pytest.mark.parametrize("role", ["sales", "director", "finance"])
async def test_only_administrators_may_change_users_and_master_data(
    browser_session, session_factory, role
):
    client = await browser_session(role)
    before = await snapshot(session_factory, *TABLES.values())
    for url in ADMIN_POSTS:
        response = await post(
            client,
            url,
            {
                "username": "intruder",
                "full_name": "Intruder",
                "email": "i@example.com",
                "role": "admin",
                "department_id": "1",
                "password": "long-enough",
                "active": "1",
                "name": "Intruders",
                "code": "X-1",
                "list_price": "1",
                "standard_cost": "1",
                "credit_limit": "0",
                "contacts-0-name": "I",
                "contacts-0-email": "i@example.com",
            },
        )
        assert response.status_code == 403, url
        assert "This page is for administrators." in response.text
    assert await snapshot(session_factory, *TABLES.values()) == before


async def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login_page(http):
    response = await http.get("/admin/users")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/users"


@pytest.mark.parametrize("token", [None, "forged-token"])
async def test_an_admin_form_posted_without_the_session_csrf_token_changes_nothing(
    admin, session_factory, token
):
    before = await snapshot(session_factory, *TABLES.values())
    data = {
        "username": "csrf",
        "full_name": "No Token",
        "email": "csrf@example.com",
        "role": "sales",
        "department_id": "2",
        "password": "long-enough",
        "active": "1",
    }
    if token:
        data["csrf_token"] = token
    for url in ("/admin/users/new", "/admin/users/4/deactivate", "/admin/products/new"):
        response = await admin.post(url, data=data)
        assert response.status_code == 403, url
        assert "This form has expired" in response.text
    assert await snapshot(session_factory, *TABLES.values()) == before


async def test_admin_home_leads_to_the_user_list(admin):
    response = await admin.get("/admin")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users"


# Users -----------------------------------------------------------------------------------------


def new_user(**overrides: str) -> dict[str, str]:
    form = {
        "username": "sales3",
        "full_name": "Xu Jing (Sales, East)",
        "email": "sales3@o2c.example.com",
        "role": "sales",
        "department_id": "2",
        "manager_id": "2",
        "active": "1",
        "password": "a-good-secret",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


async def test_user_list_shows_each_users_role_department_manager_and_state(admin):
    response = await admin.get("/admin/users")
    assert response.status_code == 200
    page = text_of(response)
    for expected in (
        "sales_manager2",
        "Wang Fang",
        "Sales rep",
        "East China office",
        "Li Na",
        "Deactivate",
    ):
        assert expected in page


async def test_admin_creates_a_user_who_can_then_sign_in_with_the_initial_password(
    admin, http, session_factory
):
    response = await post(admin, "/admin/users/new", new_user())
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users"
    assert "User sales3 is created." in text_of(await admin.get("/admin/users"))

    created = await one(session_factory, User, username="sales3")
    assert (created.full_name, created.email, created.role) == (
        "Xu Jing (Sales, East)",
        "sales3@o2c.example.com",
        "sales",
    )
    assert (created.department_id, created.manager_id, created.active) == (2, 2, True)
    assert created.password_hash != "a-good-secret"
    assert verify_password(created.password_hash, "a-good-secret")

    login = await http.get("/login")
    signed_in = await http.post(
        "/login",
        data={
            "username": "sales3",
            "password": "a-good-secret",
            "next": "/orders",
            "csrf_token": csrf_of(login.text),
        },
    )
    assert signed_in.status_code == 303


async def test_a_user_created_without_a_manager_reports_to_no_one(admin, session_factory):
    response = await post(admin, "/admin/users/new", new_user(manager_id=""))
    assert response.status_code == 303
    assert (await one(session_factory, User, username="sales3")).manager_id is None


async def test_editing_a_user_with_a_blank_password_keeps_the_old_password(admin, session_factory):
    sales_id = await id_of(session_factory, User, username="sales")
    before = await one(session_factory, User, username="sales")
    form = await admin.get(f"/admin/users/{sales_id}")
    assert 'value="sales"' in form.text and 'value="Wang Fang"' in form.text

    response = await post(
        admin,
        f"/admin/users/{sales_id}",
        new_user(
            username="sales",
            full_name="Wang Fang",
            email="wang.fang@o2c.example.com",
            role="follower",
            department_id="3",
            manager_id="3",
            password="",
        ),
    )
    assert response.status_code == 303

    after = await one(session_factory, User, id=sales_id)
    assert (after.full_name, after.email, after.role) == (
        "Wang Fang",
        "wang.fang@o2c.example.com",
        "follower",
    )
    assert (after.department_id, after.manager_id) == (3, 3)
    assert after.password_hash == before.password_hash
    assert verify_password(after.password_hash, DEMO_PASSWORD)


async def test_admin_sets_a_new_password_for_a_user(admin, session_factory):
    sales_id = await id_of(session_factory, User, username="sales")
    response = await post(
        admin, f"/admin/users/{sales_id}", new_user(username="sales", password="brand-new-secret")
    )
    assert response.status_code == 303
    after = await one(session_factory, User, id=sales_id)
    assert verify_password(after.password_hash, "brand-new-secret")
    assert not verify_password(after.password_hash, DEMO_PASSWORD)


async def test_a_deactivated_user_can_no_longer_sign_in_until_reactivated(
    admin, http, session_factory
):
    sales_id = await id_of(session_factory, User, username="sales")

    async def can_sign_in() -> bool:
        login = await http.get("/login")
        response = await http.post(
            "/login",
            data={
                "username": "sales",
                "password": DEMO_PASSWORD,
                "next": "/",
                "csrf_token": csrf_of(login.text),
            },
        )
        await http.post("/logout", data={"csrf_token": csrf_of(login.text)})
        return response.status_code == 303

    response = await post(admin, f"/admin/users/{sales_id}/deactivate", {})
    assert response.status_code == 303
    assert (await one(session_factory, User, id=sales_id)).active is False
    assert not await can_sign_in()
    assert "Activate" in (await admin.get("/admin/users")).text

    response = await post(admin, f"/admin/users/{sales_id}/activate", {})
    assert response.status_code == 303
    assert (await one(session_factory, User, id=sales_id)).active is True
    assert await can_sign_in()


async def test_unticking_active_on_the_edit_form_deactivates_the_user(admin, session_factory):
    sales_id = await id_of(session_factory, User, username="sales")
    response = await post(
        admin, f"/admin/users/{sales_id}", new_user(username="sales", active=None, password="")
    )
    assert response.status_code == 303
    assert (await one(session_factory, User, id=sales_id)).active is False


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": "  "}, "Enter a username."),
        ({"username": "sales"}, "The username sales is already taken."),
        ({"username": "SALES"}, "The username SALES is already taken."),
        ({"username": "two words"}, "A username has at most 50 characters and no spaces."),
        ({"full_name": ""}, "Enter the person's full name."),
        ({"email": "not-an-address"}, "Enter a valid e-mail address"),
        ({"email": "a@b"}, "Enter a valid e-mail address"),
        ({"email": ""}, "Enter a valid e-mail address"),
        ({"role": "emperor"}, "Choose a role from the list."),
        ({"department_id": "999"}, "Choose a department from the list."),
        ({"department_id": ""}, "Choose a department from the list."),
        ({"manager_id": "999"}, "Choose a manager from the list."),
        ({"password": "short"}, "The password needs at least 8 characters."),
        ({"password": ""}, "The password needs at least 8 characters."),
    ],
)
async def test_a_user_is_not_created_with_bad_fields(admin, session_factory, overrides, message):
    before = await snapshot(session_factory, User)
    response = await post(admin, "/admin/users/new", new_user(**overrides))
    await assert_refused(response, message, before, await snapshot(session_factory, User))
    # The form comes back with what was typed, except the password.
    assert 'value="Xu Jing (Sales, East)"' in response.text or overrides.get("full_name") == ""
    assert "a-good-secret" not in response.text


@pytest.mark.parametrize(
    ("who", "overrides", "message"),
    [
        ("sales", {"manager_id": "self"}, "A user cannot be their own manager."),
        (
            "sales_manager",
            {"manager_id": "sales"},
            "Wang Fang already reports to this user",
        ),
        ("sales", {"password": "short"}, "The password needs at least 8 characters."),
        ("sales", {"username": "finance"}, "The username finance is already taken."),
        ("admin", {"active": None}, "You cannot deactivate yourself."),
        ("admin", {"role": "director"}, "You cannot take away your own administrator role."),
    ],
)
async def test_a_user_edit_that_breaks_a_rule_changes_nothing(
    admin, session_factory, who, overrides, message
):
    account = await one(session_factory, User, username=who)
    if overrides.get("manager_id") == "self":
        overrides["manager_id"] = str(account.id)
    elif overrides.get("manager_id"):
        overrides["manager_id"] = str(
            await id_of(session_factory, User, username=overrides["manager_id"])
        )
    form = new_user(
        username=who,
        role=account.role,
        department_id=str(account.department_id),
        manager_id=str(account.manager_id or ""),
        password="",
    )
    form.update({k: v for k, v in overrides.items() if v is not None})
    for key in [k for k, v in overrides.items() if v is None]:
        form.pop(key)
    before = await snapshot(session_factory, User)
    response = await post(admin, f"/admin/users/{account.id}", form)
    await assert_refused(response, message, before, await snapshot(session_factory, User))


async def test_an_administrator_cannot_deactivate_themselves_from_the_list(admin, session_factory):
    admin_id = await id_of(session_factory, User, username="admin")
    before = await snapshot(session_factory, User)
    response = await post(admin, f"/admin/users/{admin_id}/deactivate", {})
    await assert_refused(
        response, "You cannot deactivate yourself.", before, await snapshot(session_factory, User)
    )


async def test_editing_an_unknown_user_is_not_found(admin):
    assert (await admin.get("/admin/users/999")).status_code == 404
    assert (await post(admin, "/admin/users/999", new_user())).status_code == 404


# Departments -----------------------------------------------------------------------------------


async def test_department_list_shows_the_tree_with_parents_and_managers(admin):
    response = await admin.get("/admin/departments")
    assert response.status_code == 200
    page = text_of(response)
    # Sub-departments follow their parent, before the next top-level department.
    assert page.index(">Sales<") < page.index("East China office") < page.index(">Service<")
    assert "Li Na" in page and "Zhou Wei" in page


async def test_admin_creates_a_department_under_a_parent_with_a_manager(admin, session_factory):
    manager_id = await id_of(session_factory, User, username="sales_manager")
    response = await post(
        admin,
        "/admin/departments/new",
        {"name": "South China office", "parent_id": "1", "manager_id": str(manager_id)},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/departments"
    created = await one(session_factory, Department, name="South China office")
    assert (created.parent_id, created.manager_id) == (1, manager_id)
    page = text_of(await admin.get("/admin/departments"))
    assert "Department South China office is created." in page
    tree = page[page.index("<tbody>") :]
    assert tree.index(">Sales<") < tree.index("South China office") < tree.index(">Service<")


async def test_admin_renames_and_moves_a_department(admin, session_factory):
    east = await id_of(session_factory, Department, name="East China office")
    intl = await id_of(session_factory, Department, name="International sales")
    response = await post(
        admin,
        f"/admin/departments/{east}",
        {"name": "Shanghai office", "parent_id": str(intl), "manager_id": ""},
    )
    assert response.status_code == 303
    moved = await one(session_factory, Department, id=east)
    assert (moved.name, moved.parent_id, moved.manager_id) == ("Shanghai office", intl, None)


async def test_a_department_can_become_top_level(admin, session_factory):
    east = await id_of(session_factory, Department, name="East China office")
    response = await post(
        admin,
        f"/admin/departments/{east}",
        {"name": "East China office", "parent_id": "", "manager_id": ""},
    )
    assert response.status_code == 303
    assert (await one(session_factory, Department, id=east)).parent_id is None


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": " "}, "Enter the department's name."),
        ({"name": "Finance"}, "There is already a department called Finance."),
        ({"name": "finance"}, "There is already a department called finance."),
        ({"name": "Logistics", "parent_id": "999"}, "Choose a parent department from the list."),
        ({"name": "Logistics", "manager_id": "999"}, "Choose a manager from the list."),
    ],
)
async def test_a_department_is_not_created_with_bad_fields(admin, session_factory, form, message):
    before = await snapshot(session_factory, Department)
    response = await post(
        admin, "/admin/departments/new", {"parent_id": "", "manager_id": "", **form}
    )
    await assert_refused(response, message, before, await snapshot(session_factory, Department))


@pytest.mark.parametrize(
    ("department", "parent"),
    [("Sales", "Sales"), ("Sales", "East China office"), ("Sales", "International sales")],
)
async def test_a_department_cannot_be_put_under_itself_or_its_own_sub_department(
    admin, session_factory, department, parent
):
    department_id = await id_of(session_factory, Department, name=department)
    parent_id = await id_of(session_factory, Department, name=parent)
    before = await snapshot(session_factory, Department)
    response = await post(
        admin,
        f"/admin/departments/{department_id}",
        {"name": department, "parent_id": str(parent_id), "manager_id": ""},
    )
    await assert_refused(
        response,
        "A department cannot sit under itself or one of its own sub-departments.",
        before,
        await snapshot(session_factory, Department),
    )


async def test_a_department_cannot_take_another_departments_name_when_renamed(
    admin, session_factory
):
    east = await id_of(session_factory, Department, name="East China office")
    before = await snapshot(session_factory, Department)
    response = await post(
        admin,
        f"/admin/departments/{east}",
        {"name": "North China office", "parent_id": "1", "manager_id": ""},
    )
    await assert_refused(
        response,
        "There is already a department called North China office.",
        before,
        await snapshot(session_factory, Department),
    )


# Customers -------------------------------------------------------------------------------------


def new_customer(**overrides: str) -> dict[str, str]:
    form = {
        "name": "Suzhou Textile Works",
        "level": "A",
        "region": "East China",
        "industry": "Textiles",
        "credit_limit": "1,250,000.50",
        "tax_number": "91320500MA1XX0009Q",
        "invoice_title": "Suzhou Textile Works Co., Ltd.",
        "address": "8 Loom Road, Suzhou",
        "contacts-0-id": "",
        "contacts-0-name": "Gao Yan",
        "contacts-0-email": "gao.yan@stw.example.com",
        "contacts-0-phone": "+86 512 0000 0001",
        "contacts-1-id": "",
        "contacts-1-name": "Fan Bo",
        "contacts-1-email": "fan.bo@stw.example.com",
        "contacts-1-phone": "",
        "contacts-2-id": "",
        "contacts-2-name": "",
        "contacts-2-email": "",
        "contacts-2-phone": "",
        "action": "save",
    }
    form.update(overrides)
    return form


async def contacts_of(session_factory, customer_id: int) -> list[tuple]:
    async with session_factory() as session:
        return [
            (c.id, c.name, c.email, c.phone)
            for c in await session.scalars(
                select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.id)
            )
        ]


async def test_customer_list_shows_level_region_credit_limit_and_contacts(admin):
    response = await admin.get("/admin/customers")
    assert response.status_code == 200
    page = text_of(response)
    assert "Shanghai Precision Machinery Co." in page
    assert "CN¥2,000,000.00" in page
    assert "Xu Ming <xu.ming@shpm.example.com>" in page


async def test_admin_creates_a_customer_with_its_contacts(admin, session_factory):
    response = await post(admin, "/admin/customers/new", new_customer())
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/customers"
    created = await one(session_factory, Customer, name="Suzhou Textile Works")
    assert (created.level, created.region, created.industry) == ("A", "East China", "Textiles")
    assert created.credit_limit == Decimal("1250000.50")
    assert (created.tax_number, created.invoice_title, created.address) == (
        "91320500MA1XX0009Q",
        "Suzhou Textile Works Co., Ltd.",
        "8 Loom Road, Suzhou",
    )
    contacts = await contacts_of(session_factory, created.id)
    assert [c[1:] for c in contacts] == [
        ("Gao Yan", "gao.yan@stw.example.com", "+86 512 0000 0001"),
        ("Fan Bo", "fan.bo@stw.example.com", ""),
    ]
    assert "Customer Suzhou Textile Works is saved." in text_of(await admin.get("/admin/customers"))


async def test_editing_a_customer_keeps_edited_contacts_removes_cleared_ones_and_adds_new(
    admin, session_factory
):
    await post(admin, "/admin/customers/new", new_customer())
    customer = await one(session_factory, Customer, name="Suzhou Textile Works")
    (gao_id, *_), (fan_id, *_) = await contacts_of(session_factory, customer.id)
    form = await admin.get(f"/admin/customers/{customer.id}")
    assert 'value="1250000.50"' in form.text and 'value="Gao Yan"' in form.text

    response = await post(
        admin,
        f"/admin/customers/{customer.id}",
        new_customer(
            **{
                "credit_limit": "0",
                "level": "C",
                "contacts-0-id": str(gao_id),
                "contacts-0-email": "yan.gao@stw.example.com",
                "contacts-1-id": str(fan_id),
                "contacts-1-name": "",
                "contacts-1-email": "",
                "contacts-2-name": "Lu Qing",
                "contacts-2-email": "lu.qing@stw.example.com",
            }
        ),
    )
    assert response.status_code == 303
    after = await one(session_factory, Customer, id=customer.id)
    assert (after.credit_limit, after.level) == (Decimal("0"), "C")
    contacts = await contacts_of(session_factory, customer.id)
    assert contacts[0] == (gao_id, "Gao Yan", "yan.gao@stw.example.com", "+86 512 0000 0001")
    assert [c[1] for c in contacts] == ["Gao Yan", "Lu Qing"]
    assert fan_id not in [c[0] for c in contacts]


async def test_more_contacts_adds_blank_rows_without_saving(admin, session_factory):
    before = await snapshot(session_factory, Customer, Contact)
    response = await post(admin, "/admin/customers/new", new_customer(action="add_contact"))
    assert response.status_code == 200
    assert 'name="contacts-5-name"' in response.text
    assert await snapshot(session_factory, Customer, Contact) == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "Enter the customer's name."),
        (
            {"name": "Tianjin Port Equipment"},
            "There is already a customer called Tianjin Port Equipment.",
        ),
        ({"credit_limit": "-1"}, "Enter the credit limit as an amount of 0 or more"),
        ({"credit_limit": "lots"}, "Enter the credit limit as an amount of 0 or more"),
        ({"credit_limit": ""}, "Enter the credit limit as an amount of 0 or more"),
        ({"credit_limit": "10.555"}, "Enter the credit limit as an amount of 0 or more"),
        ({"credit_limit": "NaN"}, "Enter the credit limit as an amount of 0 or more"),
        ({"level": "Z"}, "Choose a customer level from the list."),
        ({"contacts-1-email": "fan.bo at stw"}, "Enter a valid e-mail address for Fan Bo"),
        ({"contacts-1-email": ""}, "Enter a valid e-mail address for Fan Bo"),
        ({"contacts-1-name": ""}, "Every contact needs a name."),
        (
            {
                "contacts-0-name": "",
                "contacts-0-email": "",
                "contacts-0-phone": "",
                "contacts-1-name": "",
                "contacts-1-email": "",
            },
            "Add at least one contact with a name and an e-mail address.",
        ),
    ],
)
async def test_a_customer_is_not_created_with_bad_fields(
    admin, session_factory, overrides, message
):
    before = await snapshot(session_factory, Customer, Contact)
    response = await post(admin, "/admin/customers/new", new_customer(**overrides))
    await assert_refused(
        response, message, before, await snapshot(session_factory, Customer, Contact)
    )


async def test_a_customer_edit_with_a_bad_contact_changes_nothing(admin, session_factory):
    customer = await one(session_factory, Customer, name="Hangzhou Green Foods Ltd.")
    before = await snapshot(session_factory, Customer, Contact)
    response = await post(
        admin,
        f"/admin/customers/{customer.id}",
        new_customer(
            **{
                "name": "Hangzhou Green Foods Ltd.",
                "credit_limit": "900000",
                "contacts-0-id": "2",
                "contacts-0-name": "Yang Ling",
                "contacts-0-email": "broken@",
            }
        ),
    )
    await assert_refused(
        response,
        "Enter a valid e-mail address for Yang Ling",
        before,
        await snapshot(session_factory, Customer, Contact),
    )


# Products --------------------------------------------------------------------------------------


def new_product(**overrides: str | None) -> dict[str, str]:
    form = {
        "code": "GEAR-12",
        "name": "Gearbox GB-12",
        "category": "Components",
        "unit": "pcs",
        "list_price": "6,400.00",
        "standard_cost": "3900",
        "stock_on_hand": "40.5",
        "needs_installation": "1",
        "active": "1",
        "stock_on_hand_was": "",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


async def test_product_list_shows_stock_reserved_and_available(admin, session_factory):
    async with session_factory() as session:
        await session.execute(
            update(Product).where(Product.code == "PUMP-10").values(reserved=Decimal("20"))
        )
        await session.commit()
    response = await admin.get("/admin/products")
    assert response.status_code == 200
    page = text_of(response)
    row = page[page.index("PUMP-10") : page.index("</tr>", page.index("PUMP-10"))]
    for expected in (
        "Hydraulic pump HP-10",
        "Components",
        "CN¥8,500.00",
        "CN¥5,100.00",
        ">120<",
        ">20<",
        ">100<",
        ">No<",
        ">Yes<",
    ):
        assert expected in row, expected


async def test_admin_creates_a_product(admin, session_factory):
    response = await post(admin, "/admin/products/new", new_product())
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/products"
    created = await one(session_factory, Product, code="GEAR-12")
    assert (created.name, created.category, created.unit) == ("Gearbox GB-12", "Components", "pcs")
    assert (created.list_price, created.standard_cost) == (Decimal("6400.00"), Decimal("3900"))
    assert (created.stock_on_hand, created.reserved) == (Decimal("40.5"), Decimal("0"))
    assert (created.needs_installation, created.active) == (True, True)
    assert "Product GEAR-12 is saved." in text_of(await admin.get("/admin/products"))


async def test_admin_edits_a_products_price_and_stock_and_retires_it(admin, session_factory):
    pump = await one(session_factory, Product, code="PUMP-10")
    form = await admin.get(f"/admin/products/{pump.id}")
    assert 'name="stock_on_hand_was" value="120"' in form.text
    response = await post(
        admin,
        f"/admin/products/{pump.id}",
        new_product(
            code="PUMP-10",
            name="Hydraulic pump HP-10 (2027)",
            list_price="8800",
            standard_cost="5200.50",
            stock_on_hand="95",
            stock_on_hand_was="120",
            needs_installation=None,
            active=None,
        ),
    )
    assert response.status_code == 303
    after = await one(session_factory, Product, id=pump.id)
    assert (after.name, after.list_price, after.standard_cost) == (
        "Hydraulic pump HP-10 (2027)",
        Decimal("8800"),
        Decimal("5200.50"),
    )
    assert after.stock_on_hand == Decimal("95")
    assert (after.needs_installation, after.active) == (False, False)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": ""}, "Enter the product code."),
        ({"code": "PUMP-10"}, "There is already a product with code PUMP-10."),
        ({"code": "pump-10"}, "There is already a product with code pump-10."),
        ({"name": ""}, "Enter the product's name."),
        ({"list_price": "0"}, "Enter the list price as an amount above 0"),
        ({"list_price": "-5"}, "Enter the list price as an amount above 0"),
        ({"list_price": "cheap"}, "Enter the list price as an amount above 0"),
        ({"standard_cost": "0"}, "Enter the standard cost as an amount above 0"),
        ({"standard_cost": "1e3x"}, "Enter the standard cost as an amount above 0"),
        ({"stock_on_hand": "-1"}, "Enter the stock on hand as a quantity of 0 or more"),
        ({"stock_on_hand": "many"}, "Enter the stock on hand as a quantity of 0 or more"),
    ],
)
async def test_a_product_is_not_created_with_bad_fields(admin, session_factory, overrides, message):
    before = await snapshot(session_factory, Product)
    response = await post(admin, "/admin/products/new", new_product(**overrides))
    await assert_refused(response, message, before, await snapshot(session_factory, Product))


async def test_stock_on_hand_cannot_drop_below_what_confirmed_orders_reserved(
    admin, session_factory
):
    async with session_factory() as session:
        await session.execute(
            update(Product).where(Product.code == "CNC-200").values(reserved=Decimal("4"))
        )
        await session.commit()
    cnc = await one(session_factory, Product, code="CNC-200")
    before = await snapshot(session_factory, Product)
    response = await post(
        admin,
        f"/admin/products/{cnc.id}",
        new_product(code="CNC-200", name=cnc.name, stock_on_hand="3", stock_on_hand_was="6"),
    )
    await assert_refused(
        response,
        "cannot be less than the 4 already reserved",
        before,
        await snapshot(session_factory, Product),
    )


async def test_a_product_edit_does_not_overwrite_a_stock_movement_made_meanwhile(
    admin, session_factory
):
    valve = await one(session_factory, Product, code="VALVE-3")
    await admin.get(f"/admin/products/{valve.id}")  # the form shows 800
    async with session_factory() as session:  # the warehouse dispatches 50 meanwhile
        await session.execute(
            update(Product).where(Product.id == valve.id).values(stock_on_hand=Decimal("750"))
        )
        await session.commit()
    before = await snapshot(session_factory, Product)
    response = await post(
        admin,
        f"/admin/products/{valve.id}",
        new_product(
            code="VALVE-3",
            name=valve.name,
            list_price="1300",
            stock_on_hand="800",
            stock_on_hand_was="800",
        ),
    )
    await assert_refused(
        response,
        "The stock of this product changed while you were editing.",
        before,
        await snapshot(session_factory, Product),
    )
    # The form now carries the current figure, so saving again is a knowing overwrite.
    assert 'name="stock_on_hand_was" value="750"' in response.text


# The mail outbox -------------------------------------------------------------------------------


async def test_outbox_lists_newest_mail_first_fifty_to_a_page(admin, session_factory):
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    async with session_factory() as session:
        for n in range(55):
            session.add(
                OutboxMail(
                    key=f"test/{n}",
                    to_address=f"person{n}@example.com",
                    subject=f"Mail number {n}",
                    body=f"Body of mail {n}",
                    created_at=start + timedelta(minutes=n),
                    sent_at=start + timedelta(minutes=n, seconds=5) if n % 2 else None,
                )
            )
        await session.commit()

    first = text_of(await admin.get("/admin/mail"))
    assert first.index("Mail number 54") < first.index("Mail number 53")
    assert "Mail number 5<" in first and "Mail number 4<" not in first
    assert "person54@example.com" in first
    assert "kept in the outbox" in first
    assert "Page 1 of 2 · 55 mails" in first

    second = text_of(await admin.get("/admin/mail?page=2"))
    assert "Mail number 4<" in second and "Mail number 0<" in second
    assert "Mail number 5<" not in second


async def test_a_mail_in_the_outbox_shows_its_body(admin, session_factory):
    async with session_factory() as session:
        mail = OutboxMail(
            key="test/body",
            to_address="li.na@o2c.example.com",
            subject="Order SO-2026-00042 waits for your approval",
            body="Please approve <order> SO-2026-00042.\nTotal: 28,400.00",
            created_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        )
        session.add(mail)
        await session.commit()
        mail_id = mail.id
    response = await admin.get(f"/admin/mail/{mail_id}")
    assert response.status_code == 200
    assert "Please approve &lt;order&gt; SO-2026-00042." in response.text  # escaped, not markup
    page = text_of(response)
    assert "li.na@o2c.example.com" in page and "kept in the outbox" in page
    assert (await admin.get("/admin/mail/999999")).status_code == 404


async def test_an_empty_outbox_says_so(admin):
    response = await admin.get("/admin/mail")
    assert response.status_code == 200
    assert "The outbox is empty." in response.text
