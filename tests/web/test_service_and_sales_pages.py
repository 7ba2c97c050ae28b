"""Issue 18, items 12 and 13, as people see them: the service engineer's acceptance to-do shows
the site's address and the customer's contact (page and API, English and Chinese, nobody out of
scope sees it), the approval page shows the payment plan being approved, and the new-order form
embeds what its running-total script needs (prices, the customer's exposure and limit, the
server's money format; no cost to a role that may not see costs), the script computing the
totals the server saves."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from models.tables import Contact, Customer, Order
from tests.web.test_fulfilment_api import fulfilment_order, open_todo
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.web.test_orders_api import order_body, todo_of
from tests.web.test_todos_api import estimated

SITE_ADDRESS = "No. 88 Zhangjiang Road, Pudong, Shanghai"
PHONE = "+86 21 5080 1234"
EMAIL = "li.wei@spm.example.com"


def text_of(page) -> str:
    return html.unescape(page.text)


def section(page_text: str, css_class: str) -> str:
    """The HTML of the first element carrying this class, up to its end tag."""
    match = re.search(
        rf'<(section|div|table|tfoot)[^>]*class="[^"]*\b{css_class}\b[^"]*".*?</\1>',
        page_text,
        re.S,
    )
    assert match, f"no .{css_class} on the page"
    return match.group(0)


async def site_on_file(session_factory, customer_id: int = 1) -> None:
    """The customer's site address and its contact's phone and e-mail, as the admin keeps them."""
    async with session_factory() as session:
        customer = await session.get(Customer, customer_id)
        customer.address = SITE_ADDRESS
        contact = await session.scalar(select(Contact).where(Contact.customer_id == customer_id))
        contact.name, contact.phone, contact.email = "Li Wei", PHONE, EMAIL
        await session.commit()


async def acceptance_todo(api, session_factory) -> tuple[str, int]:
    """An order of customer 1 that arrived, with service's open acceptance to-do."""
    await site_on_file(session_factory)
    shipment = await fulfilment_order(api, session_factory, status="arrived")
    todo_id = await open_todo(session_factory, shipment, "confirm_acceptance", "service")
    return shipment.number, todo_id


# --- item 12: the acceptance to-do ---------------------------------------------------------


async def test_a_service_engineer_sees_the_site_address_and_the_customer_contact_to_call(
    api, browser_session, session_factory
):
    _, todo_id = await acceptance_todo(api, session_factory)
    service = await browser_session("service")
    page = await service.get(f"/todos/{todo_id}")
    assert page.status_code == 200, page.text
    site = section(text_of(page), "site-facts")
    assert "Site and customer contact" in site and "Site address" in site
    assert SITE_ADDRESS in site and "Li Wei" in site
    assert f'href="tel:+862150801234">{PHONE}</a>' in site
    assert f'href="mailto:{EMAIL}">{EMAIL}</a>' in site
    assert 'value="accepted"' in page.text  # the form that confirms it is still there


@needs_catalog
async def test_the_acceptance_todo_shows_the_site_in_chinese(api, browser_session, session_factory):
    _, todo_id = await acceptance_todo(api, session_factory)
    service = await chinese_session(browser_session, "service")
    page = await service.get(f"/todos/{todo_id}")
    assert page.status_code == 200, page.text
    site = section(text_of(page), "site-facts")
    assert "现场地址与客户联系人" in site and "现场地址" in site and "客户联系人" in site
    assert SITE_ADDRESS in site and 'href="tel:+862150801234"' in site and EMAIL in site


async def test_the_api_gives_the_acceptance_todo_with_its_site(api, session_factory):
    number, todo_id = await acceptance_todo(api, session_factory)
    service = await api("service")
    response = await service.get(f"/api/v1/todos/{todo_id}")
    assert response.status_code == 200, response.text
    todo = response.json()
    assert (todo["kind"], todo["order_number"]) == ("confirm_acceptance", number)
    assert todo["site"] == {
        "address": SITE_ADDRESS,
        "contacts": [{"name": "Li Wei", "phone": PHONE, "email": EMAIL}],
    }


async def test_nobody_outside_the_orders_scope_sees_its_site(api, browser_session, session_factory):
    """Another rep's order (404, page and API); and for service, whose scope is the orders
    confirmed, a to-do of an order still in approval (404, page and API)."""
    _, todo_id = await acceptance_todo(api, session_factory)
    other_rep = await api("sales2")
    assert (await other_rep.get(f"/api/v1/todos/{todo_id}")).status_code == 404
    other_page = await (await browser_session("sales2")).get(f"/todos/{todo_id}")
    assert other_page.status_code == 404 and SITE_ADDRESS not in other_page.text

    in_approval = await fulfilment_order(api, session_factory, status=None)
    async with session_factory() as session:
        order = await session.get(Order, in_approval.order_id)
        order.stage, order.confirmed_at = "approval", None
        await session.commit()
    approve_id = await open_todo(session_factory, in_approval, "approve", "sales_manager")
    service = await api("service")
    assert (await service.get(f"/api/v1/todos/{approve_id}")).status_code == 404
    page = await (await browser_session("service")).get(f"/todos/{approve_id}")
    assert page.status_code == 404 and SITE_ADDRESS not in page.text


async def test_other_todos_carry_no_site(api, session_factory):
    await site_on_file(session_factory)
    shipment = await fulfilment_order(api, session_factory, status="in_transit")
    todo_id = await open_todo(session_factory, shipment, "confirm_arrival", "ops")
    todo = (await (await api("ops")).get(f"/api/v1/todos/{todo_id}")).json()
    assert todo["kind"] == "confirm_arrival" and todo["site"] is None


# --- item 13: the approval page shows the payment plan ------------------------------------

PLAN = [
    {"percent": "30", "trigger": "confirmation", "offset_days": 0},
    {"percent": "60", "trigger": "acceptance", "offset_days": 30},
    {"percent": "10", "trigger": "acceptance", "offset_days": 365},
]


async def approval_todo(api) -> int:
    """An order of 28,400.00 with a 30/60/10 plan, estimated: the manager's approve to-do."""
    sales = await api("sales")
    created = await sales.post("/api/v1/orders", json=order_body(payment_plan=PLAN))
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert (await sales.post(f"/api/v1/orders/{number}/submit")).status_code == 202
    await estimated(api, number)
    return (await todo_of(await api("sales_manager"), number, "approve"))["id"]


def plan_rows(page_text: str) -> list[list[str]]:
    table = section(page_text, "payment-plan")
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr class=\"installment\".*?</tr>", table, re.S)
    ]


async def test_the_approver_sees_the_payment_plan_they_approve(api, browser_session, worker):
    todo_id = await approval_todo(api)
    page = await (await browser_session("sales_manager")).get(f"/todos/{todo_id}")
    assert page.status_code == 200, page.text
    assert "Payment plan" in text_of(page)
    assert plan_rows(text_of(page)) == [
        ["1", "30 %", "on confirmation", "CN¥8,520.00"],
        ["2", "60 %", "on acceptance + 30 days", "CN¥17,040.00"],
        ["3", "10 %", "on acceptance + 365 days", "CN¥2,840.00"],
    ]


@needs_catalog
async def test_the_approver_sees_the_payment_plan_in_chinese(api, browser_session, worker):
    todo_id = await approval_todo(api)
    manager = await chinese_session(browser_session, "sales_manager")
    page = await manager.get(f"/todos/{todo_id}")
    assert page.status_code == 200, page.text
    assert "回款计划" in text_of(page)
    rows = plan_rows(text_of(page))
    assert [r[1] for r in rows] == ["30 %", "60 %", "10 %"]
    assert [r[3] for r in rows] == ["¥8,520.00", "¥17,040.00", "¥2,840.00"]
    assert "验收" in rows[1][2] and "30" in rows[1][2]
