"""Issue 18, items 12 and 13, as people see them: the service engineer's acceptance to-do shows
the site's address and the customer's contact (page and API, English and Chinese, nobody out of
scope sees it), the approval page shows the payment plan being approved, and the new-order form
embeds what its running-total script needs (prices, the customer's exposure and limit, the
server's money format; no cost to a role that may not see costs), the script computing the
totals the server saves."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.tables import Contact, Customer, Order
from settings import ROOT
from tests.web.conftest import csrf_of
from tests.web.test_fulfilment_api import fulfilment_order, open_todo
from tests.web.test_i18n import chinese_session, needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.web.test_orders_api import DELIVERY, PUMP, VALVE, order_body, todo_of
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


# --- item 13: the new-order form's running figures -----------------------------------------

NODE = shutil.which("node")
SCRIPT = ROOT / "web" / "static" / "order_form.js"


def embedded_figures(page_text: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="order-form-figures">(.*?)</script>', page_text, re.S
    )
    assert match, "the form embeds no figures"
    return json.loads(match.group(1))


async def test_the_new_order_form_embeds_what_its_running_total_needs(browser_session):
    page = await (await browser_session("sales")).get("/orders/new")
    assert page.status_code == 200, page.text
    assert '<script src="/static/order_form.js" defer></script>' in page.text
    # Without the script the form is the plain form: its figures stay hidden.
    assert '<tfoot class="running-total" hidden>' in page.text
    assert 'id="order-figures" hidden' in page.text
    figures = embedded_figures(page.text)
    assert figures["products"][str(PUMP)] == {"list_price": "8500.00"}
    assert figures["customers"]["1"] == {"exposure": "0", "credit_limit": "2000000.00"}
    assert figures["formats"]["money"] == {
        "prefix": "CN¥",
        "suffix": "",
        "group": ",",
        "decimal": ".",
    }
    assert figures["formats"]["negative_money"]["prefix"] == "-CN¥"
    assert figures["formats"]["percent"]["suffix"] == " %"
    assert figures["texts"]["over_limit"].startswith("Over the customer's credit limit")
    assert (await (await browser_session("sales")).get("/static/order_form.js")).status_code == 200


async def test_a_sales_rep_gets_no_cost_in_the_form_and_a_sales_manager_a_margin_hint(
    browser_session,
):
    rep = (await (await browser_session("sales")).get("/orders/new")).text
    rep_figures = embedded_figures(rep)
    assert rep_figures["sees_costs"] is False
    assert all("standard_cost" not in p for p in rep_figures["products"].values())
    assert "5100" not in rep and "margin-hint" not in rep
    manager = (await (await browser_session("sales_manager")).get("/orders/new")).text
    manager_figures = embedded_figures(manager)
    assert manager_figures["sees_costs"] is True
    assert manager_figures["products"][str(PUMP)]["standard_cost"] == "5100.00"
    assert 'class="margin-hint"' in manager and "Margin at standard cost" in manager


@needs_catalog
async def test_the_form_writes_figures_the_chinese_way_in_chinese(browser_session):
    sales = await chinese_session(browser_session, "sales")
    page = await sales.get("/orders/new")
    figures = embedded_figures(page.text)
    assert figures["formats"]["money"]["prefix"] == "¥"
    assert figures["texts"]["over_limit"] == "超出客户信用额度 %(limit)s 共 %(over)s。"
    assert "整单价格调整前" in text_of(page) and "客户占用额度 / 信用额度" in text_of(page)


async def test_the_customers_exposure_counts_its_confirmed_open_orders(
    api, browser_session, session_factory
):
    """Confirmed, open orders of the customer count; drafts and closed ones do not."""
    sales = await api("sales")
    numbers = [
        (await sales.post("/api/v1/orders", json=order_body())).json()["number"] for _ in range(3)
    ]
    async with session_factory() as session:
        orders = list(await session.scalars(select(Order).where(Order.number.in_(numbers))))
        for order, stage in zip(orders, ("fulfilment", "closed", "draft"), strict=True):
            order.stage = stage
        await session.commit()
    page = await (await browser_session("sales")).get("/orders/new")
    assert embedded_figures(page.text)["customers"]["1"]["exposure"] == "28400.00"


def script_figures(figures: dict, typed: dict) -> dict:
    """What order_form.js computes for a form as typed (run by node)."""
    program = (
        f"const {{orderFigures}} = require({json.dumps(str(SCRIPT))});"
        f"const r = orderFigures({json.dumps(typed)}, {json.dumps(figures)});"
        "console.log(JSON.stringify(r, (k, v) => typeof v === 'bigint' ? v.toString() : v));"
    )
    done = subprocess.run([NODE, "-e", program], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def in_cents(amount: str) -> str:
    return str(int(Decimal(amount) * 100))


TYPED_CASES = [
    # two lines with their own discounts, then a whole-order discount
    {
        "lines": [
            {
                "product_id": str(PUMP),
                "quantity": "3",
                "unit_price": "8,333.33",
                "discount_percent": "2.5",
            },
            {
                "product_id": str(VALVE),
                "quantity": "7",
                "unit_price": "",
                "discount_percent": "12.125",
            },
        ],
        "adjustment": "discount",
        "order_discount_percent": "3.5",
        "target_total": "",
        "customer_id": "1",
    },
    # a target total spread over the lines, the remainder on the largest
    {
        "lines": [
            {"product_id": str(PUMP), "quantity": "2", "unit_price": "", "discount_percent": ""},
            {"product_id": str(VALVE), "quantity": "10", "unit_price": "", "discount_percent": "5"},
        ],
        "adjustment": "target",
        "order_discount_percent": "",
        "target_total": "25000.01",
        "customer_id": "1",
    },
]


@pytest.mark.skipif(NODE is None, reason="node is not installed: the script runs in browsers only")
@pytest.mark.parametrize("typed", TYPED_CASES, ids=["whole-order discount", "target total"])
async def test_the_script_computes_the_totals_the_server_saves(api, browser_session, typed):
    sales = await browser_session("sales")
    form = await sales.get("/orders/new")
    computed = script_figures(embedded_figures(form.text), typed)
    fields = {
        "csrf_token": csrf_of(form.text),
        "action": "save",
        "customer_id": typed["customer_id"],
        "shipping_mode": "domestic",
        "requested_delivery_date": DELIVERY,
        "adjustment": typed["adjustment"],
        "order_discount_percent": typed["order_discount_percent"],
        "target_total": typed["target_total"],
        **{
            f"lines-{i}-{name}": value
            for i, line in enumerate(typed["lines"])
            for name, value in line.items()
        },
    }
    saved = await sales.post("/orders/new", data=fields)
    assert saved.status_code == 303, saved.text
    number = saved.headers["location"].rsplit("/", 1)[1]
    order = (await (await api("sales")).get(f"/api/v1/orders/{number}")).json()
    assert computed["lines"] == [in_cents(ln["amount"]) for ln in order["lines"]]
    assert computed["total"] == in_cents(order["total"])
    assert computed["listTotal"] == in_cents(order["list_total"])
    assert computed["subtotal"] == in_cents(order["before_order_discount"])


async def test_the_order_page_shows_the_whole_order_discount_under_the_lines(api, browser_session):
    sales = await api("sales")
    created = await sales.post("/api/v1/orders", json=order_body(order_discount_percent="5"))
    number = created.json()["number"]
    page = await (await browser_session("sales")).get(f"/orders/{number}")
    footer = section(text_of(page), "whole-order-price")
    rows = [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)
        ]
        for r in re.findall(r"<tr.*?</tr>", footer, re.S)
    ]
    assert rows == [
        ["Before the whole-order price", "CN¥28,400.00"],
        ["Whole-order discount 5 %", "-CN¥1,420.00"],
        ["Total (each amount above includes its share)", "CN¥26,980.00"],
    ]
    plain = await sales.post("/api/v1/orders", json=order_body())
    page = await (await browser_session("sales")).get(f"/orders/{plain.json()['number']}")
    assert "whole-order-price" not in page.text  # nothing to say without one
